#include <sidecar/vault/errc.hpp>

#include <string>

namespace sidecar::vault {
namespace {

class category_impl final : public boost::system::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "vault"; }
  [[nodiscard]] std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::unreachable:
        return "Vault unreachable";
      case errc::timeout:
        return "Vault did not answer within request_timeout";
      case errc::tls_failure:
        return "TLS handshake with Vault failed";
      case errc::malformed_response:
        return "malformed answer from Vault";
      case errc::response_too_large:
        return "answer from Vault over the size limit";
      case errc::bad_request:
        return "Vault refused the request (400)";
      case errc::permission_denied:
        return "permission denied (403)";
      case errc::invalid_token:
        return "invalid token (403)";
      case errc::not_found:
        return "not found (404)";
      case errc::rate_limited:
        return "rate limited (429)";
      case errc::sealed:
        return "Vault is sealed (503)";
      case errc::server_error:
        return "Vault server error (5xx)";
      case errc::unexpected_status:
        return "unexpected status from Vault";
    }
    return "unknown vault error";
  }
};

}  // namespace

std::string_view name(errc e) noexcept {
  switch (e) {
    case errc::unreachable:
      return "unreachable";
    case errc::timeout:
      return "timeout";
    case errc::tls_failure:
      return "tls_failure";
    case errc::malformed_response:
      return "malformed_response";
    case errc::response_too_large:
      return "response_too_large";
    case errc::bad_request:
      return "bad_request";
    case errc::permission_denied:
      return "permission_denied";
    case errc::invalid_token:
      return "invalid_token";
    case errc::not_found:
      return "not_found";
    case errc::rate_limited:
      return "rate_limited";
    case errc::sealed:
      return "sealed";
    case errc::server_error:
      return "server_error";
    case errc::unexpected_status:
      return "unexpected_status";
  }
  return "unknown";
}

const boost::system::error_category& error_category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace sidecar::vault
