#pragma once

#include <string>
#include <string_view>
#include <variant>

namespace sidecar::proxy {

/// A `POST /sidecar/v1/cache-clear` body as Vault Proxy takes it:
/// `{"type": "all" | "request_path" | "lease" | "token" | "token_accessor", "value": "..."}`.
struct cache_clear_request {
  enum class kind { all, request_path, lease, token, token_accessor };
  kind type = kind::all;
  std::string value;
};

/// The type's name as Vault Proxy spells it ("request_path").
[[nodiscard]] std::string_view to_string(cache_clear_request::kind type) noexcept;

/// Why a body was refused, worded as Vault Proxy words it (400).
struct cache_clear_error {
  std::string message;
};

/// Pure: parses and checks a cache-clear body. An empty body is Vault Proxy's
/// `failed to parse JSON input: empty JSON provided`; request_path, lease, token and
/// token_accessor need a non-empty string `value`.
[[nodiscard]] std::variant<cache_clear_request, cache_clear_error> parse_cache_clear(
    std::string_view body);

}  // namespace sidecar::proxy
