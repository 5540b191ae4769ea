#pragma once

#include <atomic>
#include <cstdint>

namespace sidecar::metrics {

/// A monotonically increasing count (Prometheus `counter`). Components keep a reference to
/// theirs, obtained once from the registry, so the hot path is one relaxed atomic add.
///
/// Thread affinity: any thread. Owned by a metrics::registry, which hands out references that
/// stay valid for the registry's lifetime.
class counter final {
 public:
  counter() = default;
  counter(const counter&) = delete;
  counter& operator=(const counter&) = delete;

  void inc(std::uint64_t by = 1) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint64_t> value_{0};
};

}  // namespace sidecar::metrics
