#include <sidecar/proxy/token_self.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>

using namespace sidecar;
using proxy::answer_token_self;
using proxy::token_self_call;
using proxy::token_self_call_of;

namespace {

// 2026-03-04T05:06:07Z
const core::wall_time issued{std::chrono::seconds{1772600767}};

nlohmann::json answered(token_self_call call, std::string_view token) {
  const auto got = answer_token_self(call, token, "req-1", issued);
  REQUIRE(got.status == 200);
  return nlohmann::json::parse(got.body);
}

}  // namespace

TEST_CASE("token_self_call_of: exactly the three self-calls of the token backend", "[proxy]") {
  CHECK(token_self_call_of("/v1/auth/token/lookup-self") == token_self_call::lookup);
  CHECK(token_self_call_of("/v1/auth/token/renew-self") == token_self_call::renew);
  CHECK(token_self_call_of("/v1/auth/token/revoke-self") == token_self_call::revoke);
  for (const auto* other :
       {"/v1/auth/token/lookup", "/v1/auth/token/lookup-self/x", "/v1/auth/token/create",
        "/v1/auth/token/renew-self/", "/v1/auth/approle/login", "/v1/auth/token/lookup-accessor",
        "/v1/kv-demo/auth/token/lookup-self", "/v1/auth/userpass/lookup-self"}) {
    INFO(other);
    CHECK_FALSE(token_self_call_of(other));
  }
}

TEST_CASE("answer_token_self: lookup-self describes the caller's token as never expiring",
          "[proxy]") {
  const auto body = answered(token_self_call::lookup, "hvs.caller-token");
  CHECK(body["request_id"] == "req-1");
  CHECK(body["lease_id"] == "");
  CHECK(body["renewable"] == false);
  CHECK(body["lease_duration"] == 0);
  CHECK(body["auth"].is_null());
  const auto& data = body["data"];
  CHECK(data["id"] == "hvs.caller-token");
  CHECK(data["ttl"] == 0);
  CHECK(data["expire_time"].is_null());
  CHECK(data["renewable"] == false);
  CHECK(data["explicit_max_ttl"] == 0);
  CHECK(data["num_uses"] == 0);
  CHECK(data["accessor"] == "");
  CHECK(data["policies"] == nlohmann::json::array());
  CHECK(data["type"] == "service");
  CHECK(data["issue_time"] == "2026-03-04T05:06:07Z");
  CHECK(data["creation_time"] == 1772600767);
  // Auto-auth and the Go client read these keys; every key Vault's lookup-self has is there.
  const std::set<std::string> keys{
      "accessor",   "creation_time", "creation_ttl",     "display_name",
      "entity_id",  "expire_time",   "explicit_max_ttl", "id",
      "issue_time", "meta",          "num_uses",         "orphan",
      "path",       "policies",      "renewable",        "ttl",
      "type"};
  std::set<std::string> got;
  for (const auto& [key, value] : data.items()) got.insert(key);
  CHECK(got == keys);
}

TEST_CASE("answer_token_self: renew-self answers an auth block in the same terms", "[proxy]") {
  const auto body = answered(token_self_call::renew, "hvs.caller-token");
  CHECK(body["data"].is_null());
  const auto& auth = body["auth"];
  CHECK(auth["client_token"] == "hvs.caller-token");
  CHECK(auth["lease_duration"] == 0);
  CHECK(auth["renewable"] == false);
  CHECK(auth["accessor"] == "");
  CHECK(auth["policies"] == nlohmann::json::array());
  CHECK(auth["token_type"] == "service");
}

TEST_CASE("answer_token_self: revoke-self is 204 with no body", "[proxy]") {
  const auto got = answer_token_self(token_self_call::revoke, "hvs.caller-token", "r", issued);
  CHECK(got.status == 204);
  CHECK(got.body.empty());
}

TEST_CASE("answer_token_self: no token, or bytes that are no UTF-8, never throw", "[proxy]") {
  CHECK(answered(token_self_call::lookup, "")["data"]["id"] == "");
  CHECK(answered(token_self_call::renew, "")["auth"]["client_token"] == "");
  const std::string hostile{"\xff\xfe\"}\\\x01"};
  const auto data = answered(token_self_call::lookup, hostile)["data"];
  CHECK(data["id"].is_string());
  CHECK(data["ttl"] == 0);  // the quote and brace stayed inside the string
}

// xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx, lower-case hex (std::regex trips GCC 12's
// -Wmaybe-uninitialized under -O1, so by hand).
bool uuid_v4(const std::string& id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return id[14] == '4' && (id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
}

TEST_CASE("new_request_id: random version-4 UUIDs", "[proxy]") {
  CHECK_FALSE(uuid_v4("00000000-0000-1000-8000-000000000000"));  // version 1
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const auto id = proxy::new_request_id();
    INFO(id);
    CHECK(uuid_v4(id));
    seen.insert(id);
  }
  CHECK(seen.size() == 100);
}
