#include <sidecar/core/json_depth.hpp>

#include <catch2/catch.hpp>

#include <string>

using sidecar::core::json_depth_within;

namespace {

std::string nested(std::size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

}  // namespace

TEST_CASE("json_depth_within: counts arrays and objects up to the limit", "[core]") {
  CHECK(json_depth_within("", 0));
  CHECK(json_depth_within("42", 0));
  CHECK_FALSE(json_depth_within("[]", 0));
  CHECK(json_depth_within(nested(3), 3));
  CHECK_FALSE(json_depth_within(nested(4), 3));
  CHECK(json_depth_within(R"({"a":{"b":[1,{"c":2}]},"d":[]})", 4));
  CHECK_FALSE(json_depth_within(R"({"a":{"b":[1,{"c":2}]},"d":[]})", 3));
  // Siblings do not add up: depth returns as each closes.
  CHECK(json_depth_within("[[],[],[[]],{}]", 3));
}

TEST_CASE("json_depth_within: brackets inside strings do not count", "[core]") {
  CHECK(json_depth_within(R"({"password":"[[[[{{{{"})", 1));
  CHECK(json_depth_within(R"({"p":"a\"[[[["})", 1));
  CHECK(json_depth_within(R"({"p":"a\\"})", 1));
  CHECK_FALSE(json_depth_within(R"({"p":"a\\",[[]]})", 2));
}

// Found by tests/fuzz/vault_response_fuzzer: a 100 KB answer of nested arrays overflowed the
// stack in the recursive walks over the parsed value.
TEST_CASE("json_depth_within: the default limit refuses a hostile nesting", "[core]") {
  CHECK(json_depth_within(nested(sidecar::core::max_json_depth)));
  CHECK_FALSE(json_depth_within(nested(sidecar::core::max_json_depth + 1)));
  CHECK_FALSE(json_depth_within("{\"data\":" + nested(50000, '[', ']') + "}"));
}
