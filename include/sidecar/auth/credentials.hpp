#pragma once

#include <sidecar/config/config.hpp>
#include <sidecar/core/result.hpp>
#include <sidecar/core/secret_string.hpp>

#include <functional>
#include <string>

namespace sidecar::auth {

/// Looks up an environment variable like std::getenv: nullptr when unset. Injected so tests do
/// not touch the process environment.
using env_lookup = std::function<const char*(const char* name)>;

/// The process environment (std::getenv).
[[nodiscard]] env_lookup process_environment();

/// What a login needs, read at start-up: the AppRole pair (read once), or the JWT of
/// kubernetes/jwt (read again before every login: the platform rotates it), or the token of
/// token_file. cert needs nothing here (the client certificate is in the TLS context).
/// `*_source` say where each came from, for logs and `check` ("file /etc/vault-sidecar/role_id",
/// "$VAULT_SECRET_ID", ...).
struct credentials {
  core::secret_string role_id;
  core::secret_string secret_id;
  std::string role_id_source;
  std::string secret_id_source;
  core::secret_string jwt;    ///< kubernetes, jwt: the contents of auth.jwt_file
  core::secret_string token;  ///< token_file: the contents of auth.token_file
};

/// With remove_secret_id_file_after_reading, deletes auth.secret_id_file (nothing to do
/// without either). Errors: credential_not_removed, logged with the path and the OS reason.
[[nodiscard]] result<void> remove_secret_id_file(const config::auth_config& config);

/// Reads auth.jwt_file afresh (kubernetes, jwt), trimmed. Errors: credential_unreadable,
/// credential_empty, logged with the path (never the value).
[[nodiscard]] result<core::secret_string> read_jwt(const config::auth_config& config);

/// Reads what auth.method logs in with: for kubernetes and jwt the auth.jwt_file, for
/// token_file the auth.token_file (a missing or empty file is an error naming it), for cert
/// nothing. For approle, the role_id and secret_id the configuration points at:
///
/// Precedence, first match wins (an explicit setting beats ambient state):
///   role_id:   auth.role_id_file, then $VAULT_ROLE_ID.
///   secret_id: auth.secret_id_file, then $VAULT_SECRET_ID, then
///              $CREDENTIALS_DIRECTORY/secret_id (a systemd LoadCredential=secret_id).
/// A configured file that cannot be read is an error, never a reason to fall back to the next
/// source: the operator named that file. Values are trimmed of surrounding whitespace (files
/// end in a newline); an empty value is an error. With remove_secret_id_file_after_reading the
/// auth.secret_id_file is deleted once read, unless it holds a wrapping token
/// (secret_id_response_wrapping_path): that file goes after the unwrap
/// (remove_secret_id_file); a systemd credential is never deleted (systemd owns
/// it, and it is not ours to remove).
///
/// Errors: auth::errc role_id_missing, secret_id_missing, credential_unreadable,
/// credential_empty, credential_not_removed; each also logged with the path and the OS reason
/// (never the value).
[[nodiscard]] result<credentials> load_credentials(const config::auth_config& config,
                                                   const env_lookup& env);

}  // namespace sidecar::auth
