#pragma once

#include <boost/system/error_code.hpp>

namespace sidecar::auth {

enum class login_failure {
  refused,    ///< Vault looked at the credentials and said no: exit 77 with its message
  retryable,  ///< Vault could not answer: retry with backoff until login_timeout, then exit 69
};

/// How a failed AppRole login must be treated. Refused: any 400 (`invalid role or secret ID`,
/// `missing secret_id`, a CIDR restriction), 403 (user lockout, permission denied) and 404 (no
/// such auth mount: a configuration error no retry fixes). Retryable: unreachable, timeout, TLS
/// failure (a certificate being rotated), 429, sealed, 5xx, a malformed answer and any other
/// status.
[[nodiscard]] login_failure login_failure_kind(boost::system::error_code error) noexcept;

}  // namespace sidecar::auth
