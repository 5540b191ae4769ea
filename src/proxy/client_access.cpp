#include <sidecar/proxy/client_access.hpp>
#include <sidecar/proxy/mount_preflight.hpp>

#include <algorithm>
#include <string>

namespace sidecar::proxy {
namespace {

bool contains(const std::vector<std::uint32_t>& ids, std::uint32_t id) noexcept {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

route_decision refuse(route_decision decision, std::string reason) {
  decision.kind = route_class::deny;
  decision.upstream_target.clear();
  decision.list = false;
  decision.status = 403;
  decision.reason = std::move(reason);
  decision.allow = {};
  return decision;
}

}  // namespace

std::optional<std::size_t> match_client(const std::vector<config::client_config>& clients,
                                        const peer_identity& peer) noexcept {
  if (!peer.uid) return std::nullopt;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    const auto& c = clients[i];
    if (contains(c.uids, *peer.uid) || contains(c.member_uids, *peer.uid) ||
        (peer.gid && contains(c.gids, *peer.gid))) {
      return i;
    }
  }
  return std::nullopt;
}

route_decision check_client_access(route_decision decision,
                                   const std::vector<config::client_config>& clients,
                                   std::optional<std::size_t> client, const peer_identity& peer) {
  if (clients.empty() || !decision.allowed()) return decision;
  if (!client) {
    if (decision.kind == route_class::local_health || decision.kind == route_class::local_metrics) {
      return decision;
    }
    const auto who = peer.uid ? "uid " + std::to_string(*peer.uid) : std::string{"unknown caller"};
    return refuse(std::move(decision),
                  "permission denied: this caller (" + who + ") matches no [client.*] section");
  }
  const auto& allowed = clients[*client];
  if (decision.kind == route_class::lease_housekeeping) {
    // Which leases it may touch is known only once the lease is found: the handler checks.
    decision.lease.caller_allow = allowed.allow;
    return decision;
  }
  if (decision.kind == route_class::mount_preflight) {
    // The Vault CLI's preflight tells the mount of a path: only of one in this client's space.
    const auto secret = preflight_secret_path(decision.target.path);
    if (secret && preflight_allowed(*secret, allowed.allow)) return decision;
    return refuse(std::move(decision),
                  "permission denied: path is not in client." + allowed.name + "'s allow list");
  }
  const bool secret_path = decision.kind == route_class::kv_read ||
                           decision.kind == route_class::kv_write ||
                           decision.kind == route_class::dynamic_read;
  if (!secret_path) return decision;
  const auto& path = decision.target.path;
  const bool inside = std::any_of(allowed.allow.begin(), allowed.allow.end(),
                                  [&](const std::string& p) { return path_matches(path, p); });
  if (inside) return decision;
  return refuse(std::move(decision),
                "permission denied: path is not in client." + allowed.name + "'s allow list");
}

}  // namespace sidecar::proxy
