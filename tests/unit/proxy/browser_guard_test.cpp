#include <sidecar/proxy/browser_guard.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>

using namespace sidecar::proxy;

namespace {

browser_signals from(std::optional<std::string_view> host,
                     std::optional<std::string_view> origin = std::nullopt,
                     std::optional<std::string_view> fetch_site = std::nullopt,
                     std::string_view method = "GET") {
  return browser_signals{.method = method,
                         .version = 11,
                         .host = host,
                         .origin = origin,
                         .sec_fetch_site = fetch_site,
                         .repeated = false};
}

unsigned status_on_tcp(const browser_signals& request) {
  const auto refusal = check_browser_guards(request, false);
  return refusal ? refusal->status : 0;
}

unsigned status_on_unix(const browser_signals& request) {
  const auto refusal = check_browser_guards(request, true);
  return refusal ? refusal->status : 0;
}

}  // namespace

TEST_CASE("browser_guard: loopback hosts pass, with or without a port, in any case", "[proxy]") {
  for (const std::string_view host :
       {"127.0.0.1", "127.0.0.1:8100", "localhost", "LocalHost:8100", "LOCALHOST", "[::1]",
        "[::1]:8100", "127.0.0.1:1", "localhost:65535"}) {
    INFO(host);
    CHECK(loopback_host(host));
    CHECK(status_on_tcp(from(host)) == 0);
  }
}

TEST_CASE("browser_guard: any other Host is 403 on TCP (DNS rebinding)", "[proxy]") {
  for (const std::string_view host :
       {"attacker.example", "attacker.example:8100", "127.0.0.2", "127.1", "localhost.",
        "localhost.attacker.example", "127.0.0.1.nip.io", "127.0.0.1:", "127.0.0.1:123456",
        "127.0.0.1:80x", "[::1", "::1", "[::2]", "0.0.0.0", "", " localhost", "localhost ",
        "xlocalhost", "127.0.0.1@attacker.example"}) {
    INFO('"' << host << '"');
    CHECK_FALSE(loopback_host(host));
    const auto refusal = check_browser_guards(from(host), false);
    REQUIRE(refusal);
    CHECK(refusal->status == 403);
    CHECK(std::string{refusal->reason}.find("Host") != std::string::npos);
  }
}

TEST_CASE("browser_guard: on the unix socket any Host is accepted", "[proxy]") {
  CHECK(status_on_unix(from("attacker.example")) == 0);
  CHECK(status_on_unix(from("localhost")) == 0);
  CHECK(status_on_unix(from("")) == 0);
}

TEST_CASE("browser_guard: Host missing from HTTP/1.1, or repeated, is 400", "[proxy]") {
  CHECK(status_on_tcp(from(std::nullopt)) == 400);
  CHECK(status_on_unix(from(std::nullopt)) == 400);
  auto http10 = from(std::nullopt);
  http10.version = 10;
  CHECK(status_on_tcp(http10) == 0);  // no browser speaks HTTP/1.0 without a Host
  auto twice = from("127.0.0.1");
  twice.repeated = true;
  CHECK(status_on_tcp(twice) == 400);
  CHECK(status_on_unix(twice) == 400);
}

TEST_CASE("browser_guard: Sec-Fetch-Site other than none or same-origin is 403", "[proxy]") {
  CHECK(status_on_tcp(from("127.0.0.1", std::nullopt, "none")) == 0);
  CHECK(status_on_tcp(from("127.0.0.1", std::nullopt, "same-origin")) == 0);
  for (const std::string_view site : {"cross-site", "same-site", "", "None", "same-origin "}) {
    INFO('"' << site << '"');
    CHECK(status_on_tcp(from("127.0.0.1", std::nullopt, site)) == 403);
    CHECK(status_on_unix(from("anything", std::nullopt, site)) == 403);
  }
}

TEST_CASE("browser_guard: an Origin that is not loopback is 403", "[proxy]") {
  for (const std::string_view origin :
       {"http://127.0.0.1", "http://127.0.0.1:8100", "http://localhost", "http://LOCALHOST:3000",
        "http://[::1]", "http://[::1]:8100", "HTTP://localhost"}) {
    INFO(origin);
    CHECK(loopback_origin(origin));
    CHECK(status_on_tcp(from("127.0.0.1", origin)) == 0);
  }
  for (const std::string_view origin :
       {"null", "", "http://attacker.example", "https://localhost", "http://localhost/",
        "http://localhost.attacker.example", "http://127.0.0.1:8100/x", "file://",
        "http://127.0.0.2", "localhost", "http://"}) {
    INFO('"' << origin << '"');
    CHECK_FALSE(loopback_origin(origin));
    CHECK(status_on_tcp(from("127.0.0.1", origin)) == 403);
    CHECK(status_on_unix(from("127.0.0.1", origin)) == 403);
  }
}

TEST_CASE("browser_guard: OPTIONS is 405 with an Allow header, after the 403 guards", "[proxy]") {
  const auto preflight =
      check_browser_guards(from("127.0.0.1", std::nullopt, std::nullopt, "OPTIONS"), false);
  REQUIRE(preflight);
  CHECK(preflight->status == 405);
  CHECK_FALSE(preflight->allow.empty());
  CHECK(status_on_unix(from("x", std::nullopt, std::nullopt, "OPTIONS")) == 405);
  // A real preflight from a page carries its Origin: refused for that first.
  CHECK(status_on_tcp(from("127.0.0.1", "http://attacker.example", std::nullopt, "OPTIONS")) ==
        403);
  CHECK(status_on_tcp(from("attacker.example", std::nullopt, std::nullopt, "OPTIONS")) == 403);
}

TEST_CASE("browser_guard: the guards hold whatever the method", "[proxy]") {
  for (const std::string_view method : {"GET", "HEAD", "POST", "PUT", "DELETE", "LIST"}) {
    INFO(method);
    CHECK(status_on_tcp(from("127.0.0.1", std::nullopt, std::nullopt, method)) == 0);
    CHECK(status_on_tcp(from("evil.example", std::nullopt, std::nullopt, method)) == 403);
    CHECK(status_on_tcp(from("127.0.0.1", "null", std::nullopt, method)) == 403);
    CHECK(status_on_tcp(from("127.0.0.1", std::nullopt, "cross-site", method)) == 403);
  }
}
