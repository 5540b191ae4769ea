#include <sidecar/core/backoff.hpp>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using sidecar::core::backoff;

TEST_CASE("backoff: doubles from 1 s up to the cap without jitter", "[core]") {
  backoff b{1s, 30s, 0.25, [] { return 0.0; }};
  CHECK(b.next() == 1s);
  CHECK(b.next() == 2s);
  CHECK(b.next() == 4s);
  CHECK(b.next() == 8s);
  CHECK(b.next() == 16s);
  CHECK(b.next() == 30s);
  CHECK(b.next() == 30s);
  CHECK(b.attempts() == 7);
}

TEST_CASE("backoff: jitter shortens a wait by at most its fraction", "[core]") {
  backoff b{std::chrono::seconds{8}, 30s, 0.25, [] { return 0.999999; }};
  const auto wait = b.next();
  CHECK(wait > 6s);
  CHECK(wait <= 8s);
}

TEST_CASE("backoff: reset starts again from the initial wait", "[core]") {
  backoff b{1s, 30s, 0.0, [] { return 0.5; }};
  (void)b.next();
  (void)b.next();
  b.reset();
  CHECK(b.next() == 1s);
}

TEST_CASE("make_random_source: values lie between 0 and 1", "[core]") {
  auto random = sidecar::core::make_random_source();
  for (int i = 0; i < 1000; ++i) {
    const double v = random();
    CHECK(v >= 0.0);
    CHECK(v < 1.0);
  }
}
