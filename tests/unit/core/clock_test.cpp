#include <sidecar/core/clock.hpp>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;

TEST_CASE("manual_clock: moves only when advanced", "[core]") {
  sidecar::core::manual_clock clock;
  const auto t0 = clock.now();
  const auto w0 = clock.wall_now();
  CHECK(clock.now() == t0);
  clock.advance(1500ms);
  CHECK(clock.now() - t0 == 1500ms);
  CHECK(clock.wall_now() - w0 == 1500ms);
}

TEST_CASE("whole_seconds_between: rounds down and never goes negative", "[core]") {
  const sidecar::core::time_point t0{};
  CHECK(sidecar::core::whole_seconds_between(t0, t0 + 2999ms) == 2);
  CHECK(sidecar::core::whole_seconds_between(t0, t0 + 3s) == 3);
  CHECK(sidecar::core::whole_seconds_between(t0 + 5s, t0) == 0);
}
