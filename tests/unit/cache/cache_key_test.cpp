#include <sidecar/cache/cache_key.hpp>

#include <catch2/catch.hpp>

#include <algorithm>

using namespace sidecar::cache;

namespace {

bool contains(const std::vector<std::string>& paths, std::string_view path) {
  return std::find(paths.begin(), paths.end(), path) != paths.end();
}

}  // namespace

TEST_CASE("normalise_key: the same target with or without the api prefix", "[cache]") {
  CHECK(normalise_key("kv/data/x") == "/v1/kv/data/x");
  CHECK(normalise_key("/v1/kv/data/x") == "/v1/kv/data/x");
  CHECK(normalise_key("v1/kv/data/x") == "/v1/kv/data/x");
}

TEST_CASE("normalise_key: query parameters sorted, empty ones removed", "[cache]") {
  CHECK(normalise_key("/v1/kv/data/x?version=1") == "/v1/kv/data/x?version=1");
  CHECK(normalise_key("/v1/kv/data/x?b=2&a=1") == "/v1/kv/data/x?a=1&b=2");
  CHECK(normalise_key("/v1/kv/data/x?&a=1&&") == "/v1/kv/data/x?a=1");
  CHECK(normalise_key("/v1/kv/data/x?") == "/v1/kv/data/x");
  CHECK(normalise_key("/v1/kv/data/x?version=1") != normalise_key("/v1/kv/data/x"));
}

TEST_CASE("is_its_own_key: only targets that normalise to themselves", "[cache]") {
  // Never wrong when it says yes; a query always takes the long way (it may need sorting).
  for (const std::string_view target :
       {"/v1/kv/data/x", "/v1/kv/metadata/", "/v1/v1/x", "/v1//x"}) {
    INFO(target);
    CHECK(is_its_own_key(target));
    CHECK(normalise_key(target) == target);
  }
  for (const std::string_view target : {"/v1/kv/data/x?version=1", "/v1/kv/data/x?", "kv/data/x",
                                        "v1/kv/data/x", "//v1/kv/data/x", "/v2/x", "/v1"}) {
    INFO(target);
    CHECK_FALSE(is_its_own_key(target));
  }
}

TEST_CASE("key_path: without query or trailing slash", "[cache]") {
  CHECK(key_path("/v1/kv/data/x?version=2") == "/v1/kv/data/x");
  CHECK(key_path("/v1/kv/metadata/dir/?list=true") == "/v1/kv/metadata/dir");
  CHECK(key_path("/v1/") == "/v1/");
}

TEST_CASE("affected_paths: a KV v2 write covers data, metadata, subkeys and listings", "[cache]") {
  const auto paths = affected_paths("kv-demo/data/app/x");
  CHECK(contains(paths, "/v1/kv-demo/data/app/x"));
  CHECK(contains(paths, "/v1/kv-demo/metadata/app/x"));
  CHECK(contains(paths, "/v1/kv-demo/subkeys/app/x"));
  CHECK(contains(paths, "/v1/kv-demo/metadata/app"));  // the listing of the folder
  CHECK(contains(paths, "/v1/kv-demo/metadata"));
  CHECK_FALSE(contains(paths, "/v1/kv-demo/data/app/y"));
  CHECK_FALSE(contains(paths, "/v1/kv-demo/metadata/app/xy"));
  CHECK(std::is_sorted(paths.begin(), paths.end()));
}

TEST_CASE("affected_paths: delete and destroy verbs and a mount of two segments", "[cache]") {
  const auto deleted = affected_paths("/v1/kv/delete/x");
  CHECK(contains(deleted, "/v1/kv/data/x"));
  CHECK(contains(deleted, "/v1/kv/metadata/x"));
  const auto nested = affected_paths("team/kv/destroy/x");
  CHECK(contains(nested, "/v1/team/kv/data/x"));
  CHECK(contains(nested, "/v1/team/kv/metadata/x"));
}

TEST_CASE("affected_paths: a KV v1 write covers the path and its folders only", "[cache]") {
  const auto paths = affected_paths("kv1/app/config?ignored=1");
  CHECK(paths == std::vector<std::string>{"/v1/kv1", "/v1/kv1/app", "/v1/kv1/app/config"});
}
