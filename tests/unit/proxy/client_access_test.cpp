#include <sidecar/proxy/client_access.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace sidecar;
using proxy::match_client;
using proxy::peer_identity;
using proxy::route_class;

namespace {

config::client_config client(std::string name, std::vector<std::uint32_t> uids,
                             std::vector<std::uint32_t> gids,
                             std::vector<std::uint32_t> member_uids,
                             std::vector<std::string> allow) {
  config::client_config c;
  c.name = std::move(name);
  c.uids = std::move(uids);
  c.gids = std::move(gids);
  c.member_uids = std::move(member_uids);
  c.allow = std::move(allow);
  return c;
}

// billing: uid 1001, or group 2001 (whose members, by primary or supplementary group, are
// 1003 and 1004); web: uid 1002, then also uid 1001 (never reached: billing is first).
const std::vector<config::client_config>& clients() {
  static const std::vector<config::client_config> table{
      client("billing", {1001}, {2001}, {1003, 1004}, {"/v1/kv-billing/*"}),
      client("web", {1002, 1001}, {}, {}, {"/v1/kv-web/*", "/v1/database/creds/web"}),
  };
  return table;
}

peer_identity tcp_peer(std::uint32_t uid) { return {.uid = uid, .gid = {}, .pid = {}}; }
peer_identity unix_peer(std::uint32_t uid, std::uint32_t gid) {
  return {.uid = uid, .gid = gid, .pid = 4242};
}

proxy::route_decision routed(std::string_view method, std::string_view target) {
  return proxy::route_request(method, target, config::proxy_config{}, config::listener_config{});
}

proxy::route_decision checked(std::string_view method, std::string_view target,
                              const peer_identity& peer) {
  return proxy::check_client_access(routed(method, target), clients(),
                                    match_client(clients(), peer), peer);
}

}  // namespace

TEST_CASE("match_client: by uid, primary gid, group membership; first match wins", "[proxy]") {
  CHECK(match_client(clients(), tcp_peer(1001)) == 0u);  // in both: file order decides
  CHECK(match_client(clients(), tcp_peer(1002)) == 1u);
  CHECK(match_client(clients(), unix_peer(5000, 2001)) == 0u);  // primary gid from SO_PEERCRED
  CHECK(match_client(clients(), tcp_peer(1003)) == 0u);         // a member of 2001 by the database
  CHECK(match_client(clients(), unix_peer(1004, 9)) == 0u);
}

TEST_CASE("match_client: no match, and an unknown caller, match nothing", "[proxy]") {
  CHECK_FALSE(match_client(clients(), tcp_peer(0)));  // root is no one special
  CHECK_FALSE(match_client(clients(), unix_peer(5000, 5000)));
  CHECK_FALSE(match_client(clients(), peer_identity{}));
  const peer_identity gid_only{.uid = std::nullopt, .gid = 2001, .pid = std::nullopt};
  CHECK_FALSE(match_client(clients(), gid_only));
  CHECK_FALSE(match_client({}, tcp_peer(1001)));
}

TEST_CASE("check_client_access: a client reads only inside its own allow", "[proxy]") {
  const auto billing = tcp_peer(1001);
  CHECK(checked("GET", "/v1/kv-billing/data/db", billing).kind == route_class::kv_read);
  const auto other = checked("GET", "/v1/kv-web/data/app", billing);
  CHECK(other.kind == route_class::deny);
  CHECK(other.status == 403);
  CHECK(other.reason == "permission denied: path is not in client.billing's allow list");
  CHECK(other.upstream_target.empty());
  CHECK(checked("GET", "/v1/database/creds/web", billing).status == 403);
  CHECK(checked("GET", "/v1/database/creds/web", tcp_peer(1002)).kind == route_class::dynamic_read);
  // Normalised first: a climb out of the allowed prefix is judged where it lands.
  CHECK(checked("GET", "/v1/kv-billing/../kv-web/data/app", billing).status == 403);
  CHECK(checked("LIST", "/v1/kv-web/metadata/", billing).status == 403);
}

TEST_CASE("check_client_access: no match is 403 except the probes", "[proxy]") {
  const auto stranger = tcp_peer(4000);
  const auto refused = checked("GET", "/v1/kv-billing/data/db", stranger);
  CHECK(refused.status == 403);
  CHECK(refused.reason ==
        "permission denied: this caller (uid 4000) matches no [client.*] section");
  CHECK(checked("GET", "/sidecar/v1/health", stranger).kind == route_class::local_health);
  CHECK(checked("GET", "/sidecar/v1/metrics", stranger).kind == route_class::local_metrics);
  CHECK(checked("GET", "/proxy/v1/metrics", stranger).kind == route_class::local_metrics);
  CHECK(checked("POST", "/sidecar/v1/cache-clear", stranger).status == 403);
  CHECK(checked("GET", "/v1/sys/health", stranger).status == 403);
  CHECK(checked("GET", "/v1/kv-web/data/x", peer_identity{}).reason ==
        "permission denied: this caller (unknown caller) matches no [client.*] section");
  // A matching client may clear the cache.
  CHECK(checked("POST", "/sidecar/v1/cache-clear", tcp_peer(1002)).kind ==
        route_class::local_cache_clear);
}

TEST_CASE("check_client_access: without clients, and for denials, nothing changes", "[proxy]") {
  const auto decision = routed("GET", "/v1/kv-web/data/x");
  const auto unchanged = proxy::check_client_access(decision, {}, std::nullopt, peer_identity{});
  CHECK(unchanged.kind == route_class::kv_read);
  CHECK(unchanged.upstream_target == decision.upstream_target);
  const auto denied = checked("GET", "/v1/secret/data/x", tcp_peer(1001));
  CHECK(denied.status == 403);
  CHECK(denied.reason == "permission denied: path is not in the sidecar's allow list");
}

TEST_CASE("check_client_access: lease housekeeping carries the client's allow to the handler",
          "[proxy]") {
  const auto web = checked("PUT", "/v1/sys/leases/renew", tcp_peer(1002));
  CHECK(web.kind == route_class::lease_housekeeping);
  REQUIRE(web.lease.caller_allow.has_value());
  CHECK(*web.lease.caller_allow ==
        std::vector<std::string>{"/v1/kv-web/*", "/v1/database/creds/web"});
  // The path form keeps its id out of the path through the check as well.
  const auto billing = checked("POST", "/v1/sys/renew/database/creds/web/x", tcp_peer(1001));
  CHECK(billing.kind == route_class::lease_housekeeping);
  CHECK(billing.target.path == "/v1/sys/renew");
  CHECK(billing.lease.path_lease_id.reveal() == "database/creds/web/x");
  REQUIRE(billing.lease.caller_allow.has_value());
  CHECK(*billing.lease.caller_allow == std::vector<std::string>{"/v1/kv-billing/*"});
  // A caller matching no client gets what it gets everywhere: 403.
  CHECK(checked("PUT", "/v1/sys/leases/lookup", tcp_peer(4000)).status == 403);
  // Without clients there is no scope to carry.
  const auto open = proxy::check_client_access(routed("PUT", "/v1/sys/leases/lookup"), {},
                                               std::nullopt, peer_identity{});
  CHECK(open.kind == route_class::lease_housekeeping);
  CHECK_FALSE(open.lease.caller_allow.has_value());
}

TEST_CASE("check_client_access: a KV mount preflight only about the client's own paths",
          "[proxy]") {
  const auto billing = tcp_peer(1001);
  constexpr std::string_view preflight = "/v1/sys/internal/ui/mounts/";
  const auto ask = [&](std::string_view path, const peer_identity& peer) {
    return checked("GET", std::string{preflight} + std::string{path}, peer);
  };
  CHECK(ask("kv-billing/db", billing).kind == route_class::mount_preflight);
  CHECK(ask("kv-billing", billing).kind == route_class::mount_preflight);  // kv get -mount=...
  const auto other = ask("kv-web/app", billing);
  CHECK(other.status == 403);
  CHECK(other.reason == "permission denied: path is not in client.billing's allow list");
  CHECK(other.upstream_target.empty());
  CHECK(ask("kv-web", billing).status == 403);
  CHECK(ask("kv-web/app", tcp_peer(1002)).kind == route_class::mount_preflight);
  CHECK(ask("kv-billing/db", tcp_peer(4000)).status == 403);  // no client at all
}

TEST_CASE("check_client_access: token self-calls need a matching client", "[proxy]") {
  CHECK(checked("GET", "/v1/auth/token/lookup-self", tcp_peer(1001)).kind ==
        route_class::token_self);
  CHECK(checked("GET", "/v1/auth/token/lookup-self", tcp_peer(4000)).status == 403);
}
