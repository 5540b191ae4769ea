// The Vault semantics of the double, driven without sockets: a double_state on a manual clock
// and the vault_api router, one request at a time.

#include <sidecar/testing/memory_database_backend.hpp>
#include <sidecar/testing/vault_api.hpp>
#include <sidecar/testing/vault_http_handler.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;
using namespace sidecar::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string invalid_token_text =
    "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n";
const std::string denied_text = "1 error occurred:\n\t* permission denied\n\n";

struct api_fixture {
  core::manual_clock clock;
  std::shared_ptr<memory_database_backend> database = std::make_shared<memory_database_backend>();
  double_state state{clock, database};

  api_fixture() {
    state.kv.add_mount("kv-demo", 2);
    state.kv.add_mount("kv-v1", 1);
    state.leases.add_role({.name = "myapp-role", .default_ttl = 60, .max_ttl = 300});
    state.auth.add_policy("demo", {{"kv-demo/*", {"read", "list"}},
                                   {"kv-v1/*", {"read", "list"}},
                                   {"database/creds/*", {"read"}},
                                   {"sys/leases/*", {"update"}}});
    state.auth.add_policy("writer",
                          {{"kv-demo/*", {"create", "read", "update", "patch", "delete", "list"}},
                           {"kv-v1/*", {"create", "read", "update", "delete", "list"}}});
  }

  vault_reply call(const std::string& method, const std::string& path, json body = nullptr,
                   const std::string& token = {}, std::map<std::string, std::string> query = {}) {
    vault_request request{.method = method,
                          .path = path,
                          .query = std::move(query),
                          .token = token,
                          .body = std::move(body)};
    return vault_api{state}.handle(request);
  }

  std::string login(const approle_credentials& creds) {
    const auto reply = call("POST", "auth/approle/login",
                            {{"role_id", creds.role_id}, {"secret_id", creds.secret_id}});
    REQUIRE(reply.status == 200);
    return reply.body["auth"]["client_token"].get<std::string>();
  }

  std::string demo_token(long long ttl = 3600, long long max_ttl = 0) {
    return login(state.auth.add_approle(
        {.name = "demo", .policies = {"demo"}, .token_ttl = ttl, .token_max_ttl = max_ttl}));
  }
};

std::string first_error(const vault_reply& reply) {
  return reply.body.at("errors").empty() ? std::string{}
                                         : reply.body["errors"][0].get<std::string>();
}

void check_envelope(const json& body, const std::string& mount_type) {
  for (const char* key : {"request_id", "lease_id", "renewable", "lease_duration", "data",
                          "wrap_info", "warnings", "auth", "mount_type"}) {
    INFO(key);
    CHECK(body.contains(key));
  }
  CHECK(body["request_id"].get<std::string>().size() == 36);
  CHECK(body["wrap_info"].is_null());
  CHECK(body["mount_type"] == mount_type);
}

}  // namespace

TEST_CASE("vault_api: approle login answers the full envelope with an orphan hvs token",
          "[vault_double]") {
  api_fixture f;
  const auto creds =
      f.state.auth.add_approle({.name = "demo", .policies = {"demo"}, .token_ttl = 1200});
  const auto reply = f.call("POST", "auth/approle/login",
                            {{"role_id", creds.role_id}, {"secret_id", creds.secret_id}});
  REQUIRE(reply.status == 200);
  check_envelope(reply.body, "approle");
  CHECK(reply.body["lease_id"] == "");
  CHECK(reply.body["lease_duration"] == 0);
  CHECK(reply.body["data"].is_null());
  CHECK(reply.body["warnings"].is_null());
  const auto& auth = reply.body["auth"];
  CHECK(auth["client_token"].get<std::string>().starts_with("hvs."));
  CHECK_FALSE(auth["accessor"].get<std::string>().empty());
  CHECK(auth["policies"] == json{"default", "demo"});
  CHECK(auth["token_policies"] == json{"default", "demo"});
  CHECK(auth["metadata"] == json{{"role_name", "demo"}});
  CHECK(auth["lease_duration"] == 1200);
  CHECK(auth["renewable"] == true);
  CHECK(auth["entity_id"] == "");
  CHECK(auth["token_type"] == "service");
  CHECK(auth["orphan"] == true);
  CHECK(auth["num_uses"] == 0);
  CHECK(auth.contains("mfa_requirement"));
}

TEST_CASE("vault_api: approle login errors match Vault's table", "[vault_double]") {
  api_fixture f;
  const auto creds = f.state.auth.add_approle({.name = "demo"});
  auto reply = f.call("POST", "auth/approle/login", {{"secret_id", creds.secret_id}});
  CHECK(reply.status == 400);
  CHECK(first_error(reply) == "invalid credentials");
  reply =
      f.call("POST", "auth/approle/login", {{"role_id", "nope"}, {"secret_id", creds.secret_id}});
  CHECK(reply.status == 400);
  CHECK(first_error(reply) == "invalid role or secret ID");
  reply = f.call("POST", "auth/approle/login", {{"role_id", creds.role_id}});
  CHECK(reply.status == 400);
  CHECK(first_error(reply) == "missing secret_id");
  reply =
      f.call("POST", "auth/approle/login", {{"role_id", creds.role_id}, {"secret_id", "wrong"}});
  CHECK(reply.status == 400);
  CHECK(first_error(reply) == "invalid role or secret ID");
  reply = f.call("GET", "auth/approle/login");
  CHECK(reply.status == 405);
}

TEST_CASE("vault_api: a role without bind_secret_id logs in with the role_id alone",
          "[vault_double]") {
  api_fixture f;
  const auto creds = f.state.auth.add_approle({.name = "open", .bind_secret_id = false});
  CHECK(f.call("POST", "auth/approle/login", {{"role_id", creds.role_id}}).status == 200);
}

TEST_CASE("vault_api: a secret_id with num_uses works for its last use and is then gone",
          "[vault_double]") {
  api_fixture f;
  const auto creds = f.state.auth.add_approle({.name = "demo", .secret_id_num_uses = 2});
  const json body{{"role_id", creds.role_id}, {"secret_id", creds.secret_id}};
  CHECK(f.call("POST", "auth/approle/login", body).status == 200);
  CHECK(f.call("POST", "auth/approle/login", body).status == 200);
  const auto third = f.call("POST", "auth/approle/login", body);
  CHECK(third.status == 400);
  CHECK(first_error(third) == "invalid role or secret ID");
  const auto fresh = f.state.auth.add_secret_id("demo");
  CHECK(f.call("POST", "auth/approle/login", {{"role_id", creds.role_id}, {"secret_id", fresh}})
            .status == 200);
}

TEST_CASE("vault_api: an expired secret_id is refused", "[vault_double]") {
  api_fixture f;
  const auto creds = f.state.auth.add_approle({.name = "demo", .secret_id_ttl = 60});
  f.clock.advance(61s);
  const auto reply = f.call("POST", "auth/approle/login",
                            {{"role_id", creds.role_id}, {"secret_id", creds.secret_id}});
  CHECK(reply.status == 400);
  CHECK(first_error(reply) == "invalid role or secret ID");
}

TEST_CASE("vault_api: each request spends a token use and a used-up token is invalid",
          "[vault_double]") {
  api_fixture f;
  const auto token = f.login(f.state.auth.add_approle({.name = "demo", .token_num_uses = 2}));
  CHECK(f.call("GET", "auth/token/lookup-self", nullptr, token).status == 200);
  CHECK(f.call("GET", "auth/token/lookup-self", nullptr, token).status == 200);
  const auto third = f.call("GET", "auth/token/lookup-self", nullptr, token);
  CHECK(third.status == 403);
  CHECK(first_error(third) == invalid_token_text);
}

TEST_CASE("vault_api: lookup-self reports ttl, creation_ttl, expire_time and type",
          "[vault_double]") {
  api_fixture f;
  const auto token = f.demo_token();
  f.clock.advance(100s);
  const auto reply = f.call("GET", "auth/token/lookup-self", nullptr, token);
  REQUIRE(reply.status == 200);
  check_envelope(reply.body, "token");
  const auto& data = reply.body["data"];
  CHECK(data["id"] == token);
  CHECK(data["ttl"] == 3500);
  CHECK(data["creation_ttl"] == 3600);
  CHECK(data["expire_time"] == "2026-01-01T01:00:00Z");
  CHECK(data["issue_time"] == "2026-01-01T00:00:00Z");
  CHECK(data["type"] == "service");
  CHECK(data["renewable"] == true);
  CHECK(data["orphan"] == true);
  CHECK(data["path"] == "auth/approle/login");
  CHECK(data["display_name"] == "approle");
  CHECK(data["meta"]["role_name"] == "demo");
  CHECK(data["policies"] == json{"default", "demo"});
  CHECK(data["num_uses"] == 0);
  CHECK(data["explicit_max_ttl"] == 0);
}

TEST_CASE("vault_api: renew-self extends by the role TTL or the increment", "[vault_double]") {
  api_fixture f;
  const auto token = f.demo_token(3600);
  f.clock.advance(3000s);
  auto reply = f.call("POST", "auth/token/renew-self", nullptr, token);
  REQUIRE(reply.status == 200);
  CHECK(reply.body["auth"]["lease_duration"] == 3600);
  CHECK(reply.body["auth"]["client_token"] == token);
  CHECK(reply.body["warnings"].is_null());
  reply = f.call("POST", "auth/token/renew-self", {{"increment", "10m"}}, token);
  CHECK(reply.body["auth"]["lease_duration"] == 600);
  f.clock.advance(601s);
  CHECK(f.call("GET", "auth/token/lookup-self", nullptr, token).status == 403);
}

TEST_CASE("vault_api: renew-self caps the TTL at the max with Vault's warning", "[vault_double]") {
  api_fixture f;
  const auto token = f.demo_token(3600, 7200);
  f.clock.advance(3000s);
  REQUIRE(f.call("POST", "auth/token/renew-self", nullptr, token).status == 200);
  f.clock.advance(2000s);
  const auto reply = f.call("POST", "auth/token/renew-self", {{"increment", 3600}}, token);
  REQUIRE(reply.status == 200);
  CHECK(reply.body["auth"]["lease_duration"] == 2200);
  CHECK(reply.body["warnings"] ==
        json{"TTL of \"1h\" exceeded the effective max_ttl of \"36m40s\"; TTL value is capped "
             "accordingly"});
  f.clock.advance(2200s);  // at the max the token has expired
  const auto after = f.call("POST", "auth/token/renew-self", nullptr, token);
  CHECK(after.status == 403);
  CHECK(first_error(after) == invalid_token_text);
}

TEST_CASE("vault_api: a non-renewable token cannot renew", "[vault_double]") {
  api_fixture f;
  const auto token = f.state.auth.create_token({"demo"}, 600, false);
  const auto reply = f.call("POST", "auth/token/renew-self", nullptr, token);
  CHECK(reply.status == 400);
  CHECK(first_error(reply) == "lease is not renewable");
}

TEST_CASE("vault_api: missing, unknown and expired tokens are invalid tokens", "[vault_double]") {
  api_fixture f;
  const auto token = f.demo_token(60);
  for (const std::string& bad : {std::string{}, std::string{"hvs.nope"}}) {
    const auto reply = f.call("GET", "kv-demo/data/sample", nullptr, bad);
    CHECK(reply.status == 403);
    CHECK(first_error(reply) == invalid_token_text);
  }
  f.clock.advance(60s);
  CHECK(first_error(f.call("GET", "auth/token/lookup-self", nullptr, token)) == invalid_token_text);
}

TEST_CASE("vault_api: a valid token outside its policy gets permission denied", "[vault_double]") {
  api_fixture f;
  const auto token = f.demo_token();
  const auto reply = f.call("POST", "kv-demo/data/sample", {{"data", {{"a", 1}}}}, token);
  CHECK(reply.status == 403);
  CHECK(first_error(reply) == denied_text);
  CHECK(f.call("GET", "kv-other/data/x", nullptr, token).status == 403);
}

TEST_CASE("vault_api: revoke-self answers 204, the token stops working and its leases end",
          "[vault_double]") {
  api_fixture f;
  const auto token = f.demo_token();
  REQUIRE(f.call("GET", "database/creds/myapp-role", nullptr, token).status == 200);
  CHECK(f.state.leases.live("database/creds/") == 1);
  const auto reply = f.call("POST", "auth/token/revoke-self", nullptr, token);
  CHECK(reply.status == 204);
  CHECK(reply.body.is_null());
  CHECK(f.call("GET", "auth/token/lookup-self", nullptr, token).status == 403);
  CHECK(f.state.leases.live("database/creds/") == 0);
  CHECK(f.database->user_count() == 0);
}

TEST_CASE("vault_api: KV v2 writes versions with check-and-set and reads any version",
          "[vault_double]") {
  api_fixture f;
  const auto token = f.state.auth.create_token({"writer"}, 3600, true);
  auto reply = f.call("POST", "kv-demo/data/app", {{"data", {{"v", 1}}}}, token);
  REQUIRE(reply.status == 200);
  check_envelope(reply.body, "kv");
  CHECK(reply.body["data"]["version"] == 1);
  CHECK(reply.body["data"]["deletion_time"] == "");
  CHECK(reply.body["data"]["destroyed"] == false);
  reply =
      f.call("PUT", "kv-demo/data/app", {{"data", {{"v", 2}}}, {"options", {{"cas", 1}}}}, token);
  CHECK(reply.body["data"]["version"] == 2);
  reply =
      f.call("PUT", "kv-demo/data/app", {{"data", {{"v", 3}}}, {"options", {{"cas", 1}}}}, token);
  CHECK(reply.status == 400);
  CHECK(first_error(reply) == "check-and-set parameter did not match the current version");
  reply = f.call("POST", "kv-demo/data/app", {{"nodata", 1}}, token);
  CHECK(reply.status == 400);

  reply = f.call("GET", "kv-demo/data/app", nullptr, token);
  REQUIRE(reply.status == 200);
  CHECK(reply.body["data"]["data"] == json{{"v", 2}});
  CHECK(reply.body["data"]["metadata"]["version"] == 2);
  CHECK(reply.body["data"]["metadata"]["custom_metadata"].is_null());
  CHECK(reply.body["lease_duration"] == 0);
  CHECK(reply.body["renewable"] == false);
  reply = f.call("GET", "kv-demo/data/app", nullptr, token, {{"version", "1"}});
  CHECK(reply.body["data"]["data"] == json{{"v", 1}});
  reply = f.call("GET", "kv-demo/data/app", nullptr, token, {{"version", "3"}});
  CHECK(reply.status == 404);
  CHECK(reply.body == json{{"errors", json::array()}});
  reply = f.call("GET", "kv-demo/data/missing", nullptr, token);
  CHECK(reply.status == 404);
  CHECK(reply.body == json{{"errors", json::array()}});
}

TEST_CASE("vault_api: KV v2 deleted and destroyed versions are 404 with their metadata",
          "[vault_double]") {
  api_fixture f;
  const auto token = f.state.auth.create_token({"writer"}, 3600, true);
  f.state.kv.put("kv-demo", "app", {{"v", 1}});
  f.state.kv.put("kv-demo", "app", {{"v", 2}});
  CHECK(f.call("DELETE", "kv-demo/data/app", nullptr, token).status == 204);
  auto reply = f.call("GET", "kv-demo/data/app", nullptr, token);
  CHECK(reply.status == 404);
  CHECK(reply.body["data"]["data"].is_null());
  CHECK(reply.body["data"]["metadata"]["version"] == 2);
  CHECK(reply.body["data"]["metadata"]["deletion_time"] == "2026-01-01T00:00:00Z");
  CHECK(reply.body["data"]["metadata"]["destroyed"] == false);
  CHECK(f.call("GET", "kv-demo/data/app", nullptr, token, {{"version", "1"}}).status == 200);

  CHECK(f.call("POST", "kv-demo/undelete/app", {{"versions", {2}}}, token).status == 204);
  CHECK(f.call("GET", "kv-demo/data/app", nullptr, token).status == 200);
  CHECK(f.call("PUT", "kv-demo/destroy/app", {{"versions", {2}}}, token).status == 204);
  reply = f.call("GET", "kv-demo/data/app", nullptr, token);
  CHECK(reply.status == 404);
  CHECK(reply.body["data"]["metadata"]["destroyed"] == true);
  CHECK(f.call("POST", "kv-demo/undelete/app", {{"versions", {2}}}, token).status == 204);
  CHECK(f.call("GET", "kv-demo/data/app", nullptr, token).status == 404);
  CHECK(f.call("POST", "kv-demo/delete/app", {{"versions", {1}}}, token).status == 204);
  CHECK(f.call("GET", "kv-demo/data/app", nullptr, token, {{"version", "1"}}).status == 404);
  CHECK(f.call("POST", "kv-demo/delete/app", json::object(), token).status == 400);
}

TEST_CASE("vault_api: KV v2 metadata reads and lists", "[vault_double]") {
  api_fixture f;
  const auto token = f.demo_token();
  f.state.kv.put("kv-demo", "app", {{"v", 1}});
  f.state.kv.put("kv-demo", "app", {{"v", 2}});
  f.state.kv.put("kv-demo", "dir/inner", {{"v", 1}});
  auto reply = f.call("GET", "kv-demo/metadata/app", nullptr, token);
  REQUIRE(reply.status == 200);
  const auto& data = reply.body["data"];
  CHECK(data["current_version"] == 2);
  CHECK(data["oldest_version"] == 0);
  CHECK(data["cas_required"] == false);
  CHECK(data["versions"].size() == 2);
  CHECK(data["versions"]["1"]["destroyed"] == false);
  CHECK(data["created_time"] == "2026-01-01T00:00:00Z");
  reply = f.call("LIST", "kv-demo/metadata/", nullptr, token);
  REQUIRE(reply.status == 200);
  CHECK(reply.body["data"]["keys"] == json{"app", "dir/"});
  reply = f.call("GET", "kv-demo/metadata/dir", nullptr, token, {{"list", "true"}});
  CHECK(reply.body["data"]["keys"] == json{"inner"});
  CHECK(f.call("LIST", "kv-demo/metadata/none", nullptr, token).status == 404);
  CHECK(f.call("GET", "kv-demo/metadata/none", nullptr, token).status == 404);
}

TEST_CASE("vault_api: KV v2 patch merges into the latest version", "[vault_double]") {
  api_fixture f;
  const auto token = f.state.auth.create_token({"writer"}, 3600, true);
  f.state.kv.put("kv-demo", "app", {{"a", 1}, {"b", 2}});
  auto reply = f.call("PATCH", "kv-demo/data/app", {{"data", {{"b", 3}, {"c", 4}}}}, token);
  REQUIRE(reply.status == 200);
  CHECK(reply.body["data"]["version"] == 2);
  CHECK(f.call("GET", "kv-demo/data/app", nullptr, token).body["data"]["data"] ==
        json{{"a", 1}, {"b", 3}, {"c", 4}});
  CHECK(f.call("PATCH", "kv-demo/data/none", {{"data", {{"b", 3}}}}, token).status == 404);
}

TEST_CASE("vault_api: a write to a new secret needs create, to an existing one update",
          "[vault_double]") {
  api_fixture f;
  f.state.auth.add_policy("updater", {{"kv-demo/*", {"update"}}});
  const auto token = f.state.auth.create_token({"updater"}, 3600, true);
  CHECK(f.call("POST", "kv-demo/data/new", {{"data", {{"a", 1}}}}, token).status == 403);
  f.state.kv.put("kv-demo", "old", {{"a", 1}});
  CHECK(f.call("POST", "kv-demo/data/old", {{"data", {{"a", 2}}}}, token).status == 200);
}

TEST_CASE("vault_api: KV v1 reads with an advisory lease_duration, writes, lists, deletes",
          "[vault_double]") {
  api_fixture f;
  const auto token = f.state.auth.create_token({"writer"}, 3600, true);
  CHECK(f.call("PUT", "kv-v1/plain", {{"k", "v"}}, token).status == 204);
  CHECK(f.call("PUT", "kv-v1/dir/timed", {{"k", "v"}, {"ttl", "1h"}}, token).status == 204);
  auto reply = f.call("GET", "kv-v1/plain", nullptr, token);
  REQUIRE(reply.status == 200);
  check_envelope(reply.body, "kv");
  CHECK(reply.body["data"] == json{{"k", "v"}});
  CHECK(reply.body["lease_duration"] == 2764800);
  CHECK(reply.body["lease_id"] == "");
  CHECK(reply.body["renewable"] == false);
  CHECK(f.call("GET", "kv-v1/dir/timed", nullptr, token).body["lease_duration"] == 3600);
  CHECK(f.call("LIST", "kv-v1/", nullptr, token).body["data"]["keys"] == json{"dir/", "plain"});
  CHECK(f.call("DELETE", "kv-v1/plain", nullptr, token).status == 204);
  CHECK(f.call("GET", "kv-v1/plain", nullptr, token).status == 404);
  // The ACL comes first (writer may not patch), the operation check after it.
  CHECK(f.call("PATCH", "kv-v1/plain", {{"k", "v"}}, token).status == 403);
  const auto root = f.state.auth.create_token({"root"}, 600, true);
  CHECK(f.call("PATCH", "kv-v1/plain", {{"k", "v"}}, root).status == 405);
}

TEST_CASE("vault_api: database creds mint unique users with a renewable lease", "[vault_double]") {
  api_fixture f;
  const auto token = f.demo_token();
  const auto first = f.call("GET", "database/creds/myapp-role", nullptr, token);
  REQUIRE(first.status == 200);
  check_envelope(first.body, "database");
  CHECK(first.body["lease_id"].get<std::string>().starts_with("database/creds/myapp-role/"));
  CHECK(first.body["lease_duration"] == 60);
  CHECK(first.body["renewable"] == true);
  const auto username = first.body["data"]["username"].get<std::string>();
  CHECK(username.starts_with("v-approle-myapp-ro-"));
  CHECK(username.ends_with(std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(f.clock.wall_now().time_since_epoch())
          .count())));
  CHECK(first.body["data"]["password"].get<std::string>().size() >= 20);
  CHECK(f.database->has_user(username));
  const auto second = f.call("GET", "database/creds/myapp-role", nullptr, token);
  CHECK(second.body["data"]["username"] != first.body["data"]["username"]);
  CHECK(second.body["lease_id"] != first.body["lease_id"]);
  CHECK(f.state.leases.live("") == 2);

  const auto unknown =
      f.call("GET", "database/creds/nope", nullptr, f.state.auth.create_token({"root"}, 60, true));
  CHECK(unknown.status == 400);
  CHECK(first_error(unknown) == "unknown role: nope");
}

TEST_CASE("vault_api: lease renew caps at max_ttl with a warning, then past max is refused",
          "[vault_double]") {
  api_fixture f;
  const auto token = f.demo_token();
  const auto creds = f.call("GET", "database/creds/myapp-role", nullptr, token);
  const auto lease_id = creds.body["lease_id"].get<std::string>();
  const auto username = creds.body["data"]["username"].get<std::string>();

  f.clock.advance(50s);
  auto reply = f.call("PUT", "sys/leases/renew", {{"lease_id", lease_id}}, token);
  REQUIRE(reply.status == 200);
  check_envelope(reply.body, "system");
  CHECK(reply.body["lease_id"] == lease_id);
  CHECK(reply.body["lease_duration"] == 60);
  CHECK(reply.body["renewable"] == true);

  f.clock.advance(50s);  // t = 100 s
  reply = f.call("POST", "sys/leases/renew", {{"lease_id", lease_id}, {"increment", 100}}, token);
  CHECK(reply.body["lease_duration"] == 100);
  CHECK(reply.body["warnings"].is_null());

  f.clock.advance(90s);  // t = 190 s of a 300 s max
  reply = f.call("POST", "sys/leases/renew", {{"lease_id", lease_id}, {"increment", 150}}, token);
  REQUIRE(reply.status == 200);
  CHECK(reply.body["lease_duration"] == 110);
  CHECK(reply.body["warnings"] ==
        json{"TTL of \"2m30s\" exceeded the effective max_ttl of \"1m50s\"; TTL value is capped "
             "accordingly"});

  // Vault counts the max in whole seconds but expiry from the exact renewal time, so the last
  // fraction of a second before expiry is "past the max".
  f.clock.advance(109500ms);
  reply = f.call("POST", "sys/leases/renew/" + lease_id, nullptr, token);
  CHECK(reply.body["lease_duration"] == 1);
  f.clock.advance(700ms);
  reply = f.call("POST", "sys/leases/renew", {{"lease_id", lease_id}}, token);
  CHECK(reply.status == 400);
  CHECK(first_error(reply) == "past the max TTL, cannot renew");

  f.clock.advance(1s);
  reply = f.call("POST", "sys/leases/renew", {{"lease_id", lease_id}}, token);
  CHECK(reply.status == 400);
  CHECK(first_error(reply) == "lease not found");
  CHECK(f.state.leases.live("") == 0);
  CHECK_FALSE(f.database->has_user(username));
  CHECK(first_error(f.call("POST", "sys/leases/renew", json::object(), token)) ==
        "lease_id must be specified");
}

TEST_CASE("vault_api: a non-renewable lease cannot renew", "[vault_double]") {
  api_fixture f;
  f.state.leases.add_role({.name = "fixed", .default_ttl = 60, .max_ttl = 300, .renewable = false});
  const auto token = f.demo_token();
  const auto creds = f.call("GET", "database/creds/fixed", nullptr, token);
  CHECK(creds.body["renewable"] == false);
  const auto reply =
      f.call("POST", "sys/leases/renew", {{"lease_id", creds.body["lease_id"]}}, token);
  CHECK(reply.status == 400);
  CHECK(first_error(reply) == "lease is not renewable");
}

TEST_CASE("vault_api: lease lookup describes the lease and revoke ends it", "[vault_double]") {
  api_fixture f;
  const auto token = f.demo_token();
  const auto creds = f.call("GET", "database/creds/myapp-role", nullptr, token);
  const auto lease_id = creds.body["lease_id"].get<std::string>();
  f.clock.advance(10s);
  auto reply = f.call("PUT", "sys/leases/lookup", {{"lease_id", lease_id}}, token);
  REQUIRE(reply.status == 200);
  const auto& data = reply.body["data"];
  CHECK(data["id"] == lease_id);
  CHECK(data["ttl"] == 50);
  CHECK(data["renewable"] == true);
  CHECK(data["last_renewal"].is_null());
  CHECK(data["issue_time"] == "2026-01-01T00:00:00Z");
  CHECK(data["expire_time"] == "2026-01-01T00:01:00Z");
  CHECK(data["path"] == "database/creds/myapp-role");
  CHECK(reply.body["id"] == lease_id);  // sys/* repeats data at the top level

  CHECK(f.call("PUT", "sys/leases/revoke", {{"lease_id", lease_id}}, token).status == 204);
  CHECK_FALSE(f.database->has_user(creds.body["data"]["username"].get<std::string>()));
  reply = f.call("PUT", "sys/leases/lookup", {{"lease_id", lease_id}}, token);
  CHECK(reply.status == 400);
  CHECK(first_error(reply) == "invalid lease");
  CHECK(f.call("PUT", "sys/leases/revoke/" + lease_id, nullptr, token).status == 204);
}

TEST_CASE("vault_api: leases expire on the clock and with the token that made them",
          "[vault_double]") {
  api_fixture f;
  const auto token = f.demo_token(120);
  REQUIRE(f.call("GET", "database/creds/myapp-role", nullptr, token).status == 200);
  f.clock.advance(61s);
  CHECK(f.state.leases.live("") == 0);
  f.state.leases.sweep_expired();
  CHECK(f.database->user_count() == 0);
  REQUIRE(f.call("GET", "database/creds/myapp-role", nullptr, token).status == 200);
  f.clock.advance(59s);  // the token's 120 s are up, the lease's 60 s not yet
  CHECK(f.call("GET", "sys/health").status == 200);
  CHECK(f.state.leases.live("") == 0);
  CHECK(f.database->user_count() == 0);
}

TEST_CASE("vault_api: sealed answers 503 except sys/health, which reports it", "[vault_double]") {
  api_fixture f;
  const auto token = f.demo_token();
  f.state.sealed = true;
  auto reply = f.call("GET", "kv-demo/data/sample", nullptr, token);
  CHECK(reply.status == 503);
  CHECK(reply.body == json{{"errors", {"Vault is sealed"}}});
  CHECK(f.call("POST", "auth/approle/login", json::object()).status == 503);
  reply = f.call("GET", "sys/health");
  CHECK(reply.status == 503);
  CHECK(reply.body["sealed"] == true);
  CHECK(f.call("GET", "sys/health", nullptr, {}, {{"sealedcode", "200"}}).status == 200);
  reply = f.call("HEAD", "sys/health");
  CHECK(reply.status == 503);
  CHECK(reply.body.is_null());
  f.state.sealed = false;
  CHECK(f.call("GET", "kv-demo/data/sample", nullptr, token).status == 404);
}

TEST_CASE("vault_api: sys/health reports an initialized active node", "[vault_double]") {
  api_fixture f;
  const auto reply = f.call("GET", "sys/health", nullptr, {}, {{"standbyok", "true"}});
  REQUIRE(reply.status == 200);
  CHECK(reply.body["initialized"] == true);
  CHECK(reply.body["sealed"] == false);
  CHECK(reply.body["standby"] == false);
  CHECK(reply.body["performance_standby"] == false);
  CHECK(reply.body["replication_dr_mode"] == "disabled");
  CHECK(reply.body["server_time_utc"].is_number_integer());
  CHECK(reply.body.contains("version"));
  CHECK(reply.body.contains("cluster_id"));
  CHECK(f.call("GET", "sys/health", nullptr, {}, {{"activecode", "299"}}).status == 299);
  CHECK(f.call("POST", "sys/health").status == 405);
}

TEST_CASE("vault_api: internal ui mounts tells the kv version to tokens with access",
          "[vault_double]") {
  api_fixture f;
  const auto token = f.demo_token();
  auto reply = f.call("GET", "sys/internal/ui/mounts/kv-demo/data/sample", nullptr, token);
  REQUIRE(reply.status == 200);
  CHECK(reply.body["data"]["type"] == "kv");
  CHECK(reply.body["data"]["options"]["version"] == "2");
  CHECK(reply.body["data"]["path"] == "kv-demo/");
  CHECK(reply.body["type"] == "kv");
  CHECK(reply.body["options"]["version"] == "2");
  reply = f.call("GET", "sys/internal/ui/mounts/kv-v1", nullptr, token);
  CHECK(reply.body["data"]["options"]["version"] == "1");
  CHECK(f.call("GET", "sys/internal/ui/mounts/database", nullptr, token).body["data"]["type"] ==
        "database");
  CHECK(first_error(f.call("GET", "sys/internal/ui/mounts/nomount/x", nullptr, token)) ==
        denied_text);
  const auto outsider = f.state.auth.create_token({}, 60, true);
  CHECK(f.call("GET", "sys/internal/ui/mounts/kv-demo", nullptr, outsider).status == 403);
}

TEST_CASE("vault_api: capabilities-self lists the token's capabilities", "[vault_double]") {
  api_fixture f;
  const auto token = f.demo_token();
  auto reply = f.call("POST", "sys/capabilities-self", {{"paths", {"kv-demo/data/x"}}}, token);
  REQUIRE(reply.status == 200);
  CHECK(reply.body["data"]["capabilities"] == json{"list", "read"});
  CHECK(reply.body["data"]["kv-demo/data/x"] == json{"list", "read"});
  CHECK(reply.body["capabilities"] == json{"list", "read"});
  reply = f.call("POST", "sys/capabilities-self", {{"paths", {"nope/x", "auth/token/renew-self"}}},
                 token);
  CHECK(reply.body["data"]["nope/x"] == json{"deny"});
  CHECK(reply.body["data"]["auth/token/renew-self"] == json{"update"});
  CHECK_FALSE(reply.body["data"].contains("capabilities"));
}

TEST_CASE("vault_api: unknown routes and unsupported operations", "[vault_double]") {
  api_fixture f;
  const auto root = f.state.auth.create_token({"root"}, 600, true);
  auto reply = f.call("GET", "nomount/x", nullptr, root);
  CHECK(reply.status == 404);
  CHECK(first_error(reply) == "no handler for route \"nomount/x\". route entry not found.");
  reply = f.call("DELETE", "auth/token/lookup-self", nullptr, root);
  CHECK(reply.status == 405);
  CHECK(first_error(reply) == "1 error occurred:\n\t* unsupported operation\n\n");
  CHECK(f.call("POST", "database/creds/myapp-role", nullptr, root).status == 405);
  CHECK(f.call("GET", "kv-demo/nothing/x", nullptr, root).status == 404);
  CHECK(f.call("GET", "nomount/x", nullptr, f.demo_token()).status == 403);
}

TEST_CASE("vault_http_handler: parse reads path, query, token and JSON body", "[vault_double]") {
  string_request request{http::verb::get, "/v1/kv-demo/data/a%20b?version=2&list=true", 11};
  request.set(http::field::authorization, "Bearer hvs.abc");
  request.body() = R"({"k":1})";
  vault_reply error;
  const auto parsed = vault_http_handler::parse(request, error);
  REQUIRE(parsed.has_value());
  CHECK(parsed->path == "kv-demo/data/a b");
  CHECK(parsed->query.at("version") == "2");
  CHECK(parsed->query.at("list") == "true");
  CHECK(parsed->token == "hvs.abc");
  CHECK(parsed->body == json{{"k", 1}});
  request.set("X-Vault-Token", "hvs.header");
  CHECK(vault_http_handler::parse(request, error)->token == "hvs.header");

  request.body() = "{not json";
  CHECK_FALSE(vault_http_handler::parse(request, error).has_value());
  CHECK(error.status == 400);
  CHECK(first_error(error).starts_with("failed to parse JSON input: "));
  request.target("/ui/");
  CHECK_FALSE(vault_http_handler::parse(request, error).has_value());
  CHECK(error.status == 404);
}
