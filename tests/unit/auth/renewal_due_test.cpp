#include <sidecar/auth/renewal_due.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;
using namespace std::chrono_literals;

namespace {
const core::manual_clock clock_source;
const core::time_point t0 = clock_source.now();
}  // namespace

TEST_CASE("renewal_due: 4/5 of a 60 s token is 48 s after issue", "[auth]") {
  const auth::token_state token{.issued = t0, .ttl = 60s, .renewable = true};
  CHECK(auth::renewal_due(token, 0.8) == t0 + 48s);
}

TEST_CASE("renewal_due: follows renew_at and the last renewal", "[auth]") {
  const auth::token_state token{.issued = t0 + 100s, .ttl = 2s, .renewable = true};
  CHECK(auth::renewal_due(token, 0.8) == t0 + 101600ms);
  CHECK(auth::renewal_due(token, 0.5) == t0 + 101s);
  const auth::token_state day{.issued = t0, .ttl = 24h, .renewable = true};
  CHECK(auth::renewal_due(day, 0.8) == t0 + 69120s);
}

TEST_CASE("renewal_due: never for a token that cannot or need not be renewed", "[auth]") {
  CHECK(auth::renewal_due({.issued = t0, .ttl = 60s, .renewable = false}, 0.8) ==
        core::time_point::max());
  CHECK(auth::renewal_due({.issued = t0, .ttl = 0s, .renewable = true}, 0.8) ==
        core::time_point::max());
  CHECK(auth::renewal_due({.issued = t0, .ttl = 60s, .renewable = true, .max_ttl_reached = true},
                          0.8) == core::time_point::max());
}
