#pragma once

#include <sidecar/auth/token_state.hpp>
#include <sidecar/config/config.hpp>
#include <sidecar/core/clock.hpp>

namespace sidecar::auth {

/// Whether a new login may replace the token at all: auth.relogin = on_expiry and a method that
/// logs in with a credential the platform keeps fresh (kubernetes, jwt, cert). Never for
/// approle, whatever the configuration says (the brief's rule: the secret_id may have expired
/// or been used up), and never for token_file (there is nothing to log in with).
[[nodiscard]] bool relogin_allowed(config::auth_method method,
                                   config::relogin_policy policy) noexcept;

/// When a token that renewing cannot extend any more (at its max TTL, or not renewable) is
/// replaced by a new login: at renew_at of the TTL last granted, as a renewal would have been,
/// so the new token is in place before the old one ends and no caller sees the gap.
/// time_point::max() when no relogin is planned: not allowed, the token can still be renewed,
/// or it has no TTL.
[[nodiscard]] core::time_point relogin_due(const token_state& token, config::auth_method method,
                                           config::relogin_policy policy, double renew_at) noexcept;

}  // namespace sidecar::auth
