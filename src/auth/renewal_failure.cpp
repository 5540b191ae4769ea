#include <sidecar/auth/renewal_failure.hpp>

#include <sidecar/vault/errc.hpp>

namespace sidecar::auth {

renewal_failure classify_renewal_failure(boost::system::error_code error) noexcept {
  if (error.category() != vault::error_category()) return renewal_failure::transient;
  // No default: a new vault::errc must be classified here (-Wswitch).
  switch (static_cast<vault::errc>(error.value())) {
    case vault::errc::bad_request:
    case vault::errc::permission_denied:
    case vault::errc::invalid_token:
      return renewal_failure::permanent;
    case vault::errc::unreachable:
    case vault::errc::timeout:
    case vault::errc::tls_failure:
    case vault::errc::malformed_response:
    case vault::errc::response_too_large:
    case vault::errc::not_found:
    case vault::errc::rate_limited:
    case vault::errc::sealed:
    case vault::errc::server_error:
    case vault::errc::unexpected_status:
      return renewal_failure::transient;
  }
  return renewal_failure::transient;
}

}  // namespace sidecar::auth
