#include <sidecar/proxy/query_filter.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace sidecar;
using proxy::decode_query;
using proxy::filter_kv_read_query;
using proxy::kv_read_query;
using proxy::query_refusal;

namespace {

constexpr std::string_view data_path = "/v1/kv-demo/data/sample";

kv_read_query kept(std::string_view path, std::string_view query, bool list_method = false) {
  const auto verdict = filter_kv_read_query(path, query, list_method);
  REQUIRE(std::holds_alternative<kv_read_query>(verdict));
  return std::get<kv_read_query>(verdict);
}

bool refused(std::string_view path, std::string_view query) {
  return std::holds_alternative<query_refusal>(filter_kv_read_query(path, query, false));
}

}  // namespace

TEST_CASE("decode_query: pairs decoded as Go's url.ParseQuery reads them", "[proxy]") {
  using pairs = std::vector<std::pair<std::string, std::string>>;
  CHECK(decode_query("") == pairs{});
  CHECK(decode_query("a=1&b") == pairs{{"a", "1"}, {"b", ""}});
  CHECK(decode_query("%6cist=%74rue") == pairs{{"list", "true"}});
  CHECK(decode_query("a+b=c+d%2B") == pairs{{"a b", "c d+"}});
  CHECK(decode_query("&&x=1&") == pairs{{"x", "1"}});
  CHECK(decode_query("x=1;y=2&z=3") == pairs{{"z", "3"}});  // Go >= 1.17 skips ';' pairs
  CHECK(decode_query("k=a=b") == pairs{{"k", "a=b"}});
}

TEST_CASE("filter_kv_read_query: junk parameters are dropped", "[proxy]") {
  CHECK(kept(data_path, "x=1") == kv_read_query{});
  CHECK(kept(data_path, "x=2&cachebuster=abc") == kv_read_query{});
  CHECK(kept("/v1/kv-v1/config", "version=3&x=1") == kv_read_query{});  // no KV v2 verb
  CHECK(kept("/v1/kv-demo/metadata/sample", "version=3") == kv_read_query{});
}

TEST_CASE("filter_kv_read_query: version is kept on KV v2 data and subkeys reads", "[proxy]") {
  CHECK(kept(data_path, "version=2&x=1").query == "version=2");
  CHECK(kept(data_path, "%76ersion=%32").query == "version=2");                // decoded first
  CHECK(kept("/v1/team/kv/data/app/db", "version=12").query == "version=12");  // a deep mount
  CHECK(kept("/v1/kv-demo/subkeys/app", "x=1&version=3&depth=2").query == "depth=2&version=3");
  CHECK(kept("/v1/kv-demo/subkeys/app", "depth=1").query == "depth=1");
  // 0 and empty mean the latest version (no depth limit): the same entry as no parameter.
  CHECK(kept(data_path, "version=0").query.empty());
  CHECK(kept(data_path, "version=").query.empty());
  CHECK(kept("/v1/kv-demo/subkeys/app", "depth=0").query.empty());
  // "data" with no name after it names no secret.
  CHECK(kept("/v1/kv-demo/data", "version=2").query.empty());
  CHECK(kept("/v1/data/x", "version=2").query.empty());  // the mount itself is named "data"
}

TEST_CASE("filter_kv_read_query: a version Vault would refuse is refused", "[proxy]") {
  for (const auto* bad : {"version=abc", "version=-1", "version=+1", "version=01", "version=0x2",
                          "version=1.0", "version=%201", "version=1234567890123456789",
                          "version=1&version=2", "version=1&%76ersion=1"}) {
    INFO(bad);
    CHECK(refused(data_path, bad));
  }
  CHECK(refused("/v1/kv-demo/subkeys/app", "depth=x"));
  CHECK_FALSE(refused(data_path, "version=123456789012345678"));
  CHECK_FALSE(refused("/v1/kv-v1/config", "version=abc"));  // not read there: dropped
}

TEST_CASE("filter_kv_read_query: a listing is decided on the decoded query", "[proxy]") {
  const kv_read_query listing{.list = true, .query = "list=true"};
  for (const auto* truthy :
       {"list=true", "list=1", "list=t", "list=T", "list=TRUE", "list=True", "list=%74rue",
        "%6cist=true", "%6C%69%73%74=%31", "a=b&list=true", "list=true&version=2&x=1"}) {
    INFO(truthy);
    CHECK(kept("/v1/kv-demo/metadata/", truthy) == listing);
  }
  for (const auto* not_a_list : {"list=false", "list=0", "list=F", "list=", "list", "xlist=true",
                                 "list=false&list=true", "lis%74x=true", "list;x=true"}) {
    INFO(not_a_list);
    CHECK_FALSE(kept("/v1/kv-demo/metadata/", not_a_list).list);
  }
  // Vault takes the first value (url.Values.Get).
  CHECK(kept("/v1/kv-demo/metadata/", "list=true&list=false") == listing);
  CHECK(refused("/v1/kv-demo/metadata/", "list=yes"));
  CHECK(refused("/v1/kv-demo/metadata/", "list=%20true"));
}

TEST_CASE("filter_kv_read_query: the LIST method lists whatever the query says", "[proxy]") {
  const kv_read_query listing{.list = true, .query = "list=true"};
  CHECK(kept("/v1/kv-demo/metadata/", "", true) == listing);
  CHECK(kept("/v1/kv-demo/metadata/", "list=false&x=1", true) == listing);
  CHECK(kept("/v1/kv-demo/metadata/", "list=yes", true) == listing);
}
