#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace sidecar::metrics {

/// A distribution of observations over fixed buckets (Prometheus `histogram`), e.g. request
/// latency in seconds.
///
/// Counts are kept per bucket (not cumulative) so an observation touches one bucket counter and
/// the sum; the exposition accumulates them. `_count` is derived from the buckets at render
/// time, so `le="+Inf"` and `_count` always agree even while other threads observe.
///
/// Thread affinity: any thread. Owned by a metrics::registry.
class histogram final {
 public:
  /// `upper_bounds` must be strictly increasing and finite; +Inf is implicit.
  explicit histogram(std::vector<double> upper_bounds);
  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  void observe(double value) noexcept;
  /// Observes a duration in seconds, the Prometheus base unit.
  void observe(std::chrono::nanoseconds elapsed) noexcept {
    observe(std::chrono::duration<double>(elapsed).count());
  }

  /// A consistent-enough copy for rendering: per-bucket counts, the last one for +Inf.
  struct snapshot {
    std::vector<std::uint64_t> bucket_counts;
    double sum = 0.0;
  };
  [[nodiscard]] snapshot read() const;
  [[nodiscard]] std::span<const double> upper_bounds() const noexcept { return upper_bounds_; }

  /// 0.5 ms to 10 s: local answers take well under a millisecond, Vault round trips tens of
  /// milliseconds, a request_timeout ends at 10 s by default.
  [[nodiscard]] static std::vector<double> latency_buckets();

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // upper_bounds_.size() + 1 (+Inf)
  std::atomic<double> sum_{0.0};
};

}  // namespace sidecar::metrics
