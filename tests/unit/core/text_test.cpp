#include <sidecar/core/text.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace sidecar::core;

TEST_CASE("trim_blanks: spaces and tabs only, a newline stays", "[core]") {
  CHECK(trim_blanks(" \t value \t") == "value");
  CHECK(trim_blanks("a b") == "a b");
  CHECK(trim_blanks(" \t ").empty());
  CHECK(trim_blanks("").empty());
  CHECK(trim_blanks("value\n") == "value\n");
  CHECK(trim_blanks("\r value") == "\r value");
}

TEST_CASE("trim_whitespace: every std::isspace character", "[core]") {
  CHECK(trim_whitespace(" \t\r\n\v\fsecret-id\r\n") == "secret-id");
  CHECK(trim_whitespace("db . user") == "db . user");
  CHECK(trim_whitespace("\n\n").empty());
  CHECK(trim_whitespace("").empty());
}

TEST_CASE("quoted: the text between double quotes, as it is", "[core]") {
  CHECK(quoted("1x") == "\"1x\"");
  CHECK(quoted("") == "\"\"");
  CHECK(quoted(" a ") == "\" a \"");
}

TEST_CASE("without_api_prefix: only a leading /v1/ goes", "[core]") {
  CHECK(without_api_prefix("/v1/kv/data/x") == "kv/data/x");
  CHECK(without_api_prefix("/v1/") == "");
  CHECK(without_api_prefix("kv/data/x") == "kv/data/x");
  CHECK(without_api_prefix("/kv/data/x") == "/kv/data/x");
  CHECK(without_api_prefix("/v1") == "/v1");
  CHECK(without_api_prefix("/v2/kv") == "/v2/kv");
}

TEST_CASE("without_api_prefix_or_slash: /v1/ or else one leading slash goes", "[core]") {
  CHECK(without_api_prefix_or_slash("/v1/database/creds/app") == "database/creds/app");
  CHECK(without_api_prefix_or_slash("/database/creds/app") == "database/creds/app");
  CHECK(without_api_prefix_or_slash("database/creds/app") == "database/creds/app");
  CHECK(without_api_prefix_or_slash("//kv") == "/kv");
  CHECK(without_api_prefix_or_slash("/v1/") == "");
}

TEST_CASE("exception_text: what() of a std::exception, a fixed text for anything else", "[core]") {
  CHECK(exception_text(std::make_exception_ptr(std::runtime_error{"pool closed"})) ==
        "pool closed");
  CHECK(exception_text(std::make_exception_ptr(42)) == "unknown exception");
}
