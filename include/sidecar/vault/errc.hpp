#pragma once

#include <boost/system/error_code.hpp>

#include <string_view>
#include <type_traits>

namespace sidecar::vault {

/// Why a request to Vault did not succeed. Transport failures first, then Vault's own error
/// statuses, classified the way the sidecar must react to them.
enum class errc {
  unreachable = 1,     ///< refused, reset, closed without an answer, DNS failure
  timeout,             ///< request_timeout passed
  tls_failure,         ///< handshake or certificate verification failed
  malformed_response,  ///< not HTTP, truncated, or a body that is not Vault's JSON
  response_too_large,  ///< over the body limit
  bad_request,         ///< 400 (invalid role or secret ID, past the max TTL, ...)
  permission_denied,   ///< 403 without "invalid token": the policy says no
  invalid_token,       ///< 403 with "invalid token": revoked, expired or used up
  not_found,           ///< 404
  rate_limited,        ///< 429
  sealed,              ///< 503 "Vault is sealed"
  server_error,        ///< other 5xx
  unexpected_status,   ///< anything else that is not 2xx
};

[[nodiscard]] const boost::system::error_category& error_category() noexcept;

/// The enumerator's name ("unreachable", "timeout", ...): a metric label or log field.
[[nodiscard]] std::string_view name(errc e) noexcept;

[[nodiscard]] inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace sidecar::vault

template <>
struct boost::system::is_error_code_enum<sidecar::vault::errc> : std::true_type {};
