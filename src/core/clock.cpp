#include <sidecar/core/clock.hpp>

#include <algorithm>

namespace sidecar::core {

time_point system_clock::now() const noexcept { return std::chrono::steady_clock::now(); }

wall_time system_clock::wall_now() const noexcept { return std::chrono::system_clock::now(); }

// Start far from the epoch so code that subtracts durations from "now" never underflows.
manual_clock::manual_clock() noexcept
    : start_{time_point{} + std::chrono::hours{24 * 365}},
      wall_start_{std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}} {}

time_point manual_clock::now() const noexcept { return start_ + duration{elapsed_.load()}; }

wall_time manual_clock::wall_now() const noexcept {
  return wall_start_ + std::chrono::duration_cast<wall_time::duration>(duration{elapsed_.load()});
}

void manual_clock::advance(duration by) noexcept { elapsed_ += by.count(); }

long long whole_seconds_between(time_point from, time_point to) noexcept {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(to - from).count();
  return std::max<long long>(seconds, 0);
}

}  // namespace sidecar::core
