#pragma once

#include <boost/system/error_code.hpp>

namespace sidecar::auth {

enum class renewal_failure {
  transient,  ///< retry until the token expires: Vault may answer again before then
  permanent,  ///< Vault's verdict on this token: retrying cannot help, apply the policy now
};

/// How a failed renew-self must be treated. Permanent: 400 (e.g. `past the max TTL, cannot
/// renew`, `lease is not renewable`) and 403 (`invalid token`: revoked, expired, used up; or
/// `permission denied`). Everything else is transient: unreachable, timeout, TLS failure, 429,
/// sealed, 5xx, a malformed or oversized answer, 404 and other statuses. Erring towards
/// transient is safe because retries end when the token expires anyway, whereas a wrong
/// `permanent` would give up a token that is still good.
[[nodiscard]] renewal_failure classify_renewal_failure(boost::system::error_code error) noexcept;

}  // namespace sidecar::auth
