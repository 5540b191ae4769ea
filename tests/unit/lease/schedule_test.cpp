#include <sidecar/lease/schedule.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;
using namespace std::chrono_literals;
using config::lease_strategy;
using lease::lease_state;
using lease::next_step;

namespace {

core::time_point start() {
  const core::manual_clock clock;
  return clock.now();
}

}  // namespace

TEST_CASE("rotation_due: 4/5 of a 10 s lease is 8 s after it was granted", "[lease]") {
  const auto t0 = start();
  CHECK(lease::rotation_due(t0, 10s, 0.8) == t0 + 8s);
  CHECK(lease::rotation_due(t0, 3600s, 0.8) == t0 + 2880s);
  CHECK(lease::rotation_due(t0, 2s, 0.8) == t0 + 1600ms);
  CHECK(lease::rotation_due(t0, 3s, 0.5) == t0 + 1500ms);
  CHECK(lease::rotation_due(t0, 10s, 1.0) == t0 + 10s);
}

TEST_CASE("rotation_due: a renewal restarts the count from the renewal", "[lease]") {
  const auto t0 = start();
  // Issued for 10 s, renewed at 8 s for another 10 s: next decision at 16 s.
  const auto renewed_at = lease::rotation_due(t0, 10s, 0.8);
  CHECK(lease::rotation_due(renewed_at, 10s, 0.8) == t0 + 16s);
}

TEST_CASE("rotation_due: a capped renewal rotates at 4/5 of what is left", "[lease]") {
  const auto t0 = start();
  // Renewed at 16 s, Vault capped the grant at 5 s (the max TTL): rotate at 20 s, 1 s before
  // the lease ends at 21 s.
  const auto renewed_at = t0 + 16s;
  CHECK(lease::renewal_capped(10, 5, {}));
  CHECK(lease::choose_step(lease_strategy::renew, true, true) == next_step::rotate);
  CHECK(lease::rotation_due(renewed_at, 5s, 0.8) == t0 + 20s);
  CHECK_FALSE(lease::expired(renewed_at + 5s - 1ns, lease::rotation_due(renewed_at, 5s, 0.8)));
}

TEST_CASE("expired: a lease is expired from its expiry instant on", "[lease]") {
  const auto expiry = start() + 10s;
  CHECK_FALSE(lease::expired(expiry, expiry - 1s));
  CHECK_FALSE(lease::expired(expiry, expiry - 1ns));
  CHECK(lease::expired(expiry, expiry));
  CHECK(lease::expired(expiry, expiry + 1ns));
  CHECK(lease::expired(expiry, expiry + 1h));
}

TEST_CASE("seconds_left: whole seconds rounded down and never negative", "[lease]") {
  const auto t0 = start();
  const auto expiry = t0 + 10s;
  CHECK(lease::seconds_left(expiry, t0) == 10);
  CHECK(lease::seconds_left(expiry, t0 + 1ms) == 9);
  CHECK(lease::seconds_left(expiry, t0 + 999ms) == 9);
  CHECK(lease::seconds_left(expiry, t0 + 1s) == 9);
  CHECK(lease::seconds_left(expiry, t0 + 1001ms) == 8);
  CHECK(lease::seconds_left(expiry, t0 + 9999ms) == 0);
  CHECK(lease::seconds_left(expiry, expiry) == 0);
  CHECK(lease::seconds_left(expiry, expiry + 5s) == 0);
}

TEST_CASE("seconds_left: counts down with a manual clock", "[lease]") {
  core::manual_clock clock;
  const auto expiry = clock.now() + 3s;
  std::vector<long long> seen;
  for (int i = 0; i < 8; ++i) {
    seen.push_back(lease::seconds_left(expiry, clock.now()));
    clock.advance(500ms);
  }
  CHECK(seen == std::vector<long long>{3, 2, 2, 1, 1, 0, 0, 0});
}

TEST_CASE("choose_step: only renewable leases under strategy renew are renewed", "[lease]") {
  CHECK(lease::choose_step(lease_strategy::rotate, true, false) == next_step::rotate);
  CHECK(lease::choose_step(lease_strategy::rotate, false, false) == next_step::rotate);
  CHECK(lease::choose_step(lease_strategy::rotate, true, true) == next_step::rotate);
  CHECK(lease::choose_step(lease_strategy::renew, true, false) == next_step::renew);
  CHECK(lease::choose_step(lease_strategy::renew, false, false) == next_step::rotate);
  CHECK(lease::choose_step(lease_strategy::renew, true, true) == next_step::rotate);
  CHECK(lease::choose_step(lease_strategy::renew, false, true) == next_step::rotate);
}

TEST_CASE("renewal_capped: a shorter grant or Vault's capping warning", "[lease]") {
  CHECK_FALSE(lease::renewal_capped(3600, 3600, {}));
  CHECK_FALSE(lease::renewal_capped(3600, 4000, {}));
  CHECK(lease::renewal_capped(3600, 3599, {}));
  CHECK(lease::renewal_capped(3600, 0, {}));
  CHECK(lease::renewal_capped(
      3600, 3600,
      {"TTL of \"1h\" exceeded the effective max_ttl of \"1h\"; TTL value is capped accordingly"}));
  CHECK_FALSE(lease::renewal_capped(3600, 3600, {"some unrelated warning"}));
}

TEST_CASE("retry_wait: never waits past the expiry of a live lease", "[lease]") {
  const auto now = start();
  CHECK(lease::retry_wait(1s, now, now + 5s) == 1s);
  CHECK(lease::retry_wait(30s, now, now + 5s) == 5s);
  CHECK(lease::retry_wait(1s, now, now + 400ms) == 400ms);
  CHECK(lease::retry_wait(1s, now, now + 1s) == 1s);
  // Once expired, the plain backoff paces the attempts.
  CHECK(lease::retry_wait(8s, now, now) == 8s);
  CHECK(lease::retry_wait(30s, now, now - 1s) == 30s);
}

TEST_CASE("classify_state: expired beats degraded beats rotating", "[lease]") {
  CHECK(lease::classify_state(false, false, false) == lease_state::ok);
  CHECK(lease::classify_state(true, false, false) == lease_state::rotating);
  CHECK(lease::classify_state(false, true, false) == lease_state::degraded);
  CHECK(lease::classify_state(true, true, false) == lease_state::degraded);
  CHECK(lease::classify_state(false, false, true) == lease_state::expired);
  CHECK(lease::classify_state(true, false, true) == lease_state::expired);
  CHECK(lease::classify_state(false, true, true) == lease_state::expired);
  CHECK(lease::classify_state(true, true, true) == lease_state::expired);
  CHECK(lease::to_string(lease_state::ok) == "ok");
  CHECK(lease::to_string(lease_state::rotating) == "rotating");
  CHECK(lease::to_string(lease_state::degraded) == "degraded");
  CHECK(lease::to_string(lease_state::expired) == "expired");
}
