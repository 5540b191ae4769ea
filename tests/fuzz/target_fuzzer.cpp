// libFuzzer target: the proxy's request-target normaliser and router (src/proxy/target.cpp,
// router.cpp), the only code between a local client's bytes and the allow-list decision.
//
// Input: one flag byte, then `METHOD TARGET`, then optional `\n`-separated proxy.allow patterns
// (none: the default allow list). Flag bits: forward_writes, enable_quit,
// require_request_header, and whether the request carries `X-Vault-Request: true`.
//
// Invariants checked (a violation aborts, which libFuzzer reports as a crash):
//  - an accepted target is in canonical form: starts with '/', no empty, "." or ".." segment,
//    no control byte, DEL or backslash, and normalising its upstream form gives it back;
//  - the upstream form is printable ASCII without blanks, so it cannot split a request line;
//  - an allowed Vault route (KV, dynamic secret) is under /v1/ and matches an allow pattern;
//  - a denied decision has a 4xx status and a reason, and 405 comes with an Allow header;
//  - lease housekeeping is never forwarded and leaves no lease id in the (logged) path.

#include "require.hpp"

#include <sidecar/config/config.hpp>
#include <sidecar/proxy/router.hpp>
#include <sidecar/proxy/target.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace sidecar;

using fuzz::require;

void check_canonical(const proxy::normalised_target& target) {
  const auto& path = target.path;
  require(!path.empty() && path.front() == '/', "normalised path starts with '/'");
  require(path.find("//") == std::string::npos, "normalised path has no empty segment");
  require(path.find("/./") == std::string::npos && !path.ends_with("/."),
          "normalised path has no '.' segment");
  require(path.find("/../") == std::string::npos && !path.ends_with("/.."),
          "normalised path has no '..' segment");
  require(std::none_of(path.begin(), path.end(),
                       [](char c) {
                         const auto byte = static_cast<unsigned char>(c);
                         return byte < 0x20 || byte == 0x7f || c == '\\';
                       }),
          "normalised path has no control byte, DEL or backslash");

  const auto upstream = target.upstream_target();
  require(std::all_of(upstream.begin(), upstream.end(),
                      [](char c) {
                        const auto byte = static_cast<unsigned char>(c);
                        return byte > 0x20 && byte < 0x7f;
                      }),
          "upstream target is printable ASCII without blanks");
  const auto again = proxy::normalise_target(upstream);
  require(again.has_value(), "upstream target normalises again");
  require(*again == target, "upstream target normalises to the same target");
}

void check_decision(const proxy::route_decision& decision, const config::proxy_config& proxy) {
  using proxy::route_class;
  if (!decision.allowed()) {
    require(decision.status >= 400 && decision.status < 500, "a denial is a 4xx");
    require(!decision.reason.empty(), "a denial has a reason");
    require(decision.status != 405 || !decision.allow.empty(), "a 405 has an Allow header");
    return;
  }
  check_canonical(decision.target);
  require(decision.status == 0 && decision.reason.empty(), "an allowed route has no status");
  if (decision.kind == route_class::kv_read || decision.kind == route_class::kv_write ||
      decision.kind == route_class::dynamic_read) {
    const auto& path = decision.target.path;
    require(path.starts_with("/v1/"), "a Vault route is under /v1/");
    require(std::any_of(proxy.allow.begin(), proxy.allow.end(),
                        [&](const std::string& p) { return proxy::path_matches(path, p); }),
            "a Vault route matches proxy.allow");
  }
  if (decision.kind == route_class::lease_housekeeping) {
    require(decision.upstream_target.empty(), "lease housekeeping goes nowhere upstream");
    const auto endpoint = proxy::match_lease_endpoint(decision.target.path);
    require(endpoint && endpoint->path_lease_id.empty(), "no lease id stays in the path");
  }
  require(decision.kind != route_class::kv_write || proxy.forward_writes,
          "writes pass only with forward_writes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto flags = data[0];
  std::string_view input{reinterpret_cast<const char*>(data + 1), size - 1};

  config::proxy_config proxy;
  config::listener_config listener;
  proxy.forward_writes = (flags & 1) != 0;
  listener.enable_quit = (flags & 2) != 0;
  listener.require_request_header = (flags & 4) != 0;
  const std::string_view header_value = (flags & 8) != 0 ? "true" : "";

  const auto line_end = input.find('\n');
  const auto request_line = input.substr(0, line_end);
  if (line_end != std::string_view::npos) {
    proxy.allow.clear();
    auto patterns = input.substr(line_end + 1);
    while (!patterns.empty()) {
      const auto end = patterns.find('\n');
      proxy.allow.emplace_back(patterns.substr(0, end));
      patterns = end == std::string_view::npos ? std::string_view{} : patterns.substr(end + 1);
    }
  }
  const auto space = request_line.find(' ');
  const auto method = request_line.substr(0, space);
  const auto target =
      space == std::string_view::npos ? std::string_view{} : request_line.substr(space + 1);

  if (const auto normalised = proxy::normalise_target(target)) {
    require(target.size() <= proxy::max_target_length, "an accepted target is within the bound");
    check_canonical(*normalised);
  }

  auto decision = proxy::route_request(method, target, proxy, listener);
  check_decision(decision, proxy);
  decision = proxy::check_request_header(std::move(decision), method, header_value,
                                         listener.require_request_header);
  check_decision(decision, proxy);
  (void)proxy::to_string(decision.kind);
  return 0;
}
