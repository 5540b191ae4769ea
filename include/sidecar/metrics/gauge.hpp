#pragma once

#include <atomic>

namespace sidecar::metrics {

/// A value that goes up and down (Prometheus `gauge`): open connections, seconds of TTL left.
///
/// Thread affinity: any thread; set/add are single atomic operations. Owned by a
/// metrics::registry.
class gauge final {
 public:
  gauge() = default;
  gauge(const gauge&) = delete;
  gauge& operator=(const gauge&) = delete;

  void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
  void add(double by) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
  void sub(double by) noexcept { value_.fetch_sub(by, std::memory_order_relaxed); }
  void inc() noexcept { add(1.0); }
  void dec() noexcept { sub(1.0); }
  [[nodiscard]] double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

}  // namespace sidecar::metrics
