#pragma once

#include <sidecar/core/clock.hpp>
#include <sidecar/testing/auth_store.hpp>
#include <sidecar/testing/specs.hpp>
#include <sidecar/testing/wire.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::testing {

/// The auth methods a platform vouches for: Kubernetes and JWT mounts, whose roles accept a
/// configured set of JWTs (standing in for the TokenReview API or a signature check), and the
/// cert method, whose roles trust a certificate or a CA for the connection's client
/// certificate. Logins are answered with each plugin's own errors; tokens come from the
/// auth_store, with the role's TTL, max TTL and period. Every attempt is recorded.
///
/// Thread affinity: none; the vault_double serialises all access under its state lock.
/// Errors: API input answers with Vault's error replies; set-up misuse (an unknown mount or
/// role, a certificate that is not PEM) throws std::invalid_argument.
class platform_auth {
 public:
  platform_auth(const core::clock& clock, auth_store& tokens) : clock_{clock}, tokens_{tokens} {}

  // ---- set-up ----
  /// Creates (or replaces) a Kubernetes or JWT role, enabling its mount.
  void add_jwt_role(const jwt_role_spec& spec);
  /// `role` at `mount` accepts `jwt` for `ttl` seconds from now (0: no expiry); `subject` names
  /// it in logins().
  void add_jwt(const std::string& mount, const std::string& role, std::string jwt,
               std::string subject, long long ttl);
  /// Creates (or replaces) a cert role, enabling the `cert` mount.
  void add_cert_role(const cert_role_spec& spec);

  // ---- per request ----
  /// The mounts logins go to ("kubernetes", "jwt", "cert", ...), for the router.
  [[nodiscard]] std::vector<std::string> mounts() const;
  [[nodiscard]] bool has_mount(std::string_view mount) const;
  /// POST auth/<mount>/login on one of mounts().
  vault_reply login(const std::string& mount, const vault_request& request);
  /// Every login attempt, in order.
  [[nodiscard]] const std::vector<login_record>& logins() const noexcept { return logins_; }

 private:
  struct accepted_jwt {
    std::string subject{};
    std::optional<core::time_point> expires{};
  };
  struct jwt_role_entry {
    jwt_role_spec spec{};
    std::map<std::string, accepted_jwt> jwts{};  // by the JWT's text
  };
  struct jwt_mount {
    std::string method{};  // "kubernetes" | "jwt"
    std::map<std::string, jwt_role_entry> roles{};
  };

  vault_reply jwt_login(const std::string& mount_name, jwt_mount& mount,
                        const vault_request& request);
  /// The plugin's refusal, or nullopt with `role` and `subject` set when the login passes.
  std::optional<vault_reply> check_jwt(jwt_mount& mount, const std::string& role_name,
                                       const std::string& jwt, jwt_role_entry*& role,
                                       std::string& subject) const;
  vault_reply cert_login(const vault_request& request);
  vault_reply refused(const std::string& mount, const std::string& role, vault_reply reply);

  const core::clock& clock_;
  auth_store& tokens_;
  std::map<std::string, jwt_mount, std::less<>> jwt_mounts_;
  std::map<std::string, cert_role_spec> cert_roles_;  // by name; the mount is "cert"
  std::vector<login_record> logins_;
};

}  // namespace sidecar::testing
