#include <sidecar/proxy/browser_guard.hpp>

#include <algorithm>
#include <array>

namespace sidecar::proxy {
namespace {

constexpr std::string_view every_method = "GET, HEAD, LIST, POST, PUT, PATCH, DELETE";

bool iequal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// ":" and 1 to 5 digits, or nothing at all.
bool port_suffix(std::string_view rest) noexcept {
  if (rest.empty()) return true;
  if (rest.front() != ':') return false;
  rest.remove_prefix(1);
  return !rest.empty() && rest.size() <= 5 &&
         std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

bool loopback_host(std::string_view host) noexcept {
  // Only these spellings: "127.1", "0x7f.1" or "127.0.0.2" are loopback too, but no browser
  // page needs them and a short list leaves no parser differences to exploit.
  static constexpr std::array<std::string_view, 3> names{"127.0.0.1", "[::1]", "localhost"};
  return std::any_of(names.begin(), names.end(), [&](std::string_view name) {
    return host.size() >= name.size() && iequal(host.substr(0, name.size()), name) &&
           port_suffix(host.substr(name.size()));
  });
}

bool loopback_origin(std::string_view origin) noexcept {
  constexpr std::string_view scheme = "http://";
  return origin.size() > scheme.size() && iequal(origin.substr(0, scheme.size()), scheme) &&
         loopback_host(origin.substr(scheme.size()));
}

std::optional<guard_refusal> check_browser_guards(const browser_signals& request,
                                                  bool unix_socket) noexcept {
  if (request.repeated) {
    return guard_refusal{400, "Host, Origin and Sec-Fetch-Site may each appear only once", {}};
  }
  if (!request.host) {
    if (request.version >= 11) return guard_refusal{400, "missing Host header", {}};
  } else if (!unix_socket && !loopback_host(*request.host)) {
    return guard_refusal{
        403,
        "permission denied: Host must be 127.0.0.1, [::1] or localhost (DNS rebinding guard)",
        {}};
  }
  if (request.sec_fetch_site && *request.sec_fetch_site != "none" &&
      *request.sec_fetch_site != "same-origin") {
    return guard_refusal{
        403, "permission denied: requests from web pages are refused (Sec-Fetch-Site)", {}};
  }
  if (request.origin && !loopback_origin(*request.origin)) {
    return guard_refusal{
        403, "permission denied: requests from web pages are refused (Origin is not loopback)", {}};
  }
  if (request.method == "OPTIONS") {
    return guard_refusal{405, "method not allowed: vault-sidecar answers no CORS preflight",
                         every_method};
  }
  return std::nullopt;
}

}  // namespace sidecar::proxy
