#pragma once

#include <optional>
#include <string_view>

namespace sidecar::proxy {

/// The headers a browser sets and a page cannot forge, as one request carried them. A header
/// absent is nullopt; one sent more than once sets `repeated` (its first value is kept).
struct browser_signals {
  std::string_view method;
  unsigned version = 11;  ///< 10 or 11
  std::optional<std::string_view> host;
  std::optional<std::string_view> origin;
  std::optional<std::string_view> sec_fetch_site;
  bool repeated = false;
};

/// Why a request is refused before routing, in Vault's error shape.
struct guard_refusal {
  unsigned status = 403;
  std::string_view reason;  ///< static text
  std::string_view allow;   ///< the Allow header of a 405, else empty
};

/// The browser guards of the HTTP contract, checked before routing on every listener and every
/// route, so no guard depends on what a path is:
/// - `Host` must name loopback (`127.0.0.1`, `[::1]`, `localhost` in any case, with or without a
///   port): a page whose name was rebound to 127.0.0.1 still sends its own name. On the unix
///   socket no browser can connect and any Host is accepted. HTTP/1.1 without a Host, or any
///   request with two, is 400 (RFC 9112 §3.2); HTTP/1.0 without one is no browser and passes.
/// - `Sec-Fetch-Site`, when present, must be `none` (typed by the user) or `same-origin`; a
///   page on another site, even a same-site one, is refused.
/// - `Origin`, when present, must be a loopback origin (`http://127.0.0.1[:port]`,
///   `http://localhost[:port]`, `http://[::1][:port]`); `null` and every other origin are
///   refused, which also stops a cross-site `text/plain` POST that needs no preflight.
/// - `OPTIONS` (a CORS preflight) is 405: the sidecar grants no browser anything.
/// Pure and total.
[[nodiscard]] std::optional<guard_refusal> check_browser_guards(const browser_signals& request,
                                                                bool unix_socket) noexcept;

/// Whether `host` (a Host header's value) names loopback: exactly one of the three names, any
/// case, optionally followed by ":" and 1 to 5 digits.
[[nodiscard]] bool loopback_host(std::string_view host) noexcept;

/// Whether `origin` is "http://" followed by a loopback_host.
[[nodiscard]] bool loopback_origin(std::string_view origin) noexcept;

}  // namespace sidecar::proxy
