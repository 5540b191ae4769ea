#pragma once

#include <sidecar/core/clock.hpp>
#include <sidecar/core/secret_string.hpp>

#include <optional>
#include <string>

namespace sidecar::testing {

/// A database user minted for one `database/creds/<role>` lease.
struct database_user {
  std::string username{};
  core::secret_string password{};
  std::string role{};
  core::wall_time expiration{};  ///< the lease's expiry when the user was created
};

/// Where the Vault double's database mount creates and drops the users it hands out. The
/// default keeps them in memory; a backend talking to a real PostgreSQL can be slotted in
/// without touching the lease logic.
///
/// Thread affinity: called with the double's state lock held, from its io thread or a test
/// thread; implementations must not call back into the double.
class database_backend {
 public:
  virtual ~database_backend() = default;

  /// Creates the user. Empty on success, else the reason (answered as a 500, like a failing
  /// database plugin).
  [[nodiscard]] virtual std::optional<std::string> create_user(const database_user& user) = 0;

  /// Moves the user's expiry to the renewed lease's end, as Vault's database plugins do on
  /// `sys/leases/renew`. Empty on success, else the reason (answered as a 500; the lease keeps
  /// its old expiry).
  [[nodiscard]] virtual std::optional<std::string> renew_user(const std::string& username,
                                                              core::wall_time expiration) = 0;

  /// Drops the user when its lease ends by expiry or revocation.
  virtual void drop_user(const std::string& username) = 0;
};

}  // namespace sidecar::testing
