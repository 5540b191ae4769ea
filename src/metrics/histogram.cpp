#include <sidecar/metrics/histogram.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sidecar::metrics {

histogram::histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds_.size() + 1)) {
  for (std::size_t i = 0; i < upper_bounds_.size(); ++i) {
    if (!std::isfinite(upper_bounds_[i]) || (i > 0 && upper_bounds_[i] <= upper_bounds_[i - 1])) {
      throw std::invalid_argument("histogram bounds must be finite and strictly increasing");
    }
  }
}

void histogram::observe(double value) noexcept {
  // The first bucket whose upper bound is >= value: Prometheus buckets are `le` (inclusive).
  const auto bucket = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value);
  const auto index = static_cast<std::size_t>(bucket - upper_bounds_.begin());
  counts_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

histogram::snapshot histogram::read() const {
  snapshot copy;
  copy.bucket_counts.reserve(upper_bounds_.size() + 1);
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
    copy.bucket_counts.push_back(counts_[i].load(std::memory_order_relaxed));
  }
  copy.sum = sum_.load(std::memory_order_relaxed);
  return copy;
}

std::vector<double> histogram::latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};
}

}  // namespace sidecar::metrics
