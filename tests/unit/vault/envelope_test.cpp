#include <sidecar/vault/envelope.hpp>

#include <sidecar/core/json_depth.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;

namespace {

vault::response answer(unsigned status, std::string body) {
  return {.status = status,
          .content_type = "application/json",
          .body = core::secret_string{std::move(body)},
          .headers = {}};
}

}  // namespace

TEST_CASE("classify: tells invalid token from a plain permission denied", "[vault]") {
  using vault::errc;
  CHECK(vault::classify(403, {"1 error occurred:\n\t* permission denied\n\n"}) ==
        errc::permission_denied);
  CHECK(
      vault::classify(403, {"2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"}) ==
      errc::invalid_token);
  CHECK(vault::classify(400, {"invalid role or secret ID"}) == errc::bad_request);
  CHECK(vault::classify(404, {}) == errc::not_found);
  CHECK(vault::classify(429, {}) == errc::rate_limited);
  CHECK(vault::classify(503, {"Vault is sealed"}) == errc::sealed);
  CHECK(vault::classify(503, {"standby"}) == errc::server_error);
  CHECK(vault::classify(500, {}) == errc::server_error);
  CHECK(vault::classify(307, {}) == errc::unexpected_status);
}

TEST_CASE("parse_envelope: a login answer yields the auth object", "[vault]") {
  const auto parsed = vault::parse_envelope(answer(200, R"({
    "auth": {"renewable": true, "lease_duration": 1200, "metadata": null,
             "token_policies": ["default"], "policies": ["default"],
             "accessor": "fd6c9a00", "client_token": "hvs.abc"},
    "warnings": null, "wrap_info": null, "data": null,
    "lease_duration": 0, "renewable": false, "lease_id": ""})"));
  REQUIRE(parsed.has_value());
  REQUIRE(parsed->auth.has_value());
  CHECK(parsed->auth->client_token.reveal() == "hvs.abc");
  CHECK(parsed->auth->lease_duration == 1200);
  CHECK(parsed->auth->renewable);
  CHECK(parsed->auth->policies == std::vector<std::string>{"default"});
  CHECK(parsed->data.is_null());
}

TEST_CASE("parse_envelope: database creds keep lease fields and data", "[vault]") {
  const auto parsed = vault::parse_envelope(answer(200, R"({"request_id":"r1",
    "lease_id":"database/creds/my-role/abc","renewable":true,"lease_duration":3600,
    "data":{"username":"u","password":"p"},"wrap_info":null,"warnings":["w1"],"auth":null})"));
  REQUIRE(parsed.has_value());
  CHECK(parsed->lease_id == "database/creds/my-role/abc");
  CHECK(parsed->lease_duration == 3600);
  CHECK(parsed->renewable);
  CHECK(parsed->data["username"] == "u");
  CHECK(parsed->warnings == std::vector<std::string>{"w1"});
  CHECK_FALSE(parsed->auth.has_value());
}

TEST_CASE("parse_envelope: error statuses and bad bodies become errors", "[vault]") {
  CHECK(vault::parse_envelope(answer(403, R"({"errors":["permission denied"]})")).error() ==
        vault::errc::permission_denied);
  CHECK(vault::parse_envelope(answer(200, "<html>")).error() == vault::errc::malformed_response);
  CHECK(vault::parse_envelope(answer(200, "[1,2]")).error() == vault::errc::malformed_response);
  CHECK(vault::parse_envelope(answer(200, R"({"auth":{"client_token":""}})")).error() ==
        vault::errc::malformed_response);
  CHECK(vault::parse_envelope(answer(204, "")).has_value());
}

// Found by tests/fuzz/vault_response_fuzzer: 1e300 was converted to long long (undefined), and
// a TTL of 9e18 s overflowed the token's schedule (seconds to nanoseconds).
TEST_CASE("parse_envelope: a lease_duration that is no lease duration is malformed", "[vault]") {
  for (const char* duration :
       {"1e300", "-1e300", "-1", "1.5", "9000000000000000000", "18446744073709551615", "3153600001",
        R"("3600")", "true", "[]", "{}"}) {
    INFO("lease_duration " << duration);
    const std::string lease = std::string{R"({"lease_duration":)"} + duration + "}";
    CHECK(vault::parse_envelope(answer(200, lease)).error() == vault::errc::malformed_response);
    const std::string login =
        std::string{R"({"auth":{"client_token":"t","lease_duration":)"} + duration + "}}";
    CHECK(vault::parse_envelope(answer(200, login)).error() == vault::errc::malformed_response);
  }
}

TEST_CASE("parse_envelope: lease_duration from zero to a century is taken as sent", "[vault]") {
  CHECK(vault::parse_envelope(answer(200, R"({"lease_duration":0})"))->lease_duration == 0);
  const auto longest = vault::parse_envelope(answer(200, R"({"lease_duration":3153600000})"));
  REQUIRE(longest.has_value());
  CHECK(longest->lease_duration == vault::max_lease_duration);
  // Absent or null: no lease.
  CHECK(vault::parse_envelope(answer(200, R"({"lease_duration":null})"))->lease_duration == 0);
  CHECK(vault::parse_envelope(answer(200, R"({"renewable":false})"))->lease_duration == 0);
  const auto login =
      vault::parse_envelope(answer(200, R"({"auth":{"client_token":"t","lease_duration":60}})"));
  REQUIRE(login.has_value());
  CHECK(login->auth->lease_duration == 60);
}

// Found by tests/fuzz/vault_response_fuzzer: the walks over a parsed answer recurse per level.
TEST_CASE("parse_envelope: an answer nesting deeper than max_json_depth is malformed", "[vault]") {
  const auto nested = [](std::size_t depth) {
    return R"({"errors":["e"],"data":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
  };
  CHECK(vault::parse_envelope(answer(200, nested(core::max_json_depth - 1))).has_value());
  CHECK(vault::parse_envelope(answer(200, nested(core::max_json_depth))).error() ==
        vault::errc::malformed_response);
  CHECK(vault::parse_envelope(answer(200, nested(50000))).error() ==
        vault::errc::malformed_response);
  CHECK(vault::parse_error(answer(500, nested(core::max_json_depth - 1))).messages.size() == 1);
  CHECK(vault::parse_error(answer(500, nested(50000))).messages.empty());
}

TEST_CASE("vault_error: summary folds Vault's multi-line messages into one line", "[vault]") {
  const auto error = vault::parse_error(answer(
      403, R"({"errors":["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"]})"));
  CHECK(error.summary() == "403: 2 errors occurred: * permission denied * invalid token");
  CHECK(vault::parse_error(answer(502, "not json")).messages.empty());
}

TEST_CASE("says_invalid_token: only a 403 naming invalid token is the token's failure", "[vault]") {
  CHECK(vault::says_invalid_token(403, R"({"errors":["permission denied","invalid token"]})"));
  CHECK_FALSE(
      vault::says_invalid_token(403, R"({"errors":["1 error occurred: permission denied"]})"));
  CHECK_FALSE(vault::says_invalid_token(400, R"({"errors":["invalid token"]})"));
  CHECK_FALSE(vault::says_invalid_token(200, R"({"data":{"note":"invalid token"}})"));
}
