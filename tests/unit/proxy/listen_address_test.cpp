#include <sidecar/proxy/listen_address.hpp>

#include <sidecar/proxy/errc.hpp>

#include <catch2/catch.hpp>

using sidecar::proxy::errc;
using sidecar::proxy::loopback_endpoint;

TEST_CASE("loopback_endpoint: loopback hosts give their endpoint", "[proxy]") {
  const auto v4 = loopback_endpoint("127.0.0.1:8100");
  REQUIRE(v4.has_value());
  CHECK(v4->port() == 8100);
  CHECK(v4->address().to_string() == "127.0.0.1");
  CHECK(loopback_endpoint("localhost:9000")->address().to_string() == "127.0.0.1");
  CHECK(loopback_endpoint("[::1]:8100")->address().is_loopback());
  CHECK(loopback_endpoint("127.0.0.53:1")->port() == 1);
}

TEST_CASE("loopback_endpoint: other hosts and bad text are refused", "[proxy]") {
  CHECK(loopback_endpoint("0.0.0.0:8100").error() == errc::not_loopback);
  CHECK(loopback_endpoint("10.0.0.1:8100").error() == errc::not_loopback);
  CHECK(loopback_endpoint("[::]:8100").error() == errc::not_loopback);
  CHECK(loopback_endpoint("127.0.0.1").error() == errc::invalid_listen_address);
  CHECK(loopback_endpoint("127.0.0.1:http").error() == errc::invalid_listen_address);
  CHECK(loopback_endpoint("127.0.0.1:99999").error() == errc::invalid_listen_address);
  CHECK(loopback_endpoint("example.com:80").error() == errc::invalid_listen_address);
}
