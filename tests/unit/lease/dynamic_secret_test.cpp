#include <sidecar/lease/dynamic_secret.hpp>

#include <sidecar/core/json_depth.hpp>
#include <sidecar/vault/errc.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace sidecar;

TEST_CASE("is_dynamic_path: only mount/creds/role is dynamic", "[lease]") {
  CHECK(lease::is_dynamic_path("database/creds/myapp-role"));
  CHECK(lease::is_dynamic_path("pg-prod/creds/reader"));
  CHECK_FALSE(lease::is_dynamic_path("kv-demo/data/sample"));
  CHECK_FALSE(lease::is_dynamic_path("database/creds/"));
  CHECK_FALSE(lease::is_dynamic_path("database/creds/role/extra"));
  CHECK_FALSE(lease::is_dynamic_path("creds/role"));
  CHECK_FALSE(lease::is_dynamic_path("database"));
}

namespace {

vault::response answer(unsigned status, std::string body) {
  return {.status = status,
          .content_type = "application/json",
          .body = core::secret_string{std::move(body)},
          .headers = {}};
}

constexpr const char* creds_body =
    R"({"request_id":"r-1","lease_id":"database/creds/app/abc","renewable":true,)"
    R"("lease_duration":3600,"data":{"username":"v-app-1","password":"s3cr3t"},)"
    R"("wrap_info":null,"warnings":null,"auth":null,"mount_type":"database"})";

}  // namespace

TEST_CASE("dynamic_secret: parse keeps the lease fields", "[lease]") {
  const auto secret = lease::dynamic_secret::parse(answer(200, creds_body));
  REQUIRE(secret.has_value());
  CHECK(secret->lease_id() == "database/creds/app/abc");
  CHECK(secret->renewable());
  CHECK(secret->lease_duration() == 3600);
  CHECK(secret->data()["username"] == "v-app-1");
  CHECK(secret->data()["password"] == "s3cr3t");
}

TEST_CASE("dynamic_secret: render is Vault's envelope with only lease_duration changed",
          "[lease]") {
  const auto secret = lease::dynamic_secret::parse(answer(200, creds_body));
  REQUIRE(secret.has_value());
  const auto rendered = secret->render(2879);
  std::string expected = creds_body;
  expected.replace(expected.find("3600"), 4, "2879");
  CHECK(rendered.reveal() == expected);
  // The rendered body is a secret: it never prints.
  CHECK(fmt::format("{}", rendered) == "***");
}

TEST_CASE("dynamic_secret: an error status becomes its vault errc", "[lease]") {
  const auto refused = lease::dynamic_secret::parse(
      answer(403, R"({"errors":["1 error occurred:\n\t* permission denied\n\n"]})"));
  REQUIRE(refused.has_error());
  CHECK(refused.error() == vault::errc::permission_denied);
  const auto sealed =
      lease::dynamic_secret::parse(answer(503, R"({"errors":["Vault is sealed"]})"));
  REQUIRE(sealed.has_error());
  CHECK(sealed.error() == vault::errc::sealed);
}

TEST_CASE("dynamic_secret: a body without a data object is malformed", "[lease]") {
  for (const char* body : {"not json", "[]", R"({"lease_id":"x","lease_duration":10})",
                           R"({"lease_id":"x","lease_duration":10,"data":null})"}) {
    const auto parsed = lease::dynamic_secret::parse(answer(200, body));
    REQUIRE(parsed.has_error());
    CHECK(parsed.error() == vault::errc::malformed_response);
  }
}

// Found by tests/fuzz/vault_response_fuzzer: 1e300 was converted to long long (undefined).
TEST_CASE("dynamic_secret: a lease_duration that is no lease duration is malformed", "[lease]") {
  for (const char* duration : {"1e300", "-1", "2.5", "9000000000000000000", R"("60")", "true"}) {
    INFO("lease_duration " << duration);
    const auto body =
        fmt::format(R"({{"lease_id":"x","lease_duration":{},"data":{{"u":"v"}}}})", duration);
    const auto parsed = lease::dynamic_secret::parse(answer(200, body));
    REQUIRE(parsed.has_error());
    CHECK(parsed.error() == vault::errc::malformed_response);
  }
  const auto longest = lease::dynamic_secret::parse(
      answer(200, R"({"lease_id":"x","lease_duration":3153600000,"data":{"u":"v"}})"));
  REQUIRE(longest.has_value());
  CHECK(longest->lease_duration() == 3153600000);
}

// Found by tests/fuzz/vault_response_fuzzer: dump() of the data recursed once per level.
TEST_CASE("dynamic_secret: a body nesting deeper than max_json_depth is malformed", "[lease]") {
  const auto nested = [](std::size_t depth) {
    return R"({"lease_id":"x","lease_duration":10,"data":{"k":)" + std::string(depth, '[') +
           std::string(depth, ']') + "}}";
  };
  CHECK(lease::dynamic_secret::parse(answer(200, nested(core::max_json_depth - 2))).has_value());
  const auto deep = lease::dynamic_secret::parse(answer(200, nested(50000)));
  REQUIRE(deep.has_error());
  CHECK(deep.error() == vault::errc::malformed_response);
}
