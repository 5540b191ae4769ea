#include <sidecar/metrics/histogram.hpp>

#include <catch2/catch.hpp>

#include <chrono>

using sidecar::metrics::histogram;

TEST_CASE("histogram: observations land in the first bucket whose bound is not below them",
          "[metrics]") {
  histogram h{{1.0, 2.0, 4.0}};
  h.observe(0.0);
  h.observe(1.0);
  h.observe(1.0001);
  h.observe(4.0);
  h.observe(100.0);
  h.observe(-3.0);
  const auto snap = h.read();
  CHECK(snap.bucket_counts == std::vector<std::uint64_t>{3, 1, 1, 1});
  CHECK(snap.sum == Approx(103.0001));
}

TEST_CASE("histogram: durations are observed in seconds", "[metrics]") {
  histogram h{histogram::latency_buckets()};
  h.observe(std::chrono::milliseconds{3});
  const auto snap = h.read();
  CHECK(snap.sum == Approx(0.003));
  // 0.003 s falls in the 0.005 bucket, the fourth one.
  CHECK(snap.bucket_counts.at(3) == 1);
  CHECK(snap.bucket_counts.at(2) == 0);
}

TEST_CASE("histogram: an empty bound list has only the +Inf bucket", "[metrics]") {
  histogram h{{}};
  h.observe(42.0);
  CHECK(h.read().bucket_counts == std::vector<std::uint64_t>{1});
}
