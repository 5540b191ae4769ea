#include <sidecar/auth/token_state.hpp>

#include <sidecar/core/clock.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;
using namespace std::chrono_literals;

namespace {
const core::manual_clock clock_source;
const core::time_point t0 = clock_source.now();
}  // namespace

TEST_CASE("token_state: expiry is issue time plus TTL", "[auth]") {
  const auth::token_state token{.issued = t0, .ttl = 60s, .renewable = true};
  CHECK(auth::expiry(token) == t0 + 60s);
}

TEST_CASE("token_state: a token without a TTL never expires", "[auth]") {
  const auth::token_state token{.issued = t0, .ttl = 0s, .renewable = false};
  CHECK(auth::expiry(token) == core::time_point::max());
}

TEST_CASE("token_state: only a renewable token with a TTL below its max is renewed", "[auth]") {
  CHECK(auth::should_renew({.issued = t0, .ttl = 60s, .renewable = true}));
  CHECK_FALSE(auth::should_renew({.issued = t0, .ttl = 60s, .renewable = false}));
  CHECK_FALSE(auth::should_renew({.issued = t0, .ttl = 0s, .renewable = true}));
  CHECK_FALSE(
      auth::should_renew({.issued = t0, .ttl = 60s, .renewable = true, .max_ttl_reached = true}));
}
