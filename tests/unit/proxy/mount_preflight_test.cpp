#include <sidecar/proxy/mount_preflight.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;
using proxy::preflight_allowed;
using proxy::preflight_secret_path;

TEST_CASE("preflight_secret_path: the secret path a preflight asks about", "[proxy]") {
  CHECK(preflight_secret_path("/v1/sys/internal/ui/mounts/kv-demo/sample") == "/v1/kv-demo/sample");
  CHECK(preflight_secret_path("/v1/sys/internal/ui/mounts/kv-demo") == "/v1/kv-demo");
  CHECK(preflight_secret_path("/v1/sys/internal/ui/mounts/kv-demo/") == "/v1/kv-demo/");
  CHECK(preflight_secret_path("/v1/sys/internal/ui/mounts") == "");
  CHECK(preflight_secret_path("/v1/sys/internal/ui/mounts/") == "");
  CHECK_FALSE(preflight_secret_path("/v1/sys/internal/ui/mountsx/kv-demo"));
  CHECK_FALSE(preflight_secret_path("/v1/sys/internal/ui/resultant-acl"));
  CHECK_FALSE(preflight_secret_path("/v1/kv-demo/data/sample"));
}

TEST_CASE("preflight_allowed: the path, its folder, or a pattern inside it", "[proxy]") {
  const std::vector<std::string> proxy_allow{"/v1/kv-*", "/v1/database/creds/*"};
  CHECK(preflight_allowed("/v1/kv-demo/sample", proxy_allow));
  CHECK(preflight_allowed("/v1/kv-demo", proxy_allow));  // `vault kv get -mount=kv-demo x`
  CHECK(preflight_allowed("/v1/database/creds/app", proxy_allow));
  CHECK_FALSE(preflight_allowed("/v1/secret/x", proxy_allow));
  CHECK_FALSE(preflight_allowed("/v1/kv", proxy_allow));  // "kv" is not "kv-..."
  CHECK_FALSE(preflight_allowed("/v1/sys", proxy_allow));

  const std::vector<std::string> billing{"/v1/kv-billing/*", "/v1/kv-shared/data/billing-*"};
  CHECK(preflight_allowed("/v1/kv-billing", billing));  // the folder matches
  CHECK(preflight_allowed("/v1/kv-billing/db", billing));
  CHECK(preflight_allowed("/v1/kv-shared", billing));  // a pattern lies inside the mount
  CHECK(preflight_allowed("/v1/kv-shared/data/billing-db", billing));
  CHECK_FALSE(preflight_allowed("/v1/kv-shared/data/web-db", billing));
  CHECK_FALSE(preflight_allowed("/v1/kv-billingx", billing));
  CHECK_FALSE(preflight_allowed("/v1/kv-web/x", billing));
}

TEST_CASE("preflight_allowed: empty and auth/ paths never, whatever the allow list", "[proxy]") {
  const std::vector<std::string> everything{"/v1/*"};
  CHECK(preflight_allowed("/v1/anything/x", everything));
  CHECK_FALSE(preflight_allowed("", everything));
  CHECK_FALSE(preflight_allowed("/v1/", everything));
  CHECK_FALSE(preflight_allowed("/v1/auth", everything));
  CHECK_FALSE(preflight_allowed("/v1/auth/token/lookup-self", everything));
  CHECK_FALSE(preflight_allowed("/v1/kv-demo/x", {}));
}
