#pragma once

#include <sidecar/core/clock.hpp>
#include <sidecar/core/secret_string.hpp>
#include <sidecar/lease/dynamic_secret.hpp>
#include <sidecar/lease/served_lease.hpp>

#include <memory>
#include <optional>
#include <string>

namespace sidecar::lease {

/// Creds as the lease store holds them: the secret, and when its current grant started (issue
/// or last renewal, both taken as the instant the request was sent, so the local expiry is
/// never later than Vault's).
///
/// Thread affinity: none (a value type; the lease store keeps it on the io thread).
struct held_lease {
  held_lease(dynamic_secret issued, core::time_point sent);

  dynamic_secret secret;
  core::time_point issued_at;
  core::time_point granted_at;
  core::duration granted{};
  bool capped = false;   ///< the last renewal hit the max TTL: rotate next time
  bool renewed = false;  ///< granted_at is a renewal's, not the issue's
  /// Handed to a local caller (lease_store::mark_served): only then may a caller renew or look
  /// it up through the sidecar.
  bool served = false;
  /// The last rendering and the whole seconds left it says: re-rendered when that changes
  /// (once a second, and after a renewal), shared by every request in between.
  mutable std::shared_ptr<const core::secret_string> rendered;
  mutable long long rendered_seconds_left = -1;

  [[nodiscard]] core::time_point expiry() const noexcept { return granted_at + granted; }

  /// Vault's envelope saying `seconds_left`, rendered at most once per value.
  [[nodiscard]] std::shared_ptr<const core::secret_string> body(long long seconds_left) const;

  /// What a caller may learn about it, once served; nullopt before. `will_renew`: the store
  /// will extend it (see served_lease::renewable).
  [[nodiscard]] std::optional<served_lease> describe(const std::string& path,
                                                     bool will_renew) const;
};

/// A replaced lease that is still alive: left to run out, revoked only at shutdown. A caller
/// handed it may still look it up and watch it run down (`served`, never renewable).
struct retired_lease {
  std::string lease_id;
  core::time_point expiry;
  std::optional<served_lease> served;
};

}  // namespace sidecar::lease
