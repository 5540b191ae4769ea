#pragma once

#include <sidecar/core/clock.hpp>

#include <string>
#include <vector>

namespace sidecar::auth {

/// Whether a renew-self answer shows the token has reached its max TTL, so that further
/// renewals cannot extend it (vault-api.md §4):
///  - Vault said so: a warning `TTL of "…" exceeded the effective max_ttl of "…"; TTL value is
///    capped accordingly` (or the `period of …` variant), or
///  - the expiry did not move: the returned TTL is no longer than what was left before the
///    renewal (`left_before`), which is how a server that does not warn shows the cap.
/// A returned TTL merely shorter than the previous one is not enough: an operator may have
/// lowered the role's token_ttl, and such a token still renews at its new TTL.
[[nodiscard]] bool ttl_capped(core::duration left_before, core::duration returned_ttl,
                              const std::vector<std::string>& warnings) noexcept;

}  // namespace sidecar::auth
