#include <sidecar/proxy/errc.hpp>
#include <sidecar/proxy/target.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace sidecar::proxy;

namespace {

std::string path_of(std::string_view target) {
  auto normalised = normalise_target(target);
  REQUIRE(normalised.has_value());
  return normalised->path;
}

boost::system::error_code error_of(std::string_view target) {
  auto normalised = normalise_target(target);
  REQUIRE_FALSE(normalised.has_value());
  return normalised.error();
}

}  // namespace

TEST_CASE("normalise_target: origin-form paths pass unchanged", "[proxy]") {
  const auto t = normalise_target("/v1/kv-demo/data/app?version=2&x=%20y");
  REQUIRE(t.has_value());
  CHECK(t->path == "/v1/kv-demo/data/app");
  CHECK(t->query == "version=2&x=%20y");
  CHECK(t->upstream_target() == "/v1/kv-demo/data/app?version=2&x=%20y");
}

TEST_CASE("normalise_target: absolute-form keeps only path and query", "[proxy]") {
  const auto t = normalise_target("http://127.0.0.1:8100/v1/kv-demo/data/app?version=1");
  REQUIRE(t.has_value());
  CHECK(t->path == "/v1/kv-demo/data/app");
  CHECK(t->query == "version=1");
  CHECK(path_of("HTTPS://user@host/v1/x") == "/v1/x");
  CHECK(path_of("http://host") == "/");
  CHECK(normalise_target("http://host?a=b")->query == "a=b");
}

TEST_CASE("normalise_target: slashes collapse and dot segments resolve", "[proxy]") {
  CHECK(path_of("//v1///kv-demo//data/x") == "/v1/kv-demo/data/x");
  CHECK(path_of("/v1/./kv-demo/./data/x") == "/v1/kv-demo/data/x");
  CHECK(path_of("/v1/kv-demo/data/y/../x") == "/v1/kv-demo/data/x");
  CHECK(path_of("/v1/kv-demo/metadata/") == "/v1/kv-demo/metadata/");
  CHECK(path_of("/v1/kv-demo/metadata/x/..") == "/v1/kv-demo/metadata/");
  CHECK(path_of("/v1/kv-demo/metadata/.") == "/v1/kv-demo/metadata/");
  CHECK(path_of("/") == "/");
  CHECK(path_of("/a/..") == "/");
  CHECK(path_of("/v1/...") == "/v1/...");  // three dots is a name, not a dot segment
  CHECK(path_of("/v1/..x") == "/v1/..x");
}

TEST_CASE("normalise_target: percent-decoding happens once, before dot resolution", "[proxy]") {
  CHECK(path_of("/v1/kv-demo%2fdata%2Fx") == "/v1/kv-demo/data/x");
  CHECK(path_of("/v1/kv-demo/%2e%2e/sys") == "/v1/sys");
  CHECK(path_of("/v1/kv-demo/.%2E/sys") == "/v1/sys");
  CHECK(path_of("/v1/kv-demo/x%2f..%2f..%2fsys") == "/v1/sys");
  CHECK(path_of("/v1/kv-%64emo/data/%41") == "/v1/kv-demo/data/A");
}

TEST_CASE("normalise_target: a double-encoded target stays encoded", "[proxy]") {
  const auto t = normalise_target("/v1/kv-demo/%252e%252e/sys");
  REQUIRE(t.has_value());
  CHECK(t->path == "/v1/kv-demo/%2e%2e/sys");  // a literal segment, not a dot segment
  CHECK(t->upstream_target() == "/v1/kv-demo/%252e%252e/sys");
  CHECK(path_of("/v1/kv-demo/data/100%25") == "/v1/kv-demo/data/100%");
  CHECK(path_of("/v1/kv-demo/%252f") == "/v1/kv-demo/%2f");
}

TEST_CASE("normalise_target: upstream target re-encodes what decoding produced", "[proxy]") {
  const auto t = normalise_target("/v1/kv-demo/data/a%20b%3Fc%23d%C3%A9%7B?q=1");
  REQUIRE(t.has_value());
  CHECK(t->path == "/v1/kv-demo/data/a b?c#d\xC3\xA9{");
  CHECK(t->upstream_target() == "/v1/kv-demo/data/a%20b%3Fc%23d%C3%A9%7B?q=1");
  // Sub-delims, ':' and '@' are plain path characters and go out as they came.
  CHECK(normalise_target("/v1/kv-demo/a:b@c!$&'()*+,;=-._~")->upstream_target() ==
        "/v1/kv-demo/a:b@c!$&'()*+,;=-._~");
}

TEST_CASE("normalise_target: upstream target normalises to the same path", "[proxy]") {
  for (const auto* raw : {"/v1/kv-demo/%252e%252e/x", "/v1/kv-demo/a%25b", "/v1/kv-demo/%3f%23",
                          "/v1/kv-demo/sp%20ace/", "/v1/kv-demo/%C3%A9", "/v1/kv-demo/%2525"}) {
    const auto once = normalise_target(raw);
    REQUIRE(once.has_value());
    const auto twice = normalise_target(once->upstream_target());
    REQUIRE(twice.has_value());
    CHECK(twice->path == once->path);
  }
}

TEST_CASE("normalise_target: refuses hostile bytes and forms with the right error", "[proxy]") {
  using E = errc;
  CHECK(error_of(std::string_view{"/v1/kv-demo/a\0b", 14}) == E::invalid_character);
  CHECK(error_of("/v1/kv-demo/a%00b") == E::invalid_character);
  CHECK(error_of("/v1/kv-demo/a%0Ab") == E::invalid_character);
  CHECK(error_of("/v1/kv-demo/a%7fb") == E::invalid_character);
  CHECK(error_of("/v1/kv-demo/a\tb") == E::invalid_character);
  CHECK(error_of("/v1/kv-demo/a b") == E::invalid_character);
  CHECK(error_of("/v1/kv-demo/caf\xC3\xA9") == E::invalid_character);
  CHECK(error_of("/v1/kv-demo/x#frag") == E::invalid_character);
  CHECK(error_of("/v1/kv-demo/x?q=\x01") == E::invalid_character);
  CHECK(error_of("/v1/kv-demo/%zz") == E::invalid_percent_encoding);
  CHECK(error_of("/v1/kv-demo/%4") == E::invalid_percent_encoding);
  CHECK(error_of("/v1/kv-demo/%") == E::invalid_percent_encoding);
  CHECK(error_of("/v1/kv-demo/x?a=%g1") == E::invalid_percent_encoding);
  CHECK(error_of("/v1/kv-demo/x?a=%") == E::invalid_percent_encoding);
  CHECK(error_of("/v1/kv-demo\\..\\sys") == E::backslash_in_path);
  CHECK(error_of("/v1/kv-demo%5c..%5Csys") == E::backslash_in_path);
  CHECK(error_of("/..") == E::above_root);
  CHECK(error_of("/v1/../../etc/passwd") == E::above_root);
  CHECK(error_of("/v1/%2e%2e/%2e%2e/x") == E::above_root);
  CHECK(error_of("") == E::unsupported_target_form);
  CHECK(error_of("*") == E::unsupported_target_form);
  CHECK(error_of("vault.example:8200") == E::unsupported_target_form);
  CHECK(error_of("v1/kv-demo/x") == E::unsupported_target_form);
  CHECK(error_of("ftp://host/v1/kv-demo/x") == E::unsupported_target_form);
}

TEST_CASE("normalise_target: the length limit is exactly max_target_length", "[proxy]") {
  const std::string prefix = "/v1/kv-demo/";
  const auto at_limit = prefix + std::string(max_target_length - prefix.size(), 'a');
  CHECK(normalise_target(at_limit).has_value());
  CHECK(error_of(at_limit + "a") == errc::target_too_long);
}
