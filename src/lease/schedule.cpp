#include <sidecar/lease/schedule.hpp>

#include <algorithm>
#include <chrono>

namespace sidecar::lease {

std::string_view to_string(lease_state state) noexcept {
  switch (state) {
    case lease_state::ok:
      return "ok";
    case lease_state::rotating:
      return "rotating";
    case lease_state::degraded:
      return "degraded";
    case lease_state::expired:
      return "expired";
  }
  return "unknown";
}

core::time_point rotation_due(core::time_point granted_at, core::duration lease_duration,
                              double renew_at) noexcept {
  // Computed in the clock's own ticks so 0.8 of 10 s is exactly 8 s, not 7.999... s.
  const auto ticks = static_cast<double>(lease_duration.count()) * renew_at;
  return granted_at + core::duration{static_cast<core::duration::rep>(ticks)};
}

bool expired(core::time_point expiry, core::time_point now) noexcept { return now >= expiry; }

long long seconds_left(core::time_point expiry, core::time_point now) noexcept {
  return core::whole_seconds_between(now, expiry);
}

next_step choose_step(config::lease_strategy strategy, bool renewable, bool capped) noexcept {
  if (strategy == config::lease_strategy::renew && renewable && !capped) return next_step::renew;
  return next_step::rotate;
}

bool renewal_capped(long long increment, long long granted,
                    const std::vector<std::string>& warnings) noexcept {
  if (granted < increment) return true;
  // Vault (sdk/framework/lease.go): "TTL of "..." exceeded the effective max_ttl of "..."; TTL
  // value is capped accordingly" — the grant may equal the increment on the very last renewal.
  return std::any_of(warnings.begin(), warnings.end(), [](const std::string& warning) {
    return warning.find("max_ttl") != std::string::npos ||
           warning.find("capped") != std::string::npos;
  });
}

core::duration retry_wait(core::duration backoff_wait, core::time_point now,
                          core::time_point expiry) noexcept {
  if (now >= expiry) return backoff_wait;
  return std::min(backoff_wait, expiry - now);
}

lease_state classify_state(bool attempt_in_flight, bool last_attempt_failed,
                           bool lease_expired) noexcept {
  if (lease_expired) return lease_state::expired;
  if (last_attempt_failed) return lease_state::degraded;
  if (attempt_in_flight) return lease_state::rotating;
  return lease_state::ok;
}

}  // namespace sidecar::lease
