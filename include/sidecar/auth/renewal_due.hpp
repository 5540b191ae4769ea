#pragma once

#include <sidecar/auth/token_state.hpp>
#include <sidecar/core/clock.hpp>

namespace sidecar::auth {

/// When the token must be renewed: renew_at of the TTL after it was issued or last renewed
/// (the brief's 4/5 point for renew_at = 0.8). time_point::max() when no renewal is due ever:
/// a token without a TTL, a non-renewable token, or one already at its max TTL.
[[nodiscard]] core::time_point renewal_due(const token_state& token, double renew_at) noexcept;

}  // namespace sidecar::auth
