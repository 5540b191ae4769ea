#include <sidecar/core/clock.hpp>
#include <sidecar/vault/token_bucket.hpp>

#include <catch2/catch.hpp>

#include <chrono>

using namespace std::chrono_literals;
using sidecar::core::duration;
using sidecar::core::manual_clock;
using sidecar::vault::token_bucket;

TEST_CASE("token_bucket: rate 0 is unlimited", "[vault]") {
  manual_clock clock;
  token_bucket bucket{0, clock.now()};
  CHECK(bucket.unlimited());
  for (int i = 0; i < 10000; ++i) REQUIRE(bucket.try_take(clock.now()) == duration::zero());
}

TEST_CASE("token_bucket: a burst of rate at once, then rate per second", "[vault]") {
  manual_clock clock;
  token_bucket bucket{20, clock.now()};
  for (int i = 0; i < 20; ++i) REQUIRE(bucket.try_take(clock.now()) == duration::zero());
  const auto wait = bucket.try_take(clock.now());
  CHECK(wait == 50ms);  // one token per 1/20 s

  // Over the next second exactly 20 more, one every 50 ms.
  int taken = 0;
  for (int step = 0; step < 100; ++step) {
    clock.advance(10ms);
    while (bucket.try_take(clock.now()) == duration::zero()) ++taken;
  }
  CHECK(taken == 20);
}

TEST_CASE("token_bucket: waiting the time it names is always enough", "[vault]") {
  manual_clock clock;
  token_bucket bucket{3, clock.now()};
  for (int i = 0; i < 3; ++i) REQUIRE(bucket.try_take(clock.now()) == duration::zero());
  for (int i = 0; i < 50; ++i) {
    const auto wait = bucket.try_take(clock.now());
    REQUIRE(wait > duration::zero());
    clock.advance(wait);
    REQUIRE(bucket.try_take(clock.now()) == duration::zero());
  }
}

TEST_CASE("token_bucket: an idle bucket holds no more than the burst", "[vault]") {
  manual_clock clock;
  token_bucket bucket{5, clock.now()};
  clock.advance(1h);
  int taken = 0;
  while (bucket.try_take(clock.now()) == duration::zero()) ++taken;
  CHECK(taken == 5);
}

TEST_CASE("token_bucket: a refused take takes nothing", "[vault]") {
  manual_clock clock;
  token_bucket bucket{1, clock.now()};
  REQUIRE(bucket.try_take(clock.now()) == duration::zero());
  clock.advance(500ms);
  CHECK(bucket.try_take(clock.now()) == 500ms);
  CHECK(bucket.try_take(clock.now()) == 500ms);
  clock.advance(500ms);
  CHECK(bucket.try_take(clock.now()) == duration::zero());
}
