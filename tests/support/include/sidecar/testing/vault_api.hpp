#pragma once

#include <sidecar/testing/double_state.hpp>
#include <sidecar/testing/wire.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace sidecar::testing {

/// The Vault double's router: what Vault's core does between HTTP and a backend. For each
/// request it expires tokens and leases, refuses everything but sys/health while sealed,
/// answers logins and sys/wrapping lookup/unwrap by wrapping token, authenticates the token
/// (spending one of its uses), checks the ACL, routes to the mount's backend, wraps the answer
/// when X-Vault-Wrap-TTL asks for it, and injects `sys/*` data keys at the top level.
///
/// Thread affinity: the caller holds `state.mutex` across handle(). Errors: every failure is a
/// Vault error reply; nothing throws for API input.
class vault_api {
 public:
  explicit vault_api(double_state& state) : state_{state} {}

  vault_reply handle(const vault_request& request);

 private:
  struct mount {
    std::string path;  ///< with the trailing '/', e.g. "kv-demo/"
    std::string type;  ///< "kv", "database", "system", "token", "approle", "jwt"
  };

  [[nodiscard]] std::optional<mount> find_mount(std::string_view path) const;
  [[nodiscard]] nlohmann::json mount_info(const mount& m) const;

  vault_reply health(const vault_request& request) const;
  /// Logins and the wrapping endpoints that need no token; nullopt for everything else.
  std::optional<vault_reply> unauthenticated(const vault_request& request);
  /// X-Vault-Wrap-TTL: a successful answer is put away under a wrapping token.
  vault_reply wrap_if_asked(vault_reply reply, const vault_request& request);
  vault_reply authenticated(token_entry& token, const vault_request& request);
  vault_reply route(token_entry& token, const mount& m, std::string_view rest,
                    const vault_request& request);
  vault_reply route_approle(std::string_view rest, const vault_request& request);
  vault_reply route_token(token_entry& token, std::string_view rest, const vault_request& request);
  vault_reply route_sys(token_entry& token, std::string_view rest, const vault_request& request);
  void revoke_token(const std::string& id);

  double_state& state_;
};

}  // namespace sidecar::testing
