#pragma once

#include <sidecar/core/clock.hpp>

namespace sidecar::auth {

/// When the token loop wakes next: the next regular check (now + check_interval), or the
/// renewal point or the expiry when one of them falls before that check. Without the extra
/// wake-ups a TTL shorter than check_interval / (1 - renew_at) would expire between two checks
/// (DESIGN.md "Timing rules"). Points at or before `now` are ignored: they were handled (or
/// failed and wait for their retry) before the loop went to sleep, so they must not make it
/// spin.
[[nodiscard]] core::time_point next_wakeup(core::time_point now, core::duration check_interval,
                                           core::time_point renewal_due,
                                           core::time_point expiry) noexcept;

}  // namespace sidecar::auth
