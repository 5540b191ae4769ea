#pragma once

#include <sidecar/config/config.hpp>
#include <sidecar/core/secret_string.hpp>
#include <sidecar/proxy/lease_housekeeping.hpp>
#include <sidecar/proxy/target.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::proxy {

/// What a request is, once routed. Every class but `deny` goes to the request handler.
enum class route_class {
  kv_read,             ///< GET/HEAD/LIST (or GET ?list=true) on an allowed KV path
  kv_write,            ///< PUT/POST/PATCH/DELETE on an allowed KV path, with forward_writes
  dynamic_read,        ///< GET /v1/<mount>/creds/<role> on an allowed path
  sys_health,          ///< GET|HEAD /v1/sys/health: passed through without a token
  local_health,        ///< GET|HEAD /sidecar/v1/health
  local_metrics,       ///< GET|HEAD /sidecar/v1/metrics, /proxy/v1/metrics
  local_cache_clear,   ///< POST|PUT /sidecar/v1/cache-clear, /proxy/v1/cache-clear
  local_quit,          ///< POST /sidecar/v1/quit, with enable_quit
  mount_preflight,     ///< GET|HEAD /v1/sys/internal/ui/mounts/<allowed path> (mount_preflight.hpp)
  token_self,          ///< auth/token/{lookup,renew,revoke}-self, answered locally (token_self.hpp)
  lease_housekeeping,  ///< PUT|POST sys/leases/renew|lookup|revoke: answered locally (issue 18)
  deny,                ///< answered by the listener itself with `status` and `reason`
};
inline constexpr std::size_t route_class_count = 12;

/// The metric label of a class: "kv_read", "deny", ...
[[nodiscard]] std::string_view to_string(route_class kind) noexcept;

/// What a lease_housekeeping decision carries beyond the path.
struct lease_details {
  lease_operation operation = lease_operation::lookup;
  /// The lease id of a path form (`sys/renew/<id>`). The router cuts it from `target.path`,
  /// which the audit and debug logs show, so no log line ever holds a lease id.
  core::secret_string path_lease_id;
  /// With [client.*] sections, the caller's client allow list, which must cover the lease's
  /// path (check_client_access); nullopt without them.
  std::optional<std::vector<std::string>> caller_allow;
};

/// The router's verdict on one request.
struct route_decision {
  route_class kind = route_class::deny;
  normalised_target target;  ///< empty when the target itself was refused
  /// target.upstream_target() of an allowed decision, built once here: the cache's key and what
  /// goes to Vault. Empty for a denial.
  std::string upstream_target;
  bool list = false;       ///< kv_read only: a LIST (method LIST, or GET with a true `list`)
  unsigned status = 0;     ///< deny only: 400, 403, 404, 405 or 412
  std::string reason;      ///< deny only: the message for Vault's {"errors":[reason]}
  std::string_view allow;  ///< deny with 405: the Allow header (static text)
  lease_details lease;     ///< lease_housekeeping only

  [[nodiscard]] bool allowed() const noexcept { return kind != route_class::deny; }
};

/// Whether a normalised path matches one `proxy.allow` pattern: exact, or a prefix match when
/// the pattern ends in '*' ("/v1/kv-*" matches "/v1/kv-demo/data/x").
[[nodiscard]] bool path_matches(std::string_view path, std::string_view pattern) noexcept;

/// Routes a request whose target is already normalised. Pure and total.
///
/// Local endpoints (/sidecar/v1/*, /proxy/v1/*), /v1/sys/health and the lease housekeeping
/// endpoints (match_lease_endpoint; POST and PUT, the lease id moved out of the path) come first
/// and ignore `proxy.allow`; an unknown local path is 404, and /sidecar/v1/quit is 404 unless
/// `enable_quit`. Under /v1/auth/ only the token self-calls pass (answered locally), all else is
/// 403; a KV mount preflight passes when its path is in the allowed space (preflight_allowed),
/// bare or outside it is 403. Any other path must be under /v1/ and match `proxy.allow`, else 403.
/// A KV read keeps only the query parameters Vault reads there (filter_kv_read_query), decided
/// on the decoded query; a query Vault would refuse is 400. An
/// allowed path shaped /v1/<mount>/creds/<role> is a dynamic secret (GET only); a path with a
/// "creds" third segment in any other shape is 404. Every other allowed path is KV. A method a
/// route does not take is 405 with an Allow header; writes without `forward_writes` included.
[[nodiscard]] route_decision route(std::string_view method, normalised_target target,
                                   const config::proxy_config& proxy,
                                   const config::listener_config& listener);

/// normalise_target then route: a refused target is 400 (or 405 when the method is one no
/// route takes, such as CONNECT with its authority-form target).
[[nodiscard]] route_decision route_request(std::string_view method, std::string_view target,
                                           const config::proxy_config& proxy,
                                           const config::listener_config& listener);

/// Applies `listener.require_request_header`: an allowed decision becomes 412 `missing
/// "X-Vault-Request" header` unless `header_value` is exactly "true". GET /sidecar/v1/health
/// and GET of the metrics endpoints are exempt, so probes and scrapers work unchanged. A denied
/// decision is returned as it is.
[[nodiscard]] route_decision check_request_header(route_decision decision, std::string_view method,
                                                  std::string_view header_value, bool required);

}  // namespace sidecar::proxy
