#pragma once

#include <sidecar/config/config.hpp>
#include <sidecar/core/clock.hpp>

#include <string>
#include <string_view>
#include <vector>

// The lease store's timing decisions as pure functions over values, so every boundary (rotation
// point, capped renewal, expiry, rounding of the seconds left) is tested with a manual clock and
// the async shell in lease_store.cpp only waits for the instants computed here.

namespace sidecar::lease {

/// What a held lease looks like to the health endpoint.
enum class lease_state {
  ok,        ///< current creds valid, nothing pending
  rotating,  ///< new creds (or a renewal) are being fetched, no failure yet
  degraded,  ///< the last rotation or renewal failed; the current lease still lasts
  expired,   ///< the lease ran out before new creds could be obtained: nothing is served
};

[[nodiscard]] std::string_view to_string(lease_state state) noexcept;

/// The instant at which a lease granted `lease_duration` at `granted_at` must be replaced or
/// extended: `renew_at` of the way through it (0.8 → 8 s into a 10 s lease).
[[nodiscard]] core::time_point rotation_due(core::time_point granted_at,
                                            core::duration lease_duration,
                                            double renew_at) noexcept;

/// A lease is expired from its expiry instant on; expired creds are never served.
[[nodiscard]] bool expired(core::time_point expiry, core::time_point now) noexcept;

/// Whole seconds a lease has left, rounded down, never negative: the `lease_duration` served.
[[nodiscard]] long long seconds_left(core::time_point expiry, core::time_point now) noexcept;

/// What to do at the rotation point.
enum class next_step { renew, rotate };

/// `renew` extends the lease while Vault still grants the full increment; a lease that is not
/// renewable, or whose last renewal was capped by its max TTL, is replaced by new creds.
[[nodiscard]] next_step choose_step(config::lease_strategy strategy, bool renewable,
                                    bool capped) noexcept;

/// Whether a renewal answer shows the lease has stopped growing: Vault granted less than the
/// increment asked for, or said it capped the TTL at the max TTL.
[[nodiscard]] bool renewal_capped(long long increment, long long granted,
                                  const std::vector<std::string>& warnings) noexcept;

/// How long to wait before retrying a failed rotation: the backoff's wait, but never past the
/// current lease's expiry while it lasts, so the last attempt still happens in time.
[[nodiscard]] core::duration retry_wait(core::duration backoff_wait, core::time_point now,
                                        core::time_point expiry) noexcept;

/// The health state of a path from what its background task is doing.
[[nodiscard]] lease_state classify_state(bool attempt_in_flight, bool last_attempt_failed,
                                         bool lease_expired) noexcept;

}  // namespace sidecar::lease
