#pragma once

#include <sidecar/core/clock.hpp>

namespace sidecar::auth {

/// What the sidecar knows about its token's lifetime: the input of every renewal decision.
/// The token and its accessor are not here (they live in token_manager as secret_strings), so
/// this value can be copied, logged field by field and compared in tests freely.
struct token_state {
  core::time_point issued{};  ///< when the login or the last successful renewal was sent
  core::duration ttl{};       ///< lease_duration granted then; zero = the token never expires
  bool renewable = false;     ///< false for batch tokens and tokens created non-renewable
  /// Vault capped the last renewal at the token's max TTL: renewing cannot extend it any more.
  bool max_ttl_reached = false;
};

/// When the token stops being valid; time_point::max() for a token without a TTL.
[[nodiscard]] core::time_point expiry(const token_state& token) noexcept;

/// Whether another renew-self is worth sending: the token is renewable, has a TTL and is not
/// already at its max TTL.
[[nodiscard]] bool should_renew(const token_state& token) noexcept;

}  // namespace sidecar::auth
