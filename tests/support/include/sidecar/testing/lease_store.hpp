#pragma once

#include <sidecar/core/clock.hpp>
#include <sidecar/testing/database_backend.hpp>
#include <sidecar/testing/specs.hpp>
#include <sidecar/testing/wire.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::testing {

/// The `database` secrets engine and the leases it hands out: minting credentials per role,
/// and `sys/leases/{renew,revoke,lookup}` with Vault's TTL capping. A lease ends at expiry,
/// on revocation, or with the token that created it; its user is then dropped from the
/// database backend.
///
/// Thread affinity: none; the vault_double serialises all access under its state lock.
/// Errors: API misuse answers with Vault's error replies; a backend failure is a 500.
class lease_store {
 public:
  lease_store(const core::clock& clock, std::shared_ptr<database_backend> backend);

  void add_role(const database_role_spec& spec);
  /// Whether the `database/` mount exists (it is mounted with the first role).
  [[nodiscard]] bool mounted() const noexcept { return !roles_.empty(); }

  /// `GET database/creds/<role>` on behalf of a token (whose display name goes into the
  /// username, and whose revocation ends the lease).
  vault_reply creds(const std::string& role, const std::string& token_id,
                    const std::string& display_name);
  /// `sys/leases/renew`, `sys/leases/revoke`, `sys/leases/lookup`: the lease id comes from the
  /// path suffix if there is one, else from the body.
  vault_reply renew(std::string_view path_id, const vault_request& request);
  vault_reply revoke(std::string_view path_id, const vault_request& request);
  vault_reply lookup(std::string_view path_id, const vault_request& request) const;

  void revoke_owned_by(const std::string& token_id);
  /// Ends every lease whose TTL ran out.
  void sweep_expired();
  /// Live leases whose id starts with `prefix`.
  [[nodiscard]] std::size_t live(std::string_view prefix) const;
  /// Their ids, in id order (for tests that must name a lease nobody was handed).
  [[nodiscard]] std::vector<std::string> live_ids(std::string_view prefix) const;

 private:
  struct lease_entry {
    std::string path{}, username{}, owner_token{};
    database_role_spec role{};
    core::time_point issued{}, expires{};
    std::optional<core::time_point> last_renewal{};
  };

  void end(std::map<std::string, lease_entry>::iterator lease);

  const core::clock& clock_;
  std::shared_ptr<database_backend> backend_;
  std::map<std::string, database_role_spec> roles_;
  std::map<std::string, lease_entry> leases_;  // by lease id
};

}  // namespace sidecar::testing
