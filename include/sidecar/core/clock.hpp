#pragma once

#include <atomic>
#include <chrono>

namespace sidecar::core {

using duration = std::chrono::steady_clock::duration;
using time_point = std::chrono::steady_clock::time_point;
using wall_time = std::chrono::system_clock::time_point;

/// The source of time for every decision (token renewal, cache freshness, lease rotation).
/// Decisions take a time_point from here so tests can drive a manual_clock instead of sleeping.
///
/// Thread affinity: implementations are safe to read from any thread.
class clock {
 public:
  virtual ~clock() = default;
  [[nodiscard]] virtual time_point now() const noexcept = 0;
  /// Calendar time, for Vault's timestamps (`expire_time`, `created_time`).
  [[nodiscard]] virtual wall_time wall_now() const noexcept = 0;
};

/// The real clock: steady time for intervals, system time for timestamps.
class system_clock final : public clock {
 public:
  [[nodiscard]] time_point now() const noexcept override;
  [[nodiscard]] wall_time wall_now() const noexcept override;
};

/// A clock that moves only when told to. Starts at an arbitrary non-zero point.
///
/// Thread affinity: advance() and now() may be called from different threads.
class manual_clock final : public clock {
 public:
  manual_clock() noexcept;
  [[nodiscard]] time_point now() const noexcept override;
  [[nodiscard]] wall_time wall_now() const noexcept override;
  void advance(duration by) noexcept;

 private:
  std::atomic<duration::rep> elapsed_{0};
  time_point start_;
  wall_time wall_start_;
};

/// Whole seconds from `from` to `to`, rounded down, never negative.
[[nodiscard]] long long whole_seconds_between(time_point from, time_point to) noexcept;

}  // namespace sidecar::core
