#include <sidecar/supervisor/secret_set.hpp>

#include <sidecar/core/json_depth.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;
using supervisor::secret_map_of;
using supervisor::secret_names_for;
using supervisor::secret_set;

TEST_CASE("secret_set: set says whether the map differs from the one held", "[supervisor]") {
  secret_set secrets;
  CHECK(secrets.find("db") == nullptr);
  CHECK(secrets.set("db", {{"password", "one"}}));
  CHECK_FALSE(secrets.set("db", {{"password", "one"}}));
  CHECK(secrets.set("db", {{"password", "two"}}));
  CHECK(secrets.set("db", {{"password", "two"}, {"username", "u"}}));
  REQUIRE(secrets.find("db") != nullptr);
  CHECK(secrets.find("db")->at("password") == "two");
  CHECK(secrets.find("app") == nullptr);
}

TEST_CASE("secret_map_of: KV v2 data.data, KV v1 and dynamic data, nothing for other bodies",
          "[supervisor]") {
  CHECK(secret_map_of(R"({"data":{"data":{"a":"1"},"metadata":{"version":1}}})") ==
        nlohmann::json{{"a", "1"}});
  // A KV v1 secret that happens to have a key named "data" is not mistaken for KV v2.
  CHECK(secret_map_of(R"({"data":{"data":"x","other":"y"}})") ==
        nlohmann::json{{"data", "x"}, {"other", "y"}});
  CHECK(secret_map_of(R"({"lease_id":"l","data":{"username":"u"}})") ==
        nlohmann::json{{"username", "u"}});
  CHECK_FALSE(secret_map_of("not json"));
  CHECK_FALSE(secret_map_of(R"({"errors":["permission denied"]})"));
  CHECK_FALSE(secret_map_of(R"([1,2])"));
}

// Found by tests/fuzz/vault_response_fuzzer: the recursive walks over a parsed map (compare,
// cleanse, dump) overflowed the stack on a 100 KB answer of nested arrays.
TEST_CASE("secret_map_of: nothing for a body nesting deeper than max_json_depth", "[supervisor]") {
  const auto nested = [](std::size_t depth) {
    return R"({"data":{"k":)" + std::string(depth, '[') + std::string(depth, ']') + "}}";
  };
  CHECK(secret_map_of(nested(core::max_json_depth - 2)));
  CHECK_FALSE(secret_map_of(nested(core::max_json_depth - 1)));
  CHECK_FALSE(secret_map_of(nested(50000)));
}

TEST_CASE("secret_names_for: cache keys and lease paths map to every [secrets] name",
          "[supervisor]") {
  const std::vector<std::pair<std::string, std::string>> secrets = {
      {"app", "kv-demo/data/sample"},
      {"same", "kv-demo/data/sample"},
      {"db", "database/creds/myapp-role"},
      {"old", "kv-demo/data/sample?version=1"}};
  CHECK(secret_names_for(secrets, "/v1/kv-demo/data/sample") ==
        std::vector<std::string>{"app", "same"});
  CHECK(secret_names_for(secrets, "kv-demo/data/sample") ==
        std::vector<std::string>{"app", "same"});
  CHECK(secret_names_for(secrets, "database/creds/myapp-role") == std::vector<std::string>{"db"});
  CHECK(secret_names_for(secrets, "/v1/kv-demo/data/sample?version=1") ==
        std::vector<std::string>{"old"});
  CHECK(secret_names_for(secrets, "/v1/kv-demo/data/other").empty());
}
