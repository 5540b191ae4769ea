#pragma once

#include <sidecar/core/asio.hpp>

#include <string_view>

namespace sidecar::proxy {

/// An answer in Vault's error shape: `status`, Content-Type application/json and the body
/// {"errors":[message]} (the message JSON-escaped). The one place where the listener's and the
/// handler's own refusals (400, 403, 405, 412, 413, 431, 502, 504) get their shape.
[[nodiscard]] string_response error_response(unsigned status, std::string_view message);

}  // namespace sidecar::proxy
