#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace sidecar::auth {

/// Why the sidecar has no usable token. Each maps to one way the process reacts (DESIGN.md exit
/// codes): the credential errors are start-up failures, login_refused exits 77,
/// vault_unavailable 69, token_lost 75. no_token is what the readers of the token (cache, lease
/// store, proxy) report instead of asking Vault; the proxy answers it with 503.
enum class errc {
  role_id_missing = 1,     ///< no auth.role_id_file and no $VAULT_ROLE_ID
  secret_id_missing,       ///< no auth.secret_id_file, $VAULT_SECRET_ID or systemd credential
  credential_unreadable,   ///< a role_id/secret_id file could not be opened or read
  credential_empty,        ///< a role_id/secret_id is empty after trimming whitespace
  credential_not_removed,  ///< remove_secret_id_file_after_reading failed to delete the file
  login_refused,           ///< Vault answered the login with 400/403/404: retrying cannot help
  vault_unavailable,       ///< Vault could not be reached for a login within login_timeout
  token_lost,              ///< renewal failed or the token expired, policy `exit`
  no_token,                ///< no token to send right now, so Vault was not asked
};

[[nodiscard]] const boost::system::error_category& error_category() noexcept;

[[nodiscard]] inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace sidecar::auth

template <>
struct boost::system::is_error_code_enum<sidecar::auth::errc> : std::true_type {};
