#include <sidecar/vault/address.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace sidecar;

TEST_CASE("parse_address: https with a port", "[vault]") {
  const auto parsed = vault::parse_address("https://vault.example.com:8200");
  REQUIRE(parsed.has_value());
  CHECK(parsed->tls);
  CHECK(parsed->host == "vault.example.com");
  CHECK(parsed->port == 8200);
  CHECK(parsed->host_header == "vault.example.com:8200");
}

TEST_CASE("parse_address: default ports stay out of the Host header", "[vault]") {
  const auto https = vault::parse_address("https://vault.example.com/");
  REQUIRE(https.has_value());
  CHECK(https->port == 443);
  CHECK(https->host_header == "vault.example.com");

  const auto http = vault::parse_address("HTTP://127.0.0.1");
  REQUIRE(http.has_value());
  CHECK_FALSE(http->tls);
  CHECK(http->port == 80);
  CHECK(http->host_header == "127.0.0.1");

  const auto explicit_default = vault::parse_address("http://127.0.0.1:80");
  REQUIRE(explicit_default.has_value());
  CHECK(explicit_default->host_header == "127.0.0.1");
}

TEST_CASE("parse_address: IPv6 literal is unbracketed for connecting, bracketed in Host",
          "[vault]") {
  const auto parsed = vault::parse_address("https://[::1]:8200");
  REQUIRE(parsed.has_value());
  CHECK(parsed->host == "::1");
  CHECK(parsed->port == 8200);
  CHECK(parsed->host_header == "[::1]:8200");
}

TEST_CASE("parse_address: refuses what does not name a server", "[vault]") {
  const char* const bad[] = {
      "",
      "vault.example.com:8200",      // no scheme
      "ftp://vault.example.com",     // wrong scheme
      "unix:///run/vault.sock",      // wrong scheme
      "https://",                    // no host
      "https://:8200",               // no host
      "https://vault:0",             // port out of range
      "https://vault:65536",         // port out of range
      "https://vault:12ab",          // not a number
      "https://vault:",              // empty port
      "https://user:pw@vault:8200",  // user info
      "https://vault:8200/v1",       // a path
      "https://vault:8200/?x=1",     // a query
      "https://vault:8200/#top",     // a fragment
      "https://vault 1:8200",        // not a URL
  };
  for (const char* text : bad) {
    INFO("address \"" << text << "\"");
    const auto parsed = vault::parse_address(text);
    CHECK_FALSE(parsed.has_value());
    if (!parsed.has_value()) CHECK_FALSE(parsed.error().empty());
  }
}
