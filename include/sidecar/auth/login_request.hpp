#pragma once

#include <sidecar/auth/credentials.hpp>
#include <sidecar/config/config.hpp>
#include <sidecar/core/secret_string.hpp>

#include <string>

namespace sidecar::auth {

/// The `POST /v1/auth/<mount>/login` one method sends (vault-api.md §3.3; tests/support/
/// vault-api-additions.md, Issue 20, for kubernetes, jwt and cert).
struct login_request {
  std::string target;        ///< /v1/auth/<mount>/login
  core::secret_string body;  ///< JSON; holds the secret_id or JWT, so never logged
};

/// Builds the login of auth.method from the credentials read for it:
///   approle     {"role_id": ..., "secret_id": ...}
///   kubernetes  {"role": auth.role, "jwt": ...}
///   jwt         {"role": auth.role, "jwt": ...}
///   cert        {"name": auth.role}, or {} without a role (Vault then tries every role that
///               trusts the client certificate, which goes over the TLS handshake, not the body)
/// token_file has no login; asking for one is a broken invariant (std::logic_error).
/// The body is escaped by hand into one reserved buffer: a JSON library would leave
/// uncleansed copies of the secret behind.
[[nodiscard]] login_request make_login_request(const config::auth_config& config,
                                               const credentials& login);

/// `{"token": ...}`, the body of `POST /v1/sys/wrapping/lookup` for a response-wrapping token.
[[nodiscard]] core::secret_string wrapping_lookup_body(const core::secret_string& wrapping_token);

/// "AppRole", "Kubernetes", "JWT", "TLS certificate", "token file": for log lines.
[[nodiscard]] const char* method_title(config::auth_method method) noexcept;

}  // namespace sidecar::auth
