// Kubernetes and JWT login and response wrapping in the double, driven without sockets: what
// Vault and its plugins answer, error texts included (tests/support/vault-api-additions.md).

#include <sidecar/testing/memory_database_backend.hpp>
#include <sidecar/testing/self_signed.hpp>
#include <sidecar/testing/vault_api.hpp>

#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

using namespace sidecar;
using namespace sidecar::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* wrapping_error = "wrapping token is not valid or does not exist";

struct platform_fixture {
  core::manual_clock clock;
  double_state state{clock, std::make_shared<memory_database_backend>()};

  platform_fixture() {
    state.kv.add_mount("kv-demo", 2);
    state.auth.add_policy("demo", {{"kv-demo/*", {"read"}}});
    state.platform.add_jwt_role({.mount = "kubernetes",
                                 .name = "app",
                                 .policies = {"demo"},
                                 .token_ttl = 60,
                                 .token_max_ttl = 100});
    state.platform.add_jwt("kubernetes", "app", "k8s-jwt-1", "sa-one", 600);
    state.platform.add_jwt_role({.mount = "jwt", .name = "ci", .policies = {"demo"}});
    state.platform.add_jwt("jwt", "ci", "ci-jwt-1", "pipeline", 0);
  }

  vault_reply call(const std::string& method, const std::string& path, json body = nullptr,
                   const std::string& token = {}, std::string wrap_ttl = {}) {
    vault_request request{
        .method = method, .path = path, .query = {}, .token = token, .body = std::move(body)};
    request.wrap_ttl = std::move(wrap_ttl);
    return vault_api{state}.handle(request);
  }

  vault_reply login(const std::string& mount, const std::string& role, const std::string& jwt) {
    return call("POST", "auth/" + mount + "/login", {{"role", role}, {"jwt", jwt}});
  }
};

std::string read_pem(const std::string& path) {
  std::ifstream in{path};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

// A CA with a server and a client certificate, in a directory removed afterwards.
struct certificates {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("platform-auth-" + std::to_string(::getpid()));
  self_signed_files files = make_self_signed(dir);
  std::string ca = read_pem(files.ca_cert), server = read_pem(files.server_cert),
              client = read_pem(files.client_cert);
  ~certificates() { std::filesystem::remove_all(dir); }
};

std::string first_error(const vault_reply& reply) {
  return reply.body.at("errors").empty() ? std::string{}
                                         : reply.body["errors"][0].get<std::string>();
}

}  // namespace

TEST_CASE("platform auth: a kubernetes login with an accepted JWT gets a token of the role",
          "[vault_double]") {
  platform_fixture f;
  const auto reply = f.login("kubernetes", "app", "k8s-jwt-1");
  REQUIRE(reply.status == 200);
  const auto& auth = reply.body["auth"];
  CHECK(auth["lease_duration"] == 60);
  CHECK(auth["renewable"] == true);
  CHECK(auth["policies"] == json{"default", "demo"});
  CHECK(auth["metadata"]["role"] == "app");
  CHECK(auth["metadata"]["service_account_name"] == "sa-one");
  CHECK(reply.body["mount_type"] == "kubernetes");
  const auto token = auth["client_token"].get<std::string>();
  CHECK(f.call("GET", "auth/token/lookup-self", nullptr, token).body["data"]["path"] ==
        "auth/kubernetes/login");
  REQUIRE(f.state.platform.logins().size() == 1);
  CHECK(f.state.platform.logins()[0].subject == "sa-one");
  CHECK(f.state.platform.logins()[0].status == 200);
}

TEST_CASE("platform auth: kubernetes login errors are the plugin's", "[vault_double]") {
  platform_fixture f;
  auto reply = f.call("POST", "auth/kubernetes/login", {{"jwt", "k8s-jwt-1"}});
  CHECK(reply.status == 400);
  CHECK(first_error(reply) == "missing role");
  reply = f.call("POST", "auth/kubernetes/login", {{"role", "app"}});
  CHECK(reply.status == 400);
  CHECK(first_error(reply) == "missing jwt");
  reply = f.login("kubernetes", "nope", "k8s-jwt-1");
  CHECK(reply.status == 400);
  CHECK(first_error(reply) == "invalid role name \"nope\"");
  reply = f.login("kubernetes", "app", "forged");
  CHECK(reply.status == 403);
  CHECK(first_error(reply) == "permission denied");
  f.clock.advance(601s);
  reply = f.login("kubernetes", "app", "k8s-jwt-1");
  CHECK(reply.status == 403);
  CHECK(first_error(reply) == "invalid expiration time (exp) claim: token is expired");
  CHECK(f.call("GET", "auth/kubernetes/login").status == 405);
  REQUIRE(f.state.platform.logins().size() == 5);
  CHECK(f.state.platform.logins().back().subject.empty());
}

TEST_CASE("platform auth: jwt login errors are the plugin's", "[vault_double]") {
  platform_fixture f;
  CHECK(f.login("jwt", "ci", "ci-jwt-1").status == 200);
  auto reply = f.call("POST", "auth/jwt/login", {{"jwt", "ci-jwt-1"}});
  CHECK(first_error(reply) == "missing role");
  reply = f.login("jwt", "other", "ci-jwt-1");
  CHECK(reply.status == 400);
  CHECK(first_error(reply) == "role \"other\" could not be found");
  reply = f.call("POST", "auth/jwt/login", {{"role", "ci"}});
  CHECK(first_error(reply) == "missing token");
  reply = f.login("jwt", "ci", "forged");
  CHECK(reply.status == 400);
  CHECK(first_error(reply).starts_with("error validating token: "));
  f.state.platform.add_jwt("jwt", "ci", "short-lived", "pipeline", 5);
  f.clock.advance(5s);
  reply = f.login("jwt", "ci", "short-lived");
  CHECK(reply.status == 400);
  CHECK(first_error(reply) ==
        "error validating token: invalid expiration time (exp) claim: token is expired");
}

TEST_CASE("platform auth: a kubernetes token renews up to the role's max TTL, then expires",
          "[vault_double]") {
  platform_fixture f;
  const auto token =
      f.login("kubernetes", "app", "k8s-jwt-1").body["auth"]["client_token"].get<std::string>();
  f.clock.advance(48s);
  auto renewed = f.call("POST", "auth/token/renew-self", nullptr, token);
  REQUIRE(renewed.status == 200);
  CHECK(renewed.body["auth"]["lease_duration"] == 52);  // capped: 100 s max from issue
  CHECK(renewed.body["warnings"].size() == 1);
  f.clock.advance(53s);
  CHECK(f.call("GET", "kv-demo/data/x", nullptr, token).status == 403);
}

TEST_CASE("platform auth: a secret_id wrapped on request is looked up, then unwrapped once",
          "[vault_double]") {
  platform_fixture f;
  const auto role_id = f.state.auth.add_approle({.name = "app", .policies = {"demo"}}).role_id;
  const auto root = f.state.auth.create_token({"root"}, 3600, true);
  const auto wrapped = f.call("POST", "auth/approle/role/app/secret-id", nullptr, root, "120s");
  REQUIRE(wrapped.status == 200);
  CHECK(wrapped.body["data"].is_null());
  const auto& info = wrapped.body["wrap_info"];
  CHECK(info["ttl"] == 120);
  CHECK(info["creation_path"] == "auth/approle/role/app/secret-id");
  CHECK(info["creation_time"].get<std::string>().ends_with("Z"));
  const auto wrapping_token = info["token"].get<std::string>();

  const auto looked = f.call("POST", "sys/wrapping/lookup", {{"token", wrapping_token}});
  REQUIRE(looked.status == 200);
  CHECK(looked.body["data"]["creation_path"] == "auth/approle/role/app/secret-id");
  CHECK(looked.body["data"]["creation_ttl"] == 120);
  CHECK(looked.body["creation_path"] == "auth/approle/role/app/secret-id");  // sys/* injection
  CHECK(looked.body["data"]["creation_time"] == info["creation_time"]);

  const auto unwrapped = f.call("POST", "sys/wrapping/unwrap", nullptr, wrapping_token);
  REQUIRE(unwrapped.status == 200);
  CHECK_FALSE(unwrapped.body.contains("secret_id"));  // as wrapped: no sys/* injection
  const auto secret_id = unwrapped.body["data"]["secret_id"].get<std::string>();
  CHECK(f.call("POST", "auth/approle/login", {{"role_id", role_id}, {"secret_id", secret_id}})
            .status == 200);

  for (const auto& again : {f.call("POST", "sys/wrapping/unwrap", nullptr, wrapping_token),
                            f.call("POST", "sys/wrapping/lookup", {{"token", wrapping_token}})}) {
    CHECK(again.status == 400);
    CHECK(first_error(again) == wrapping_error);
  }
}

TEST_CASE("platform auth: a wrapping token expires; sys/wrapping/wrap records its own path",
          "[vault_double]") {
  platform_fixture f;
  const auto root = f.state.auth.create_token({"root"}, 3600, true);
  const auto wrapped = f.call("POST", "sys/wrapping/wrap", {{"secret_id", "x"}}, root, "10");
  REQUIRE(wrapped.status == 200);
  const auto token = wrapped.body["wrap_info"]["token"].get<std::string>();
  CHECK(f.call("POST", "sys/wrapping/lookup", {{"token", token}}).body["data"]["creation_path"] ==
        "sys/wrapping/wrap");
  f.clock.advance(10s);
  const auto late = f.call("POST", "sys/wrapping/unwrap", nullptr, token);
  CHECK(late.status == 400);
  CHECK(first_error(late) == wrapping_error);
  CHECK(first_error(f.call("POST", "sys/wrapping/unwrap", nullptr, "hvs.never-issued")) ==
        wrapping_error);
  const auto negative = f.call("POST", "sys/wrapping/wrap", {{"a", "b"}}, root, "-5s");
  CHECK(negative.status == 400);
  CHECK(first_error(negative) == "requested wrap ttl cannot be negative");
}

TEST_CASE("platform auth: cert login maps the client certificate to the role that trusts it",
          "[vault_double]") {
  platform_fixture f;
  const certificates certs;
  f.state.platform.add_cert_role({.name = "by-server", .certificate_pem = certs.server});
  f.state.platform.add_cert_role(
      {.name = "by-ca", .certificate_pem = certs.ca, .policies = {"demo"}, .token_ttl = 30});
  const auto login = [&](json body, const std::string& cert) {
    vault_request request{
        .method = "POST", .path = "auth/cert/login", .query = {}, .token = {}, .body = body};
    request.client_cert = cert;
    return vault_api{f.state}.handle(request);
  };
  const auto reply = login(json::object(), certs.client);
  REQUIRE(reply.status == 200);
  CHECK(reply.body["auth"]["metadata"]["cert_name"] == "by-ca");
  CHECK(reply.body["auth"]["metadata"]["common_name"] == "vault-sidecar client");
  CHECK(reply.body["auth"]["lease_duration"] == 30);
  CHECK(reply.body["auth"]["policies"] == json{"default", "demo"});
  CHECK(login({{"name", "by-ca"}}, certs.client).status == 200);
  for (const auto& refused :
       {login(json::object(), ""), login({{"name", "by-server"}}, certs.client),
        login({{"name", "absent"}}, certs.client)}) {
    CHECK(refused.status == 400);
    CHECK(first_error(refused) == "invalid certificate or no client certificate supplied");
  }
  // The very certificate is trusted too (a non-CA entry of a role).
  f.state.platform.add_cert_role({.name = "exact", .certificate_pem = certs.client});
  CHECK(login({{"name", "exact"}}, certs.client).status == 200);
  CHECK_THROWS_AS(f.state.platform.add_cert_role({.name = "junk", .certificate_pem = "nope"}),
                  std::invalid_argument);
}
