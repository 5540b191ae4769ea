#include <sidecar/cache/stored_answer.hpp>

#include <catch2/catch.hpp>

#include "fake_vault_client.hpp"

using namespace sidecar;
using namespace sidecar::cache;

namespace {

vault::response response(unsigned status, std::string body) {
  vault::response out;
  out.status = status;
  out.content_type = "application/json";
  out.body = core::secret_string{std::move(body)};
  out.headers = {{"Warning", "199 - test"}};
  return out;
}

const core::time_point t0 = core::time_point{} + std::chrono::hours{1000};

}  // namespace

TEST_CASE("stored_answer: a KV v2 read keeps data.data for templates", "[cache]") {
  const auto body = testing::kv2_body(R"({"password":"hunter2"})", 3);
  const stored_answer answer{response(200, body), t0};
  CHECK(answer.cacheable());
  CHECK(answer.kv_version() == 2);
  CHECK(answer.data() == nlohmann::json{{"password", "hunter2"}});
  CHECK(answer.body() == body);  // relayed byte for byte
  CHECK(answer.status() == 200);
  CHECK(answer.content_type() == "application/json");
  CHECK(answer.headers().size() == 1);
  CHECK(answer.fetched_at() == t0);
}

TEST_CASE("stored_answer: a KV v1 read keeps data", "[cache]") {
  const stored_answer answer{response(200, testing::kv1_body(R"({"api_key":"k","ttl":"1h"})")), t0};
  CHECK(answer.cacheable());
  CHECK(answer.kv_version() == 1);
  CHECK(answer.data() == nlohmann::json{{"api_key", "k"}, {"ttl", "1h"}});
}

TEST_CASE("stored_answer: a v1 secret with a data key but no metadata object is v1", "[cache]") {
  const stored_answer answer{response(200, testing::kv1_body(R"({"data":"x","metadata":"y"})")),
                             t0};
  CHECK(answer.kv_version() == 1);
  CHECK(answer.data() == nlohmann::json{{"data", "x"}, {"metadata", "y"}});
}

TEST_CASE("stored_answer: errors, leased and malformed answers are not cacheable", "[cache]") {
  const stored_answer missing{response(404, R"({"errors":[]})"), t0};
  CHECK_FALSE(missing.cacheable());
  CHECK(missing.data().is_null());
  CHECK(missing.body() == R"({"errors":[]})");

  const stored_answer leased{
      response(200, R"({"lease_id":"database/creds/app/abc","lease_duration":3600,)"
                    R"("data":{"username":"u","password":"p"}})"),
      t0};
  CHECK_FALSE(leased.cacheable());
  CHECK(leased.data().is_null());

  const stored_answer garbage{response(200, "not json"), t0};
  CHECK_FALSE(garbage.cacheable());
  CHECK(garbage.body() == "not json");
}

// Found by tests/fuzz/vault_response_fuzzer: cleansing the parsed map of a 100 KB answer of
// nested arrays overflowed the stack. Such an answer is not Vault's JSON: never parsed into a
// map, never cached, and the cache treats it as a failed read (kv_cache_test).
TEST_CASE("stored_answer: an answer nesting deeper than max_json_depth is not cacheable",
          "[cache]") {
  const std::string deep = std::string(50000, '[') + std::string(50000, ']');
  const stored_answer answer{response(200, R"({"data":)" + deep + "}"), t0};
  CHECK_FALSE(answer.cacheable());
  CHECK_FALSE(answer.well_formed());
  CHECK(answer.data().is_null());
  CHECK(answer.body().size() == deep.size() + 9);
}

TEST_CASE("stored_answer: only a 200 that is not Vault's JSON is ill-formed", "[cache]") {
  CHECK_FALSE(stored_answer{response(200, "not json"), t0}.well_formed());
  CHECK_FALSE(stored_answer{response(200, R"({"data":{"data":{"x":)"), t0}.well_formed());
  CHECK_FALSE(stored_answer{response(200, "[1,2]"), t0}.well_formed());
  CHECK(stored_answer{response(200, testing::kv2_body(R"({"a":"b"})", 1)), t0}.well_formed());
  CHECK(stored_answer{response(200, R"({"lease_id":"db/creds/x/1","data":{"u":"v"}})"), t0}
            .well_formed());
  CHECK(stored_answer{response(502, "<html>bad gateway</html>"), t0}.well_formed());
  CHECK(stored_answer{response(404, R"({"errors":[]})"), t0}.well_formed());
}

TEST_CASE("stored_answer: data is parsed anew on each call, each copy the caller's", "[cache]") {
  const stored_answer answer{response(200, testing::kv2_body(R"({"password":"hunter2"})", 1)), t0};
  auto first = answer.data();
  first["password"] = "changed by the caller";
  CHECK(answer.data() == nlohmann::json{{"password", "hunter2"}});
}

TEST_CASE("cleanse_json: empties every string value, nested ones too", "[cache]") {
  auto map = nlohmann::json::parse(R"({"a":"secret","n":{"b":"deep","list":["x",1,true]},"k":7})");
  cleanse_json(map);
  CHECK(map == nlohmann::json::parse(R"({"a":"","n":{"b":"","list":["",1,true]},"k":7})"));
}
