#include <sidecar/auth/ttl_capped.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;
using namespace std::chrono_literals;

TEST_CASE("ttl_capped: a renewal that restores the full TTL is not capped", "[auth]") {
  CHECK_FALSE(auth::ttl_capped(12s, 60s, {}));
  CHECK_FALSE(auth::ttl_capped(12s, 13s, {}));
}

TEST_CASE("ttl_capped: Vault's capping warning marks the max TTL", "[auth]") {
  // sdk/framework/lease.go, both the TTL and the period wording, old and new duration style.
  CHECK(auth::ttl_capped(12s, 52s,
                         {R"(TTL of "1m" exceeded the effective max_ttl of "52s"; TTL value is )"
                          "capped accordingly"}));
  CHECK(auth::ttl_capped(12s, 40s,
                         {R"(period of "1m0s" exceeded the effective max_ttl of "40s"; period )"
                          "value is capped accordingly"}));
}

TEST_CASE("ttl_capped: other warnings do not mark the max TTL", "[auth]") {
  CHECK_FALSE(auth::ttl_capped(12s, 60s, {R"(Policy "web" does not exist)"}));
}

TEST_CASE("ttl_capped: an expiry that no longer moves marks the max TTL without a warning",
          "[auth]") {
  CHECK(auth::ttl_capped(10400ms, 10s, {}));
  CHECK(auth::ttl_capped(10s, 10s, {}));
  CHECK(auth::ttl_capped(10s, 0s, {}));
}

TEST_CASE("ttl_capped: a lowered role TTL that still extends the token is not capped", "[auth]") {
  // token_ttl changed from 60 s to 30 s by an operator: the token still renews, at 30 s.
  CHECK_FALSE(auth::ttl_capped(12s, 30s, {}));
}
