// The garbled answers of the corrupt fault, as bytes (no sockets): each mode keeps the status
// line and headers of the real answer and breaks exactly one thing.

#include <sidecar/testing/corruption.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;
using namespace sidecar::testing;

namespace {

string_response health_answer() {
  string_response answer{http::status::ok, 11};
  answer.set(http::field::content_type, "application/json");
  answer.set(http::field::cache_control, "no-store");
  answer.body() = "{\"initialized\":true,\"sealed\":false}\n";  // 36 bytes
  answer.prepare_payload();
  return answer;
}

constexpr std::string_view head_11 =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n";

}  // namespace

TEST_CASE("corruption: every control API name parses and names itself back", "[vault_double]") {
  for (const auto* text :
       {"malformed-json", "truncated-body", "short-content-length", "long-content-length",
        "http10-no-length", "huge-content-length", "reset-mid-body"}) {
    const auto mode = parse_corruption(text);
    REQUIRE(mode.has_value());
    CHECK(name(*mode) == text);
  }
  CHECK_FALSE(parse_corruption("").has_value());
  CHECK_FALSE(parse_corruption("malformed_json").has_value());
}

TEST_CASE("corruption: malformed-json is a complete answer with cut-off JSON", "[vault_double]") {
  const auto out = corrupt(health_answer(), corruption::malformed_json);
  const std::string body = R"({"request_id":"corrupt","data":{"data":{"x":)";
  CHECK(out.bytes == std::string{head_11} + "Content-Length: " + std::to_string(body.size()) +
                         "\r\n\r\n" + body);
  CHECK(out.then == after_corruption::keep_open);
}

TEST_CASE("corruption: truncated-body and reset-mid-body send half the announced body",
          "[vault_double]") {
  const auto expected =
      std::string{head_11} + "Content-Length: 36\r\n\r\n" + R"({"initialized":tru)";
  const auto truncated = corrupt(health_answer(), corruption::truncated_body);
  CHECK(truncated.bytes == expected);
  CHECK(truncated.then == after_corruption::close);
  const auto reset = corrupt(health_answer(), corruption::reset_mid_body);
  CHECK(reset.bytes == expected);
  CHECK(reset.then == after_corruption::reset);
}

TEST_CASE("corruption: wrong Content-Length values around the whole body", "[vault_double]") {
  const std::string body = "{\"initialized\":true,\"sealed\":false}\n";
  const auto shorter = corrupt(health_answer(), corruption::short_content_length);
  CHECK(shorter.bytes == std::string{head_11} + "Content-Length: 18\r\n\r\n" + body);
  CHECK(shorter.then == after_corruption::keep_open);
  const auto longer = corrupt(health_answer(), corruption::long_content_length);
  CHECK(longer.bytes == std::string{head_11} + "Content-Length: 136\r\n\r\n" + body);
  CHECK(longer.then == after_corruption::keep_open);
  const auto huge = corrupt(health_answer(), corruption::huge_content_length);
  CHECK(huge.bytes == std::string{head_11} + "Content-Length: 2147483648\r\n\r\n" + body);
  CHECK(huge.then == after_corruption::keep_open);
}

TEST_CASE("corruption: http10-no-length ends the body by closing", "[vault_double]") {
  const auto out = corrupt(health_answer(), corruption::http10_no_length);
  CHECK(out.bytes ==
        "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
        "Connection: close\r\n\r\n{\"initialized\":true,\"sealed\":false}\n");
  CHECK(out.then == after_corruption::close);
}

TEST_CASE("corruption: the status and reason of an error answer are kept", "[vault_double]") {
  string_response answer{http::status::service_unavailable, 11};
  answer.body() = "{}";
  answer.prepare_payload();
  const auto out = corrupt(answer, corruption::truncated_body);
  CHECK(out.bytes == "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{");
}
