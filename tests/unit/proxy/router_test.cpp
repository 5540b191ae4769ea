#include <sidecar/proxy/router.hpp>

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

using namespace sidecar;
using proxy::route_class;
using proxy::route_request;

namespace {

const config::proxy_config default_proxy{};
const config::listener_config default_listener{};

config::proxy_config with_writes() {
  config::proxy_config p;
  p.forward_writes = true;
  return p;
}

config::listener_config with_quit() {
  config::listener_config l;
  l.enable_quit = true;
  return l;
}

struct hostile_case {
  std::string method;
  std::string target;
  unsigned status;
};

}  // namespace

TEST_CASE("router: hostile targets and methods are refused with the expected status", "[proxy]") {
  const std::string overlong = "/v1/kv-demo/" + std::string(4100, 'a');
  const std::vector<hostile_case> corpus{
      {"GET", "/v1/sys/seal-status", 403},
      {"GET", "/v1/sys/mounts", 403},
      {"PUT", "/v1/sys/policies/acl/root", 403},
      {"GET", "/v1/auth/token/create", 403},
      {"POST", "/v1/auth/token/create", 403},
      {"GET", "/v1/auth/token/lookup", 403},
      {"GET", "/v1/auth/token/lookup-self/x", 403},
      {"DELETE", "/v1/auth/token/lookup-self", 405},
      {"GET", "/v1/auth/token/renew-self", 405},
      {"HEAD", "/v1/auth/token/revoke-self", 405},
      {"GET", "/v1/sys/internal/ui/mounts", 403},
      {"GET", "/v1/sys/internal/ui/mounts/", 403},
      {"GET", "/v1/sys/internal/ui/mounts/secret/x", 403},
      {"GET", "/v1/sys/internal/ui/mounts/auth/token", 403},
      {"GET", "/v1/sys/internal/ui/mounts/kv-demo/../../sys", 403},
      {"POST", "/v1/sys/internal/ui/mounts/kv-demo", 405},
      {"GET", "/v1/kv-demo/data/x?version=abc", 400},
      {"GET", "/v1/kv-demo/data/x?version=1&version=2", 400},
      {"GET", "/v1/kv-demo/metadata/?list=yes", 400},
      {"GET", "/v1/database/roles/app", 403},
      {"GET", "/v1/database/config/pg", 403},
      {"GET", "/v1/database/creds/../roles/x", 403},
      {"GET", "/v1/database/creds/%2e%2e/roles/x", 403},
      {"GET", "/v1/database/creds/%2E%2E/roles/x", 403},
      {"GET", "/v1/database/creds/..%2froles%2fx", 403},
      {"GET", "/v1/database/creds%2f..%2f..%2fsys%2fmounts", 403},
      {"GET", "/v1/kv-demo/../sys/seal-status", 403},
      {"GET", "/v1/kv-demo/%2e%2e/sys/x", 403},
      {"GET", "/v1/kv-demo/.%2e/sys/x", 403},
      {"GET", "/v1/%252e%252e/sys", 403},
      {"GET", "//v1//sys//mounts", 403},
      {"GET", "/v1/sys%2fmounts", 403},
      {"GET", "/v1/sys/health/../mounts", 403},
      {"GET", "/v1/kv", 403},
      {"GET", "/v1/kvdemo/x", 403},
      {"GET", "/v1/Database/creds/app", 403},
      {"GET", "/v1/identity/entity/id", 403},
      {"GET", "/v1/cubbyhole/x", 403},
      {"GET", "/v1/", 403},
      {"GET", "/", 403},
      {"GET", "/ui/", 403},
      {"GET", "http://evil.example/v1/sys/mounts", 403},
      {"GET", "http://127.0.0.1:8100/v1/auth/token/create", 403},
      {"GET", "https://host/v1/database/roles/x", 403},
      {"GET", "/v1/kv-demo/../../../etc/passwd", 400},
      {"GET", "/..", 400},
      {"GET", "/v1/kv-demo\\..\\..\\sys", 400},
      {"GET", "/v1/kv-demo%5c..%5csys", 400},
      {"GET", std::string{"/v1/kv-demo/a\0b", 15}, 400},
      {"GET", "/v1/kv-demo/a%00b", 400},
      {"GET", "/v1/kv-demo/a%0d%0aSet-Cookie:x", 400},
      {"GET", "/v1/kv-demo/a\r\nX: y", 400},
      {"GET", "/v1/kv-demo/a%zz", 400},
      {"GET", "/v1/kv-demo/a%", 400},
      {"GET", overlong, 400},
      {"GET", "ftp://host/v1/kv-demo/x", 400},
      {"GET", "/v1/kv-demo/x#frag", 400},
      {"GET", "v1/kv-demo/x", 400},
      {"GET", "/v1/kv-demo/x?list=%zz", 400},
      {"GET", "/v1/kv-demo/caf\xC3\xA9", 400},
      {"GET", "/v1/kv-demo/a b", 400},
      {"CONNECT", "vault.example:8200", 405},
      {"CONNECT", "/v1/kv-demo/x", 405},
      {"TRACE", "/v1/kv-demo/x", 405},
      {"OPTIONS", "/v1/kv-demo/x", 405},
      {"OPTIONS", "*", 405},
      {"PROPFIND", "/v1/kv-demo/x", 405},
      {"get", "/v1/kv-demo/x", 405},
      {"PUT", "/v1/kv-demo/data/x", 405},
      {"POST", "/v1/kv-demo/data/x", 405},
      {"PATCH", "/v1/kv-demo/data/x", 405},
      {"DELETE", "/v1/kv-demo/metadata/x", 405},
      {"POST", "/v1/database/creds/app", 405},
      {"HEAD", "/v1/database/creds/app", 405},
      {"LIST", "/v1/database/creds/app", 405},
      {"GET", "/v1/database/creds/app/extra", 404},
      {"GET", "/v1/database/creds/", 404},
      {"GET", "/v1/database/creds", 403},
      {"POST", "/v1/sys/health", 405},
      {"TRACE", "/v1/sys/health", 405},
      {"GET", "/sidecar/v1/quit", 404},
      {"POST", "/sidecar/v1/quit", 404},
      {"POST", "/proxy/v1/quit", 404},
      {"GET", "/sidecar/v1/cache-clear", 405},
      {"DELETE", "/sidecar/v1/health", 405},
      {"POST", "/sidecar/v1/metrics", 405},
      {"GET", "/sidecar/v1/unknown", 404},
      {"GET", "/sidecar/v1/health/", 404},
      {"GET", "/sidecar/v1/../../v1/sys/mounts", 403},
  };
  REQUIRE(corpus.size() >= 40);
  for (const auto& c : corpus) {
    INFO(c.method << " " << c.target);
    const auto d = route_request(c.method, c.target, default_proxy, default_listener);
    CHECK_FALSE(d.allowed());
    CHECK(d.kind == route_class::deny);
    CHECK(d.status == c.status);
    CHECK_FALSE(d.reason.empty());
    CHECK((d.status == 405) == !d.allow.empty());
  }
}

TEST_CASE("router: KV reads, lists and dynamic reads inside the allow list", "[proxy]") {
  auto d = route_request("GET", "/v1/kv-demo/data/app?version=2", default_proxy, default_listener);
  CHECK(d.kind == route_class::kv_read);
  CHECK(d.target.path == "/v1/kv-demo/data/app");
  CHECK(d.target.query == "version=2");
  CHECK(d.upstream_target == "/v1/kv-demo/data/app?version=2");
  CHECK_FALSE(d.list);
  d = route_request("GET", "/v1/kv-demo/data/a%20b/../c%3F", default_proxy, default_listener);
  CHECK(d.upstream_target == d.target.upstream_target());
  CHECK(d.upstream_target == "/v1/kv-demo/data/c%3F");
  CHECK(route_request("GET", "/v1/secret/x", default_proxy, default_listener).upstream_target ==
        "");  // denied: nothing goes upstream

  CHECK(route_request("HEAD", "/v1/kv-demo/data/app", default_proxy, default_listener).kind ==
        route_class::kv_read);

  d = route_request("LIST", "/v1/kv-demo/metadata/", default_proxy, default_listener);
  CHECK(d.kind == route_class::kv_read);
  CHECK(d.list);
  CHECK(d.target.path == "/v1/kv-demo/metadata/");

  for (const auto* truthy : {"true", "1", "t", "True", "TRUE", "T"}) {
    d = route_request("GET", std::string{"/v1/kv-demo/metadata/?a=b&list="} + truthy, default_proxy,
                      default_listener);
    CHECK(d.list);
  }
  for (const auto* falsy : {"list=false", "xlist=true", "list", ""}) {
    d = route_request("GET", std::string{"/v1/kv-demo/metadata/?"} + falsy, default_proxy,
                      default_listener);
    CHECK(d.kind == route_class::kv_read);
    CHECK_FALSE(d.list);
  }

  d = route_request("GET", "/v1/database/creds/app", default_proxy, default_listener);
  CHECK(d.kind == route_class::dynamic_read);
  CHECK(d.target.path == "/v1/database/creds/app");

  d = route_request("GET", "http://localhost:8100//v1/kv-demo/./data/x/../app", default_proxy,
                    default_listener);
  CHECK(d.kind == route_class::kv_read);
  CHECK(d.target.path == "/v1/kv-demo/data/app");

  d = route_request("GET", "/v1/kv-demo/%252e%252e/sys", default_proxy, default_listener);
  CHECK(d.kind == route_class::kv_read);
  CHECK(d.target.upstream_target() == "/v1/kv-demo/%252e%252e/sys");
}

TEST_CASE("router: writes go through only with forward_writes", "[proxy]") {
  const auto proxy = with_writes();
  for (const auto* method : {"PUT", "POST", "PATCH", "DELETE"}) {
    INFO(method);
    const auto d = route_request(method, "/v1/kv-demo/data/app", proxy, default_listener);
    CHECK(d.kind == route_class::kv_write);
    const auto off = route_request(method, "/v1/kv-demo/data/app", default_proxy, default_listener);
    CHECK(off.status == 405);
    CHECK(off.allow == "GET, HEAD, LIST");
  }
  // Writes never reach paths outside the allow list, nor dynamic secrets.
  CHECK(route_request("PUT", "/v1/sys/policies/acl/x", proxy, default_listener).status == 403);
  CHECK(route_request("POST", "/v1/database/creds/app", proxy, default_listener).status == 405);
  const auto options = route_request("OPTIONS", "/v1/kv-demo/data/app", proxy, default_listener);
  CHECK(options.status == 405);
  CHECK(options.allow == "GET, HEAD, LIST, POST, PUT, PATCH, DELETE");
}

TEST_CASE("router: sys/health passes through regardless of the allow list", "[proxy]") {
  auto d = route_request("GET", "/v1/sys/health?standbyok=true", default_proxy, default_listener);
  CHECK(d.kind == route_class::sys_health);
  CHECK(d.target.query == "standbyok=true");
  CHECK(route_request("HEAD", "/v1/sys/health", default_proxy, default_listener).kind ==
        route_class::sys_health);
  CHECK(route_request("PUT", "/v1/sys/health", default_proxy, default_listener).allow ==
        "GET, HEAD");
}

TEST_CASE("router: lease housekeeping is answered locally, whatever the allow list", "[proxy]") {
  config::proxy_config none;
  none.allow = {};
  config::proxy_config everything = with_writes();
  everything.allow = {"/v1/*"};
  for (const config::proxy_config* policy :
       {&default_proxy, &std::as_const(none), &std::as_const(everything)}) {
    for (const auto* method : {"PUT", "POST"}) {
      const auto body_form =
          route_request(method, "/v1/sys/leases/renew", *policy, default_listener);
      CHECK(body_form.kind == route_class::lease_housekeeping);
      CHECK(body_form.lease.operation == proxy::lease_operation::renew);
      CHECK(body_form.lease.path_lease_id.empty());
      CHECK(body_form.upstream_target.empty());  // nothing goes to Vault
      CHECK_FALSE(body_form.lease.caller_allow.has_value());
      CHECK(route_request(method, "/v1/sys/leases/lookup", *policy, default_listener)
                .lease.operation == proxy::lease_operation::lookup);
      CHECK(route_request(method, "/v1/sys/revoke", *policy, default_listener).lease.operation ==
            proxy::lease_operation::revoke);
    }
  }
  // The path forms: the id leaves the path (which the logs show) for lease.path_lease_id.
  for (const auto& [target, path, operation] :
       std::vector<std::tuple<std::string, std::string, proxy::lease_operation>>{
           {"/v1/sys/leases/renew/database/creds/app/abc", "/v1/sys/leases/renew",
            proxy::lease_operation::renew},
           {"/v1/sys/renew/database/creds/app/abc", "/v1/sys/renew", proxy::lease_operation::renew},
           {"/v1/sys/leases/revoke/database/creds/app/abc", "/v1/sys/leases/revoke",
            proxy::lease_operation::revoke},
           {"/v1/sys/revoke/database/creds/app/abc?sync=true", "/v1/sys/revoke",
            proxy::lease_operation::revoke},
           {"/v1/sys/renew/database%2Fcreds%2Fapp%2Fabc", "/v1/sys/renew",
            proxy::lease_operation::renew},
       }) {
    INFO(target);
    const auto d = route_request("PUT", target, default_proxy, default_listener);
    CHECK(d.kind == route_class::lease_housekeeping);
    CHECK(d.target.path == path);
    CHECK(d.target.path.find("abc") == std::string::npos);
    CHECK(d.lease.path_lease_id.reveal() == "database/creds/app/abc");
    CHECK(d.lease.operation == operation);
    CHECK(d.upstream_target.empty());
    // Refused for its method: still no id in the path.
    const auto get = route_request("GET", target, default_proxy, default_listener);
    CHECK(get.status == 405);
    CHECK(get.allow == "POST, PUT");
    CHECK(get.target.path == path);
  }
  for (const auto* method : {"GET", "HEAD", "DELETE", "PATCH", "LIST"}) {
    const auto d = route_request(method, "/v1/sys/leases/lookup", default_proxy, default_listener);
    CHECK(d.status == 405);
    CHECK(d.allow == "POST, PUT");
  }
  // Lease paths the sidecar does not answer are outside the allow list like any other.
  for (const auto* other :
       {"/v1/sys/leases/revoke-prefix/database/creds", "/v1/sys/leases/revoke-force/database",
        "/v1/sys/leases/lookup/database/", "/v1/sys/leases/tidy", "/v1/sys/renew/"}) {
    INFO(other);
    const auto d = route_request("PUT", other, default_proxy, default_listener);
    CHECK(d.kind == route_class::deny);
    CHECK(d.status == 403);
  }
  CHECK(proxy::to_string(route_class::lease_housekeeping) == "lease_housekeeping");
  // Under require_request_header, like every Vault route.
  const auto renew = route_request("PUT", "/v1/sys/leases/renew", default_proxy, default_listener);
  CHECK(proxy::check_request_header(renew, "PUT", "", true).status == 412);
  CHECK(proxy::check_request_header(renew, "PUT", "true", true).kind ==
        route_class::lease_housekeeping);
}

TEST_CASE("router: auth/ paths are refused even when the allow list covers them", "[proxy]") {
  config::proxy_config everything = with_writes();
  everything.allow = {"/v1/*"};
  for (const auto* method : {"GET", "POST", "PUT", "LIST"}) {
    for (const auto* target :
         {"/v1/auth/token/create", "/v1/auth/approle/login", "/v1/auth/token/lookup?token=x",
          "/v1/auth/token/lookup-accessor", "/v1/auth/token/revoke-orphan",
          "/v1/%61uth/token/create", "/v1/kv-demo/../auth/token/create",
          "/v1//auth/approle/role/app/secret-id"}) {
      const auto d = route_request(method, target, everything, default_listener);
      CHECK(d.kind == route_class::deny);
      CHECK(d.status == 403);
    }
  }
  // The token self-calls, however spelt, are answered locally, never forwarded.
  for (const auto* target : {"/v1/auth/token/lookup-self", "/v1/%61uth/token/lookup-self",
                             "/v1/kv-demo/../auth/token/lookup-self", "/v1//auth/token/lookup-self",
                             "/v1/auth/token/renew-self", "/v1/auth/token/revoke-self"}) {
    INFO(target);
    CHECK(route_request("POST", target, everything, default_listener).kind ==
          route_class::token_self);
  }
  CHECK(route_request("GET", "/v1/authority/data/x", everything, default_listener).kind ==
        route_class::kv_read);  // only the auth/ mount point itself
}

TEST_CASE("router: token self-calls are local answers, whatever the allow list", "[proxy]") {
  for (const auto* method : {"GET", "POST", "PUT"}) {
    const auto d =
        route_request(method, "/v1/auth/token/lookup-self", default_proxy, default_listener);
    CHECK(d.kind == route_class::token_self);
    CHECK(d.upstream_target == "/v1/auth/token/lookup-self");
  }
  for (const auto* path : {"/v1/auth/token/renew-self", "/v1/auth/token/revoke-self"}) {
    CHECK(route_request("POST", path, default_proxy, default_listener).kind ==
          route_class::token_self);
    CHECK(route_request("PUT", path, default_proxy, default_listener).kind ==
          route_class::token_self);
    const auto get = route_request("GET", path, default_proxy, default_listener);
    CHECK(get.status == 405);
    CHECK(get.allow == "POST, PUT");
  }
  config::proxy_config nothing;
  nothing.allow = {};
  CHECK(route_request("GET", "/v1/auth/token/lookup-self", nothing, default_listener).kind ==
        route_class::token_self);
}

TEST_CASE("router: the KV mount preflight inside the allow list, without its query", "[proxy]") {
  auto d = route_request("GET", "/v1/sys/internal/ui/mounts/kv-demo/sample?x=1", default_proxy,
                         default_listener);
  CHECK(d.kind == route_class::mount_preflight);
  CHECK(d.upstream_target == "/v1/sys/internal/ui/mounts/kv-demo/sample");
  d = route_request("HEAD", "/v1/sys/internal/ui/mounts/kv-demo", default_proxy, default_listener);
  CHECK(d.kind == route_class::mount_preflight);
  d = route_request("GET", "/v1/sys/internal/ui/mounts/database/creds/app", default_proxy,
                    default_listener);
  CHECK(d.kind == route_class::mount_preflight);
  // Decoded and resolved first, like every target.
  d = route_request("GET", "/v1/sys/internal/ui/mounts/kv-demo/%2e%2e/secret/x", default_proxy,
                    default_listener);
  CHECK(d.status == 403);
  // Even an allow list covering everything never forwards the bare listing of all mounts.
  config::proxy_config everything;
  everything.allow = {"/v1/*"};
  CHECK(route_request("GET", "/v1/sys/internal/ui/mounts", everything, default_listener).status ==
        403);
  CHECK(route_request("GET", "/v1/sys/internal/ui/mounts/", everything, default_listener).status ==
        403);
}

TEST_CASE("router: a KV read keeps only the parameters Vault reads there", "[proxy]") {
  auto d = route_request("GET", "/v1/kv-demo/data/app?x=1&version=3&y=2", default_proxy,
                         default_listener);
  CHECK(d.kind == route_class::kv_read);
  CHECK(d.upstream_target == "/v1/kv-demo/data/app?version=3");
  for (const auto* junk : {"?x=1", "?x=2", "?", "?version=0", "?cb=%00"}) {
    INFO(junk);
    d = route_request("GET", std::string{"/v1/kv-demo/data/app"} + junk, default_proxy,
                      default_listener);
    CHECK(d.upstream_target == "/v1/kv-demo/data/app");
  }
  // Listings: decided on the decoded query, sent as list=true only.
  for (const auto* listing : {"?list=%74rue", "?%6cist=true", "?list=1&x=2"}) {
    INFO(listing);
    d = route_request("GET", std::string{"/v1/kv-demo/metadata/"} + listing, default_proxy,
                      default_listener);
    CHECK(d.list);
    CHECK(d.upstream_target == "/v1/kv-demo/metadata/?list=true");
  }
  d = route_request("LIST", "/v1/kv-demo/metadata/?x=1", default_proxy, default_listener);
  CHECK(d.list);
  CHECK(d.upstream_target == "/v1/kv-demo/metadata/?list=true");
  // Writes are forwarded as they came.
  d = route_request("POST", "/v1/kv-demo/data/app?x=1", with_writes(), default_listener);
  CHECK(d.upstream_target == "/v1/kv-demo/data/app?x=1");
}

TEST_CASE("router: local endpoints and their Vault Proxy aliases", "[proxy]") {
  const auto& p = default_proxy;
  const auto& l = default_listener;
  CHECK(route_request("GET", "/sidecar/v1/health", p, l).kind == route_class::local_health);
  CHECK(route_request("HEAD", "/sidecar/v1/health", p, l).kind == route_class::local_health);
  CHECK(route_request("GET", "/sidecar/v1/metrics", p, l).kind == route_class::local_metrics);
  CHECK(route_request("GET", "/proxy/v1/metrics", p, l).kind == route_class::local_metrics);
  CHECK(route_request("POST", "/sidecar/v1/cache-clear", p, l).kind ==
        route_class::local_cache_clear);
  CHECK(route_request("PUT", "/proxy/v1/cache-clear", p, l).kind == route_class::local_cache_clear);
  CHECK(route_request("GET", "/proxy/v1/cache-clear", p, l).allow == "POST, PUT");

  const auto quit = with_quit();
  CHECK(route_request("POST", "/sidecar/v1/quit", p, quit).kind == route_class::local_quit);
  const auto get_quit = route_request("GET", "/sidecar/v1/quit", p, quit);
  CHECK(get_quit.status == 405);
  CHECK(get_quit.allow == "POST");
}

TEST_CASE("router: allow patterns match exactly or by prefix with a trailing star", "[proxy]") {
  CHECK(proxy::path_matches("/v1/kv-demo/data/x", "/v1/kv-*"));
  CHECK(proxy::path_matches("/v1/kv-", "/v1/kv-*"));
  CHECK_FALSE(proxy::path_matches("/v1/kv", "/v1/kv-*"));
  CHECK(proxy::path_matches("/v1/secret/data/app", "/v1/secret/data/app"));
  CHECK_FALSE(proxy::path_matches("/v1/secret/data/app2", "/v1/secret/data/app"));
  CHECK_FALSE(proxy::path_matches("/v1/secret/data/ap", "/v1/secret/data/app"));

  config::proxy_config exact;
  exact.allow = {"/v1/secret/data/app"};
  CHECK(route_request("GET", "/v1/secret/data/app", exact, default_listener).kind ==
        route_class::kv_read);
  CHECK(route_request("GET", "/v1/secret/data/app/../other", exact, default_listener).status ==
        403);
  // An allow pattern outside /v1/ never forwards anything.
  config::proxy_config everything;
  everything.allow = {"/*"};
  CHECK(route_request("GET", "/ui/", everything, default_listener).status == 403);
}

TEST_CASE("router: whatever the target, an allowed forward stays inside policy", "[proxy]") {
  // Random targets built from traversal-prone pieces: every decision that forwards to Vault
  // must name a path under /v1/ matching an allow pattern, free of dot segments and empty
  // segments, and its upstream target must normalise back to the same path (what Vault
  // decodes is what was checked).
  const std::vector<std::string> pieces{
      "/",     "//",  "..",      ".",      "%2e", "%2E%2e",     "%2f",      "%2F",   "%252e",
      "%252f", "%25", "kv-demo", "sys",    "v1",  "data",       "database", "creds", "roles",
      "app",   "\\",  "%5c",     "mounts", "%00", "?list=true", "x",        "%3f",   "auth"};
  std::mt19937 rng{20240601};
  std::uniform_int_distribution<std::size_t> pick{0, pieces.size() - 1};
  std::uniform_int_distribution<int> length{1, 12};
  const std::vector<std::string> methods{"GET", "HEAD", "LIST", "PUT", "DELETE", "TRACE"};
  std::uniform_int_distribution<std::size_t> pick_method{0, methods.size() - 1};
  const auto proxy = with_writes();
  int forwarded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string target = i % 2 == 0 ? "/v1/" : "/";
    const int n = length(rng);
    for (int k = 0; k < n; ++k) target += pieces[pick(rng)];
    const auto& method = methods[pick_method(rng)];
    const auto d = route_request(method, target, proxy, default_listener);
    INFO(method << " " << target);
    if (d.kind == route_class::deny) {
      CHECK(d.status >= 400);
      CHECK(d.status < 500);
      continue;
    }
    if (d.kind != route_class::kv_read && d.kind != route_class::kv_write &&
        d.kind != route_class::dynamic_read) {
      continue;
    }
    ++forwarded;
    const auto& path = d.target.path;
    CHECK(path.starts_with("/v1/"));
    CHECK((proxy::path_matches(path, "/v1/kv-*") ||
           proxy::path_matches(path, "/v1/database/creds/*")));
    CHECK(path.find("/../") == std::string::npos);
    CHECK(path.find("/./") == std::string::npos);
    CHECK(path.find("//") == std::string::npos);
    CHECK_FALSE(path.ends_with("/.."));
    const auto again = proxy::normalise_target(d.target.upstream_target());
    REQUIRE(again.has_value());
    CHECK(again->path == path);
    CHECK(again->query == d.target.query);
  }
  CHECK(forwarded > 100);  // the generator does reach allowed paths
}

TEST_CASE("check_request_header: 412 without exactly X-Vault-Request true", "[proxy]") {
  const auto kv = route_request("GET", "/v1/kv-demo/data/x", default_proxy, default_listener);
  CHECK(proxy::check_request_header(kv, "GET", "true", true).kind == route_class::kv_read);
  for (const auto* bad : {"", "TRUE", "True", "1", "true ", "yes"}) {
    const auto d = proxy::check_request_header(kv, "GET", bad, true);
    CHECK(d.status == 412);
    CHECK(d.reason == "missing \"X-Vault-Request\" header");
  }
  // Not required: untouched.
  CHECK(proxy::check_request_header(kv, "GET", "", false).kind == route_class::kv_read);

  // Probes and scrapers are exempt on GET only.
  const auto health = route_request("GET", "/sidecar/v1/health", default_proxy, default_listener);
  CHECK(proxy::check_request_header(health, "GET", "", true).kind == route_class::local_health);
  const auto head_health =
      route_request("HEAD", "/sidecar/v1/health", default_proxy, default_listener);
  CHECK(proxy::check_request_header(head_health, "HEAD", "", true).status == 412);
  const auto metrics = route_request("GET", "/proxy/v1/metrics", default_proxy, default_listener);
  CHECK(proxy::check_request_header(metrics, "GET", "", true).kind == route_class::local_metrics);
  const auto clear =
      route_request("POST", "/sidecar/v1/cache-clear", default_proxy, default_listener);
  CHECK(proxy::check_request_header(clear, "POST", "", true).status == 412);
  const auto sys = route_request("GET", "/v1/sys/health", default_proxy, default_listener);
  CHECK(proxy::check_request_header(sys, "GET", "", true).status == 412);

  // A denied decision keeps its own status.
  const auto denied = route_request("GET", "/v1/sys/mounts", default_proxy, default_listener);
  CHECK(proxy::check_request_header(denied, "GET", "", true).status == 403);
}
