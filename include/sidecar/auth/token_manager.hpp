#pragma once

#include <sidecar/auth/credentials.hpp>
#include <sidecar/auth/token_state.hpp>
#include <sidecar/config/config.hpp>
#include <sidecar/core/asio.hpp>
#include <sidecar/core/backoff.hpp>
#include <sidecar/core/clock.hpp>
#include <sidecar/core/result.hpp>
#include <sidecar/core/secret_string.hpp>
#include <sidecar/vault/client.hpp>
#include <sidecar/vault/envelope.hpp>
#include <sidecar/vault/token_source.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sidecar::auth {

enum class token_status {
  starting,  ///< not logged in yet
  ok,        ///< a valid token, renewed on schedule
  degraded,  ///< renewal failed or the token expired, policy serve_cached: Vault is not called
  lost,      ///< renewal failed or the token expired, policy exit: the process must exit 75
};

[[nodiscard]] const char* to_string(token_status status) noexcept;

/// A snapshot for health, metrics and `check`. Time points are on the injected clock.
struct token_stats {
  token_status status = token_status::starting;
  bool renewable = false;
  bool max_ttl_reached = false;
  core::duration ttl{};                          ///< as granted by the last login or renewal
  core::duration ttl_left{};                     ///< zero once expired
  std::optional<core::time_point> expires;       ///< empty before login or for a TTL-less token
  std::optional<core::time_point> next_renewal;  ///< empty when no renewal is planned
  std::optional<core::time_point> last_renewal;  ///< the last successful renewal
  std::string last_error;                        ///< Vault's summary or the transport error
  std::uint64_t logins = 0;
  std::string method;  ///< auth.method ("approle", "kubernetes", ...)
  std::uint64_t renewals_ok = 0;
  std::uint64_t renewal_failures = 0;
};

/// Owns the sidecar's Vault token: one login per process (auth.method: AppRole, Kubernetes,
/// JWT or TLS certificate; token_file adopts a token read from a file after a lookup-self, and
/// never revokes it, as the sidecar did not create it), then renew-self once
/// renew_at of the TTL has passed, checked every check_interval and exactly at the renewal
/// point. After a failed renewal it never logs in again (the secret_id may have expired or been
/// used up); it applies auth.on_renew_failure instead: `exit` reports the token lost, and
/// `serve_cached` stops calling Vault and reports degraded. The one exception is
/// auth.relogin = on_expiry with kubernetes, jwt or cert (relogin_due): a token at its max TTL
/// is replaced by a new login at renew_at of its last TTL, and a refused or expired one at once.
///
/// Thread affinity: io thread only (token(), stats() included). Cancellation: async_login() and
/// async_run() stop at their next wait and complete with net::error::operation_aborted.
/// Deadlines: each request is bounded by the vault::client's request_timeout, so a last login
/// attempt may end up to one request_timeout after login_timeout. Decisions read the injected
/// clock; waits are real steady timers.
/// Errors: auth::errc login_refused, vault_unavailable, token_lost; the reason is in
/// stats().last_error and in the log. No log line carries the token, its accessor, the role_id
/// or the secret_id.
class token_manager final : public vault::token_source {
 public:
  token_manager(vault::client& vault, core::clock& clock, const config::auth_config& config,
                credentials login_credentials,
                core::uniform_source random = core::make_random_source());

  /// Logs in (`POST /v1/auth/<mount>/login`, make_login_request; kubernetes and jwt re-read
  /// auth.jwt_file before each attempt, a failed read ends the login with its auth::errc).
  /// token_file sends `GET auth/token/lookup-self` instead. A refusal is final
  /// (login_refused, after one request); an unavailable Vault is retried with jittered backoff
  /// (1 s doubling to 30 s) until login_timeout (vault_unavailable). The credentials are
  /// dropped after a successful login. Sends nothing once a login has succeeded.
  net::awaitable<result<void>> async_login();

  /// The renewal loop; call after a successful login. Completes with auth::errc::token_lost
  /// when the token is lost under policy `exit`, with success once it degraded under
  /// `serve_cached` (nothing left to do: no request is ever sent again), and with
  /// operation_aborted when cancelled.
  net::awaitable<result<void>> async_run();

  /// The token for X-Vault-Token; empty before login. Stable: renewals keep the same token.
  [[nodiscard]] const core::secret_string& token() const noexcept { return token_; }
  /// The token's accessor (revocation and cache-clear by reference); empty before login.
  [[nodiscard]] const core::secret_string& accessor() const noexcept { return accessor_; }
  /// The token while it is usable (status ok); nullptr before login and once degraded or lost,
  /// so the cache, the lease store and the proxy stop calling Vault.
  [[nodiscard]] const core::secret_string* current_token() const noexcept override {
    return status_ == token_status::ok ? &token_ : nullptr;
  }
  /// Brings the renewal forward to now: async_run() renews at its next check (within
  /// check_interval), and a refused renewal applies on_renew_failure. Never logs in again.
  void report_invalid_token() noexcept override;
  /// Called after each new login of auth.relogin = on_expiry (never for the first login).
  void on_token_replaced(std::function<void()> handler) override {
    replaced_handlers_.push_back(std::move(handler));
  }
  [[nodiscard]] token_status status() const noexcept { return status_; }
  [[nodiscard]] token_stats stats() const;

 private:
  enum class renew_result {
    renewed,
    retry,    ///< transient failure (or cancelled): try again at renewal_point()
    refused,  ///< classify_renewal_failure said permanent: apply the policy now
  };

  /// Sends a login or renew-self; an answer without an `auth` object is malformed. Records the
  /// failure text (Vault's message, secrets redacted) in last_error_.
  net::awaitable<result<vault::envelope>> async_auth_call(vault::request request,
                                                          bool auth_expected = true);
  net::awaitable<renew_result> async_renew();
  /// One login with the configured method (the JWT re-read first); adopts the token.
  net::awaitable<result<void>> async_login_once();
  /// auth.secret_id_response_wrapping_path: the secret_id source held a wrapping token; looks
  /// it up, refuses it unless its creation_path is the configured one (login_refused, nothing
  /// unwrapped), then unwraps it into the secret_id. Once per process (single use).
  net::awaitable<result<void>> async_unwrap_secret_id();
  /// token_file: lookup-self of the token read from the file, then adopts it.
  net::awaitable<result<void>> async_adopt_file_token();
  /// relogin = on_expiry: logs in again until it works (jittered backoff). The old token serves
  /// while it lives; after that (or once Vault refused it) status is degraded, or under policy
  /// exit the token is lost. Completes with success, token_lost or operation_aborted.
  net::awaitable<result<void>> async_relogin(const std::string& why);
  void adopt_login(const vault::envelope& answer, core::time_point sent);
  /// token_file: adopts the token read from the file after its lookup-self; false when the
  /// answer has no usable ttl (last_error_ says why).
  [[nodiscard]] bool adopt_file_token(const vault::envelope& answer, core::time_point sent);
  void adopt_renewal(const vault::envelope& answer, core::time_point sent);
  [[nodiscard]] core::time_point renewal_point() const noexcept;
  [[nodiscard]] result<void> give_up(const std::string& why);
  void log_schedule(const char* event) const;

  vault::client& vault_;
  core::clock& clock_;
  const config::auth_config& config_;
  credentials credentials_;
  core::secret_string token_;
  core::secret_string accessor_;
  token_state state_;
  core::backoff login_backoff_;
  core::backoff renew_backoff_;
  std::optional<core::time_point> renew_retry_at_;  ///< after a transient failure
  bool secret_id_unwrapped_ = false;  ///< the wrapping token was spent: never unwrap again
  bool token_refused_ = false;        ///< a renewal was refused; relogin = on_expiry logs in again
  token_status status_ = token_status::starting;
  std::optional<core::time_point> last_renewal_;
  std::string last_error_;
  std::uint64_t logins_ = 0;
  std::uint64_t renewals_ok_ = 0;
  std::uint64_t renewal_failures_ = 0;
  std::vector<std::function<void()>> replaced_handlers_;
};

}  // namespace sidecar::auth
