#pragma once

#include <sidecar/core/clock.hpp>

#include <optional>
#include <string>

namespace sidecar::lease {

/// A lease the sidecar handed to a local caller, as `sys/leases/lookup` and `sys/leases/renew`
/// describe it: when it was issued and ends, and whether the sidecar will extend it. No secret
/// values and no lease id, so it is safe to keep and compare anywhere.
///
/// Thread affinity: none (a value type).
struct served_lease {
  std::string path;         ///< the secret's Vault path without /v1/ ("database/creds/myapp-role")
  core::time_point issued;  ///< the instant the creds request was sent
  std::optional<core::time_point> last_renewal;  ///< the sidecar's last successful renewal
  core::time_point expiry;                       ///< never later than Vault's own expiry
  long long granted_at_issue = 0;  ///< Vault's lease_duration at issue: its default increment
  /// The sidecar will extend it (strategy `renew`, Vault says renewable, not capped at the max
  /// TTL, still current); false for a lease replaced by a rotation and left to run out.
  bool renewable = false;
};

}  // namespace sidecar::lease
