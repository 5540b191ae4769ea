#pragma once

#include <sidecar/core/clock.hpp>
#include <sidecar/testing/specs.hpp>
#include <sidecar/testing/wire.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::testing {

/// One service token.
struct token_entry {
  std::string id{}, accessor{}, display_name{}, path{};
  std::vector<std::string> policies{};  ///< sorted, always with "default"
  std::map<std::string, std::string> meta{};
  core::time_point issued{};
  core::time_point expires{};
  std::optional<core::time_point> last_renewal{};
  long long creation_ttl = 0;
  long long backend_ttl = 0;  ///< TTL re-applied by a renewal without increment
  long long max_ttl = 0;      ///< 0: the system max
  long long period = 0;
  bool renewable = true;
  int uses_left = 0;  ///< 0: unlimited
  bool used_up = false;
};

/// Vault's auth side in one place: the token store, the AppRole backend and the ACL (named
/// policies plus the built-in `default` and `root`); platform_auth logs in through
/// issue_login(). It answers the token and login
/// endpoints with Vault's exact shapes and decides capabilities for the router.
///
/// Thread affinity: none; the vault_double serialises all access under its state lock.
/// Errors: API misuse answers with Vault's error replies; set-up misuse (unknown role) throws
/// std::invalid_argument.
class auth_store {
 public:
  explicit auth_store(const core::clock& clock);

  // ---- set-up ----
  /// Creates (or replaces) a role and one secret_id; empty ids are generated.
  approle_credentials add_approle(const approle_spec& spec, std::string role_id = {},
                                  std::string secret_id = {});
  std::string add_secret_id(const std::string& role_name, std::string secret_id = {});
  void add_policy(const std::string& name, policy_rules rules);
  /// A token as `auth/token/create` would make it (path auth/token/create, not an orphan).
  std::string create_token(std::vector<std::string> policies, long long ttl, bool renewable,
                           int num_uses = 0, long long period = 0);
  /// Revokes every token; returns their ids so their leases can go too.
  std::vector<std::string> revoke_all();

  // ---- per request ----
  /// Drops tokens whose TTL ran out; returns their ids.
  std::vector<std::string> sweep_expired();
  /// The live token with this id after consuming one of its uses; nullptr if invalid.
  token_entry* use_token(const std::string& id);
  /// Revokes a token whose last use the finished request consumed; true if it did.
  bool retire_if_used_up(const std::string& id);
  void revoke(const std::string& id);

  /// The token's capabilities on a logical path: the most specific matching rule of all its
  /// policies (exact beats glob, longer glob beats shorter); "deny" wins within that rule.
  [[nodiscard]] std::set<std::string> capabilities(const token_entry& token,
                                                   std::string_view path) const;
  [[nodiscard]] bool allows(const token_entry& token, std::string_view path,
                            std::string_view capability) const;
  /// sys/internal/ui/mounts access: any rule of the token reaching into the mount.
  [[nodiscard]] bool has_mount_access(const token_entry& token, std::string_view mount) const;

  // ---- endpoints ----
  vault_reply login(const vault_request& request);
  /// A login's answer: mints `token` with the TTL its backend_ttl, period and max_ttl give
  /// (Vault's CalculateTTL at issue) and answers Vault's login envelope.
  vault_reply issue_login(token_entry token, std::string_view mount_type);
  /// POST auth/approle/role/<name>/secret-id: a new secret_id for the role.
  vault_reply generate_secret_id(const std::string& role_name);
  vault_reply lookup_self(const token_entry& token) const;
  vault_reply renew_self(token_entry& token, const vault_request& request);
  vault_reply capabilities_self(const token_entry& token, const vault_request& request) const;

 private:
  struct secret_id_entry {
    int uses_left = 0;  ///< 0: unlimited
    std::optional<core::time_point> expires{};
  };
  struct role_entry {
    approle_spec spec{};
    std::string role_id{};
    std::map<std::string, secret_id_entry> secret_ids{};
  };

  token_entry& mint(token_entry entry);
  nlohmann::json auth_object(const token_entry& token, long long lease_duration) const;

  const core::clock& clock_;
  std::map<std::string, role_entry> roles_;  // by name
  std::map<std::string, policy_rules> policies_;
  std::map<std::string, token_entry> tokens_;  // by id
};

}  // namespace sidecar::testing
