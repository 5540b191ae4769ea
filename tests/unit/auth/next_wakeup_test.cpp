#include <sidecar/auth/next_wakeup.hpp>

#include <sidecar/auth/renewal_due.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;
using namespace std::chrono_literals;

namespace {
const core::manual_clock clock_source;
const core::time_point t0 = clock_source.now();
constexpr auto never = core::time_point::max();
}  // namespace

TEST_CASE("next_wakeup: a long TTL is looked at every check_interval", "[auth]") {
  const auth::token_state token{.issued = t0, .ttl = 60s, .renewable = true};
  const auto due = auth::renewal_due(token, 0.8);
  CHECK(auth::next_wakeup(t0, 10s, due, auth::expiry(token)) == t0 + 10s);
  CHECK(auth::next_wakeup(t0 + 30s, 10s, due, auth::expiry(token)) == t0 + 40s);
}

TEST_CASE("next_wakeup: the renewal point between two checks gets its own wake-up", "[auth]") {
  const auth::token_state token{.issued = t0, .ttl = 60s, .renewable = true};
  const auto due = auth::renewal_due(token, 0.8);
  CHECK(auth::next_wakeup(t0 + 40s, 10s, due, auth::expiry(token)) == t0 + 48s);
}

TEST_CASE("next_wakeup: a 6 s TTL with a 10 s check wakes at 4.8 s", "[auth]") {
  const auth::token_state token{.issued = t0, .ttl = 6s, .renewable = true};
  CHECK(auth::next_wakeup(t0, 10s, auth::renewal_due(token, 0.8), auth::expiry(token)) ==
        t0 + 4800ms);
}

TEST_CASE("next_wakeup: every TTL up to check_interval over one minus renew_at is renewed in time",
          "[auth]") {
  // 10 s / (1 - 0.8) = 50 s: the regular checks alone would miss the 4/5 point of shorter TTLs.
  for (auto ttl = 1s; ttl <= 60s; ttl += 1s) {
    const auth::token_state token{.issued = t0, .ttl = ttl, .renewable = true};
    const auto due = auth::renewal_due(token, 0.8);
    auto now = t0;
    while (now < due) now = auth::next_wakeup(now, 10s, due, auth::expiry(token));
    CHECK(now == due);
  }
}

TEST_CASE("next_wakeup: the expiry of a token that is not renewed gets its own wake-up", "[auth]") {
  CHECK(auth::next_wakeup(t0, 10s, never, t0 + 3s) == t0 + 3s);
  CHECK(auth::next_wakeup(t0, 10s, never, t0 + 30s) == t0 + 10s);
  CHECK(auth::next_wakeup(t0, 10s, never, never) == t0 + 10s);
}

TEST_CASE("next_wakeup: points already passed do not make the loop spin", "[auth]") {
  // A renewal that failed at its point waits for the retry or the next check, not zero.
  CHECK(auth::next_wakeup(t0 + 50s, 10s, t0 + 48s, t0 + 60s) == t0 + 60s);
  CHECK(auth::next_wakeup(t0 + 50s, 10s, t0 + 50s, t0 + 70s) == t0 + 60s);
  CHECK(auth::next_wakeup(t0 + 50s, 10s, t0 + 51s, t0 + 70s) == t0 + 51s);
}
