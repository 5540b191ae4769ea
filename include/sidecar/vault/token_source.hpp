#pragma once

#include <sidecar/core/secret_string.hpp>

#include <functional>

namespace sidecar::vault {

/// Where the cache, the lease store and the proxy get the sidecar's token for a request to Vault.
/// The auth module's token manager is the real one; tests use a fixed token.
///
/// Thread affinity: io thread only.
class token_source {
 public:
  virtual ~token_source() = default;
  /// The token to send, or nullptr when there is none to use: before the login, or after the
  /// token was lost under `on_renew_failure = serve_cached` (then callers must not call Vault and
  /// serve what they hold instead).
  [[nodiscard]] virtual const core::secret_string* current_token() const noexcept = 0;
  /// Vault answered a request made with current_token() `403 invalid token` (revoked
  /// server-side, say): the owner should check the token now rather than at its renewal point.
  virtual void report_invalid_token() noexcept {}
  /// Runs `handler` on the io thread each time a new login has replaced the token
  /// (auth.relogin = on_expiry). Vault revokes a token's leases with the token, so what was
  /// fetched under the old one must be fetched anew. A source whose token never changes keeps
  /// no handler.
  virtual void on_token_replaced(std::function<void()> handler) { (void)handler; }
};

}  // namespace sidecar::vault
