#pragma once

#include <sidecar/core/clock.hpp>
#include <sidecar/core/secret_string.hpp>
#include <sidecar/lease/dynamic_secret.hpp>

#include <memory>

namespace sidecar::lease {

/// Creds as the lease store holds them: the secret, and when its current grant started (issue
/// or last renewal, both taken as the instant the request was sent, so the local expiry is never
/// later than Vault's).
///
/// Thread affinity: io thread only (the rendering is cached in mutable members).
struct held_lease {
  dynamic_secret secret;
  core::time_point granted_at;
  core::duration granted{};
  bool capped = false;  ///< the last renewal hit the max TTL: rotate next time
  /// The last rendering and the whole seconds left it says: re-rendered when that changes
  /// (once a second, and after a renewal), shared by every request in between.
  mutable std::shared_ptr<const core::secret_string> rendered;
  mutable long long rendered_seconds_left = -1;

  [[nodiscard]] core::time_point expiry() const noexcept { return granted_at + granted; }

  /// Vault's envelope saying `seconds_left`, rendered at most once per distinct value.
  [[nodiscard]] std::shared_ptr<const core::secret_string> body(long long seconds_left) const;
};

}  // namespace sidecar::lease
