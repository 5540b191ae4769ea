#include <sidecar/auth/wrapping_check.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;
using nlohmann::json;

namespace {
constexpr const char* expected = "auth/approle/role/myapp/secret-id";
}

TEST_CASE("wrapping_refusal: a token made by the configured path may be unwrapped", "[auth]") {
  const json data{{"creation_path", expected},
                  {"creation_time", "2026-12-07T12:00:00Z"},
                  {"creation_ttl", 120}};
  CHECK_FALSE(auth::wrapping_refusal(data, expected).has_value());
}

TEST_CASE("wrapping_refusal: any other creation_path is an attack, named with both paths",
          "[auth]") {
  const auto other = auth::wrapping_refusal(json{{"creation_path", "sys/wrapping/wrap"}}, expected);
  REQUIRE(other.has_value());
  CHECK(*other ==
        "the wrapping token was created by sys/wrapping/wrap, not "
        "auth/approle/role/myapp/secret-id: it was substituted (a possible attack), so it is "
        "not unwrapped");
  // Another role's secret-id, or a prefix of the path, is just as wrong.
  CHECK(
      auth::wrapping_refusal(json{{"creation_path", "auth/approle/role/other/secret-id"}}, expected)
          .has_value());
  CHECK(auth::wrapping_refusal(json{{"creation_path", "auth/approle/role/myapp"}}, expected)
            .has_value());
}

TEST_CASE("wrapping_refusal: a lookup without a creation_path is refused", "[auth]") {
  CHECK(auth::wrapping_refusal(json{}, expected).has_value());
  CHECK(auth::wrapping_refusal(json{{"creation_path", 7}}, expected).has_value());
  CHECK(auth::wrapping_refusal(json::array(), expected).has_value());
}
