#include <sidecar/proxy/errc.hpp>
#include <sidecar/proxy/mount_preflight.hpp>
#include <sidecar/proxy/query_filter.hpp>
#include <sidecar/proxy/router.hpp>
#include <sidecar/proxy/token_self.hpp>

#include <algorithm>
#include <array>
#include <variant>

namespace sidecar::proxy {
namespace {

// Allow header values (RFC 9110 §15.5.6: a 405 lists what the resource does take).
constexpr std::string_view kv_read_methods = "GET, HEAD, LIST";
constexpr std::string_view kv_all_methods = "GET, HEAD, LIST, POST, PUT, PATCH, DELETE";
constexpr std::string_view get_only = "GET";
constexpr std::string_view get_or_head = "GET, HEAD";
constexpr std::string_view post_or_put = "POST, PUT";
constexpr std::string_view post_only = "POST";

constexpr std::string_view outside_allow =
    "permission denied: path is not in the sidecar's allow list";
constexpr std::string_view method_refused = "method not allowed";
constexpr std::string_view auth_refused =
    "permission denied: auth/ paths answer with tokens and are never forwarded";

// HTTP methods are case-sensitive (RFC 9110 §9.1): "get" is not GET.
bool is_get_or_head(std::string_view m) noexcept { return m == "GET" || m == "HEAD"; }
bool is_write(std::string_view m) noexcept {
  return m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE";
}
bool is_served_method(std::string_view m) noexcept {
  return is_get_or_head(m) || is_write(m) || m == "LIST";
}

route_decision deny(unsigned status, std::string_view reason, normalised_target target = {},
                    std::string_view allow = {}) {
  return route_decision{.kind = route_class::deny,
                        .target = std::move(target),
                        .upstream_target = {},
                        .list = false,
                        .status = status,
                        .reason = std::string{reason},
                        .allow = allow,
                        .lease = {}};
}

route_decision accept(route_class kind, normalised_target target, bool list = false) {
  auto upstream = target.upstream_target();
  return route_decision{.kind = kind,
                        .target = std::move(target),
                        .upstream_target = std::move(upstream),
                        .list = list,
                        .status = 0,
                        .reason = {},
                        .allow = {},
                        .lease = {}};
}

// An endpoint that takes a fixed set of methods: `accepted` is the Allow header too.
route_decision endpoint(route_class kind, std::string_view method, std::string_view accepted,
                        normalised_target target) {
  std::size_t start = 0;
  while (start < accepted.size()) {
    auto end = accepted.find(", ", start);
    if (end == std::string_view::npos) end = accepted.size();
    if (accepted.substr(start, end - start) == method) return accept(kind, std::move(target));
    start = end + 2;
  }
  return deny(405, method_refused, std::move(target), accepted);
}

// The path's segments after "/v1/": how many (an empty last one counts, for a trailing '/')
// and the first three, which is all the router looks at. No allocation: every request runs this.
struct v1_segments {
  std::size_t count = 0;
  std::array<std::string_view, 3> first;
};

v1_segments segments_after_v1(std::string_view path) {
  v1_segments parts;
  path.remove_prefix(4);
  std::size_t start = 0;
  for (;;) {
    const auto end = path.find('/', start);
    if (parts.count < parts.first.size()) {
      parts.first[parts.count] =
          path.substr(start, end == std::string_view::npos ? end : end - start);
    }
    ++parts.count;
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// Answered by the sidecar from its lease store, whatever `allow` says: nothing goes to Vault.
// The path is cut to `base_size`, out of every log line goes the lease id.
route_decision route_lease(std::string_view method, normalised_target target, std::size_t base_size,
                           lease_details details) {
  target.path.resize(base_size);
  auto decision = endpoint(route_class::lease_housekeeping, method, post_or_put, std::move(target));
  decision.upstream_target.clear();
  if (decision.allowed()) decision.lease = std::move(details);
  return decision;
}

route_decision route_local(std::string_view method, normalised_target target,
                           const config::listener_config& listener) {
  const auto& path = target.path;
  if (path == "/sidecar/v1/health") {
    return endpoint(route_class::local_health, method, get_or_head, std::move(target));
  }
  if (path == "/sidecar/v1/metrics" || path == "/proxy/v1/metrics") {
    return endpoint(route_class::local_metrics, method, get_or_head, std::move(target));
  }
  if (path == "/sidecar/v1/cache-clear" || path == "/proxy/v1/cache-clear") {
    return endpoint(route_class::local_cache_clear, method, post_or_put, std::move(target));
  }
  if (path == "/sidecar/v1/quit" && listener.enable_quit) {
    return endpoint(route_class::local_quit, method, post_only, std::move(target));
  }
  return deny(404, "no handler for route", std::move(target));
}

// The Vault CLI's KV preflight: forwarded only for a path the caller could read, never for the
// bare listing of every mount. It takes no query.
route_decision route_preflight(std::string_view method, normalised_target target,
                               const config::proxy_config& proxy) {
  const auto secret = preflight_secret_path(target.path);
  if (!secret || !preflight_allowed(*secret, proxy.allow)) {
    return deny(403, outside_allow, std::move(target));
  }
  target.query.clear();
  return endpoint(route_class::mount_preflight, method, get_or_head, std::move(target));
}

// A KV read or listing, with only the query parameters Vault reads there.
route_decision route_kv_read(std::string_view method, normalised_target target) {
  auto filtered = filter_kv_read_query(target.path, target.query, method == "LIST");
  if (auto* refused = std::get_if<query_refusal>(&filtered)) {
    return deny(400, refused->reason, std::move(target));
  }
  auto& kept = std::get<kv_read_query>(filtered);
  target.query = std::move(kept.query);
  return accept(route_class::kv_read, std::move(target), kept.list);
}

}  // namespace

std::string_view to_string(route_class kind) noexcept {
  switch (kind) {
    case route_class::kv_read:
      return "kv_read";
    case route_class::kv_write:
      return "kv_write";
    case route_class::dynamic_read:
      return "dynamic_read";
    case route_class::sys_health:
      return "sys_health";
    case route_class::local_health:
      return "local_health";
    case route_class::local_metrics:
      return "local_metrics";
    case route_class::local_cache_clear:
      return "local_cache_clear";
    case route_class::local_quit:
      return "local_quit";
    case route_class::mount_preflight:
      return "mount_preflight";
    case route_class::token_self:
      return "token_self";
    case route_class::deny:
      return "deny";
    case route_class::lease_housekeeping:
      return "lease_housekeeping";
  }
  return "deny";
}

bool path_matches(std::string_view path, std::string_view pattern) noexcept {
  if (!pattern.empty() && pattern.back() == '*') {
    return path.starts_with(pattern.substr(0, pattern.size() - 1));
  }
  return path == pattern;
}

route_decision route(std::string_view method, normalised_target target,
                     const config::proxy_config& proxy, const config::listener_config& listener) {
  const auto& path = target.path;
  if (path.starts_with("/sidecar/") || path.starts_with("/proxy/")) {
    return route_local(method, std::move(target), listener);
  }
  if (path == "/v1/sys/health")
    return endpoint(route_class::sys_health, method, get_or_head, std::move(target));
  if (const auto lease = match_lease_endpoint(path)) {
    // Copied first: `lease` views `path`, which moves with `target`.
    lease_details details{.operation = lease->operation,
                          .path_lease_id = core::secret_string{lease->path_lease_id},
                          .caller_allow = std::nullopt};
    return route_lease(method, std::move(target), lease->base.size(), std::move(details));
  }

  // Token and login endpoints answer with a token: lookup-self and renew-self with the
  // sidecar's own, create with a child of it, login with a new one. Whatever `allow` says, a
  // local client never gets them, so the sidecar's token stays the sidecar's. The self-calls
  // clients make at start-up are answered locally instead, about the caller's own token.
  if (path.starts_with("/v1/auth/")) {
    if (const auto call = token_self_call_of(path)) {
      return endpoint(route_class::token_self, method, token_self_methods(*call),
                      std::move(target));
    }
    return deny(403, auth_refused, std::move(target));
  }
  if (preflight_secret_path(path)) return route_preflight(method, std::move(target), proxy);

  const bool allowed =
      path.starts_with("/v1/") &&
      std::any_of(proxy.allow.begin(), proxy.allow.end(),
                  [&](const std::string& pattern) { return path_matches(path, pattern); });
  if (!allowed) return deny(403, outside_allow, std::move(target));

  // Dynamic secrets: exactly /v1/<mount>/creds/<role>. Anything else with "creds" in that place
  // is no secret engine path the sidecar serves.
  const auto parts = segments_after_v1(path);
  if (parts.count >= 2 && parts.first[1] == "creds") {
    if (parts.count != 3 || parts.first[0].empty() || parts.first[2].empty()) {
      return deny(404, "no dynamic secret at this path", std::move(target));
    }
    return endpoint(route_class::dynamic_read, method, get_only, std::move(target));
  }

  if (method == "LIST" || is_get_or_head(method)) return route_kv_read(method, std::move(target));
  if (is_write(method)) {
    if (proxy.forward_writes) return accept(route_class::kv_write, std::move(target));
    return deny(405, "writes are not forwarded (proxy.forward_writes is off)", std::move(target),
                kv_read_methods);
  }
  return deny(405, method_refused, std::move(target),
              proxy.forward_writes ? kv_all_methods : kv_read_methods);
}

route_decision route_request(std::string_view method, std::string_view target,
                             const config::proxy_config& proxy,
                             const config::listener_config& listener) {
  auto normalised = normalise_target(target);
  if (!normalised) {
    if (!is_served_method(method)) return deny(405, method_refused, {}, kv_all_methods);
    return deny(400, normalised.error().message());
  }
  return route(method, std::move(*normalised), proxy, listener);
}

route_decision check_request_header(route_decision decision, std::string_view method,
                                    std::string_view header_value, bool required) {
  if (!required || !decision.allowed() || header_value == "true") return decision;
  const bool probe = method == "GET" && (decision.kind == route_class::local_health ||
                                         decision.kind == route_class::local_metrics);
  if (probe) return decision;
  return deny(412, "missing \"X-Vault-Request\" header", std::move(decision.target));
}

}  // namespace sidecar::proxy
