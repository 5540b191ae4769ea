#include <sidecar/testing/wire.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;
using namespace sidecar::testing;
using namespace std::chrono_literals;

TEST_CASE("wire: human_duration trims zero units like Vault", "[vault_double]") {
  CHECK(human_duration(0) == "0s");
  CHECK(human_duration(45) == "45s");
  CHECK(human_duration(90) == "1m30s");
  CHECK(human_duration(300) == "5m");
  CHECK(human_duration(3600) == "1h");
  CHECK(human_duration(3660) == "1h1m");
  CHECK(human_duration(3601) == "1h1s");
  CHECK(human_duration(2764800) == "768h");
}

TEST_CASE("wire: parse_duration takes seconds and Go duration strings", "[vault_double]") {
  CHECK(parse_duration(90) == 90);
  CHECK(parse_duration("90") == 90);
  CHECK(parse_duration("90s") == 90);
  CHECK(parse_duration("1h30m") == 5400);
  CHECK(parse_duration("1500ms") == 1);
  CHECK_FALSE(parse_duration("soon").has_value());
  CHECK_FALSE(parse_duration("-5s").has_value());
  CHECK_FALSE(parse_duration(nlohmann::json::array()).has_value());
}

TEST_CASE("wire: calculate_ttl uses the increment, else the backend TTL", "[vault_double]") {
  core::manual_clock clock;
  const auto t0 = clock.now();
  CHECK(calculate_ttl(600, 3600, 0, 7200, t0, t0).ttl == 600);
  CHECK(calculate_ttl(0, 3600, 0, 7200, t0, t0).ttl == 3600);
  CHECK(calculate_ttl(0, 0, 0, 0, t0, t0).ttl == system_max_ttl);
  CHECK(calculate_ttl(0, 3600, 0, 7200, t0, t0).warnings.empty());
}

TEST_CASE("wire: calculate_ttl caps at what is left of the max TTL with Vault's warning",
          "[vault_double]") {
  core::manual_clock clock;
  const auto t0 = clock.now();
  const auto capped = calculate_ttl(3600, 3600, 0, 7200, t0, t0 + 5000s);
  CHECK(capped.ttl == 2200);
  REQUIRE(capped.warnings.size() == 1);
  CHECK(capped.warnings[0] ==
        "TTL of \"1h\" exceeded the effective max_ttl of \"36m40s\"; TTL value is capped "
        "accordingly");
  CHECK_FALSE(capped.past_max);

  const auto past = calculate_ttl(0, 3600, 0, 7200, t0, t0 + 7200s);
  CHECK(past.past_max);
}

TEST_CASE("wire: calculate_ttl gives a period token its period without a max", "[vault_double]") {
  core::manual_clock clock;
  const auto t0 = clock.now();
  const auto renewed = calculate_ttl(0, 3600, 600, 7200, t0, t0 + 100000s);
  CHECK(renewed.ttl == 600);
  CHECK_FALSE(renewed.past_max);
  const auto too_long = calculate_ttl(0, 0, 10000, 7200, t0, t0);
  CHECK(too_long.ttl == 7200);
  REQUIRE(too_long.warnings.size() == 1);
  CHECK(too_long.warnings[0] ==
        "period of \"2h46m40s\" exceeded the effective max_ttl of \"2h\"; period value is capped "
        "accordingly");
}

TEST_CASE("wire: rfc3339 prints UTC with trimmed nanoseconds", "[vault_double]") {
  core::manual_clock clock;
  CHECK(rfc3339(clock.wall_now()) == "2026-01-01T00:00:00Z");
  clock.advance(1500ms);
  CHECK(rfc3339(clock.wall_now()) == "2026-01-01T00:00:01.5Z");
  CHECK(rfc3339(to_wall(clock, clock.now() + 3600s)) == "2026-01-01T01:00:01.5Z");
}

TEST_CASE("wire: multierror and the 403 bodies match Vault's text", "[vault_double]") {
  CHECK(multierror({"permission denied"}) == "1 error occurred:\n\t* permission denied\n\n");
  CHECK(invalid_token().body.dump() ==
        R"({"errors":["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"]})");
  CHECK(permission_denied().status == 403);
  CHECK(not_found().body.dump() == R"({"errors":[]})");
}

TEST_CASE("wire: operation maps HTTP verbs to Vault operations", "[vault_double]") {
  vault_request request;
  request.method = "GET";
  CHECK(request.operation() == "read");
  request.query["list"] = "true";
  CHECK(request.operation() == "list");
  request.method = "LIST";
  CHECK(request.operation() == "list");
  request.method = "PUT";
  CHECK(request.operation() == "update");
  request.method = "PATCH";
  CHECK(request.operation() == "patch");
  request.method = "DELETE";
  CHECK(request.operation() == "delete");
  request.method = "OPTIONS";
  CHECK(request.operation().empty());
}

TEST_CASE("wire: random ids have Vault's shapes", "[vault_double]") {
  const auto uuid = random_uuid();
  CHECK(uuid.size() == 36);
  CHECK(uuid[14] == '4');
  CHECK(random_base62(24).size() == 24);
  CHECK(random_base62(24) != random_base62(24));
  CHECK(url_decode("a%2Fb+c") == "a/b c");
}
