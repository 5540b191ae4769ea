#include <sidecar/app/entry.hpp>
#include <sidecar/app/health_command.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "fake_sidecar.hpp"

using namespace sidecar;
using namespace std::chrono_literals;
using testing::fake_sidecar;
using testing::http_answer;

namespace {

config::listener_config listener(std::string address, std::string unix_socket = {}) {
  config::listener_config config;
  config.address = std::move(address);
  config.unix_socket = std::move(unix_socket);
  return config;
}

app::health_target target_of(const config::listener_config& config) {
  auto found = app::find_health_target(config);
  REQUIRE(std::holds_alternative<app::health_target>(found));
  return std::get<app::health_target>(found);
}

std::string error_of(const config::listener_config& config) {
  auto found = app::find_health_target(config);
  REQUIRE(std::holds_alternative<app::health_target_error>(found));
  return std::get<app::health_target_error>(found).message;
}

struct outcome {
  int code;
  std::string out;
  std::string err;
};

outcome probe(const app::health_target& target, std::chrono::milliseconds deadline = 2s) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = app::probe_health(target, deadline, out, err);
  return {code, out.str(), err.str()};
}

const tcp::endpoint loopback_any{net::ip::make_address("127.0.0.1"), 0};

}  // namespace

TEST_CASE("find_health_target: the TCP listener first, else the unix socket", "[app]") {
  CHECK(std::get<tcp::endpoint>(target_of(listener("127.0.0.1:8100", "/run/s.sock"))) ==
        tcp::endpoint{net::ip::make_address("127.0.0.1"), 8100});
  CHECK(std::get<tcp::endpoint>(target_of(listener("localhost:9000"))) ==
        tcp::endpoint{net::ip::make_address("127.0.0.1"), 9000});
  CHECK(std::get<tcp::endpoint>(target_of(listener("[::1]:8100"))) ==
        tcp::endpoint{net::ip::make_address("::1"), 8100});
  CHECK(std::get<std::string>(target_of(listener("", "/run/s.sock"))) == "/run/s.sock");
}

TEST_CASE("find_health_target: nothing to ask is explained", "[app]") {
  CHECK(error_of(listener("", "")) == "[listener] has neither an address nor a unix_socket");
  CHECK(error_of(listener("127.0.0.1")) == "[listener] address \"127.0.0.1\" is not host:port");
  CHECK(error_of(listener("127.0.0.1:0")) == "[listener] address \"127.0.0.1:0\" is not host:port");
  CHECK(error_of(listener("127.0.0.1:http")) ==
        "[listener] address \"127.0.0.1:http\" is not host:port");
  CHECK(error_of(listener("vault:8100")) == "[listener] address \"vault:8100\" is not host:port");
}

TEST_CASE("describe_target: host:port, [v6]:port or unix:path", "[app]") {
  CHECK(app::describe_target(tcp::endpoint{net::ip::make_address("127.0.0.1"), 8100}) ==
        "127.0.0.1:8100");
  CHECK(app::describe_target(tcp::endpoint{net::ip::make_address("::1"), 81}) == "[::1]:81");
  CHECK(app::describe_target(std::string{"/run/s.sock"}) == "unix:/run/s.sock");
}

TEST_CASE("probe_health: 200 exits 0 and prints the JSON", "[app]") {
  fake_sidecar<tcp> server{loopback_any, http_answer(200, R"({"status":"ready"})")};
  const auto result = probe(server.endpoint());
  CHECK(result.code == 0);
  CHECK(result.out == "{\"status\":\"ready\"}\n");
  CHECK(result.err.empty());
  const auto request = server.request();
  CHECK(request.starts_with("GET /sidecar/v1/health HTTP/1.1\r\n"));
  CHECK(request.find("User-Agent: vault-sidecar/") != std::string::npos);
}

TEST_CASE("probe_health: 503 exits 1 with the JSON and the status", "[app]") {
  fake_sidecar<tcp> server{loopback_any, http_answer(503, R"({"status":"starting"})")};
  const auto result = probe(server.endpoint());
  CHECK(result.code == 1);
  CHECK(result.out == "{\"status\":\"starting\"}\n");
  CHECK(result.err.find("answered 503") != std::string::npos);
}

TEST_CASE("probe_health: over a unix socket", "[app]") {
  static std::atomic<int> counter{0};
  const auto path =
      std::filesystem::temp_directory_path() /
      ("sidecar-health-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".sock");
  std::filesystem::remove(path);
  {
    fake_sidecar<net::local::stream_protocol> server{
        net::local::stream_protocol::endpoint{path.string()}, http_answer(200, "{}")};
    const auto result = probe(path.string());
    CHECK(result.code == 0);
    CHECK(result.out == "{}\n");
  }
  std::filesystem::remove(path);
}

TEST_CASE("probe_health: nobody listening exits 1 with the reason", "[app]") {
  tcp::endpoint closed;
  {
    net::io_context io;
    tcp::acceptor probe_port{io, loopback_any};
    closed = probe_port.local_endpoint();
  }  // the port is free again: connections are refused
  const auto result = probe(closed);
  CHECK(result.code == 1);
  CHECK(result.out.empty());
  CHECK(result.err.starts_with("vault-sidecar health: " + app::describe_target(closed) + ": "));
}

TEST_CASE("probe_health: a listener that never answers exits 1 at the deadline", "[app]") {
  fake_sidecar<tcp> server{loopback_any, ""};
  const auto started = std::chrono::steady_clock::now();
  const auto result = probe(server.endpoint(), 300ms);
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(result.code == 1);
  CHECK(took >= 250ms);
  CHECK(took < 10s);
}

TEST_CASE("run_program: health of a missing file exits 1", "[app]") {
  std::ostringstream out;
  std::ostringstream err;
  const config::env_lookup no_env = [](std::string_view) { return std::optional<std::string>{}; };
  const std::vector<std::string_view> arguments{"health", "--config", "/nonexistent/s.ini"};
  CHECK(app::run_program(arguments, no_env, out, err) == 1);
  CHECK(err.str().find("/nonexistent/s.ini: cannot read:") != std::string::npos);
}
