#include <sidecar/cache/stored_answer.hpp>
#include <sidecar/proxy/ready_answer.hpp>

#include <boost/beast/http/write.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace sidecar;
using headers = std::vector<std::pair<std::string, std::string>>;

namespace {

const core::time_point t0 = core::time_point{} + std::chrono::hours{1000};

std::shared_ptr<const cache::stored_answer> stored(std::string content_type, headers relayed,
                                                   std::string body) {
  vault::response answer;
  answer.status = 200;
  answer.content_type = std::move(content_type);
  answer.headers = std::move(relayed);
  answer.body = core::secret_string{std::move(body)};
  return std::make_shared<const cache::stored_answer>(std::move(answer), t0);
}

// The answer as the Beast path builds it: forwarding_handler's relay() and extra headers, then
// the session's version, keep-alive and Content-Length.
std::string through_beast(const cache::stored_answer& answer, std::string_view x_cache,
                          std::string_view age, unsigned version, bool keep_alive, bool head) {
  string_response response{static_cast<http::status>(answer.status()), 11};
  if (!answer.content_type().empty()) {
    response.set(http::field::content_type, answer.content_type());
  }
  response.body().assign(answer.body());
  for (const auto& [name, value] : answer.headers()) response.set(name, value);
  response.set("X-Cache", x_cache);
  response.set(http::field::age, age);
  response.version(version);
  response.keep_alive(keep_alive);
  response.set(http::field::cache_control, "no-store");  // as the session sets it
  response.prepare_payload();
  std::ostringstream out;
  if (head) {
    out << response.base();
  } else {
    out << response;
  }
  return out.str();
}

std::string through_ready(const std::shared_ptr<const cache::stored_answer>& answer,
                          std::string_view x_cache, std::string_view age, unsigned version,
                          bool keep_alive, bool head) {
  proxy::ready_answer ready{answer->status(), answer, answer->header_lines(), answer->body()};
  ready.add_field("X-Cache", x_cache);
  ready.add_field("Age", age);
  std::string out;
  ready.serialise_head(out, version, keep_alive);
  if (!head) out += ready.body();
  return out;
}

}  // namespace

TEST_CASE("ready_answer: writes exactly the bytes Beast writes for the same answer", "[proxy]") {
  const std::vector<headers> relayed_sets{
      {},
      {{"Warning", "199 - test"}},
      {{"Warning", "199 - first"}, {"Retry-After", "3"}, {"warning", "199 - second"}},
      {{"X-Ratelimit-Limit", "100"}, {"X-Ratelimit-Remaining", "99"}, {"X-Ratelimit-Reset", "1"}},
      {{"Location", "  /v1/elsewhere "}},
  };
  const std::string body = R"({"data":{"data":{"password":"hunter2"},"metadata":{}}})";
  for (const auto& relayed : relayed_sets) {
    for (const std::string content_type : {"application/json", ""}) {
      const auto answer = stored(content_type, relayed, body);
      for (const unsigned version : {10U, 11U}) {
        for (const bool keep_alive : {true, false}) {
          for (const bool head : {false, true}) {
            for (const std::string_view age : {"0", "86400"}) {
              INFO("headers " << relayed.size() << ", content type '" << content_type
                              << "', version " << version << ", keep-alive " << keep_alive
                              << ", head " << head << ", age " << age);
              CHECK(through_ready(answer, "HIT", age, version, keep_alive, head) ==
                    through_beast(*answer, "HIT", age, version, keep_alive, head));
            }
          }
        }
      }
    }
  }
}

TEST_CASE("ready_answer: an empty body still says Content-Length 0", "[proxy]") {
  const auto answer = stored("application/json", {}, "");
  CHECK(through_ready(answer, "MISS", "0", 11, true, false) ==
        through_beast(*answer, "MISS", "0", 11, true, false));
}

TEST_CASE("ready_answer: per-request lines beyond the inline space are refused", "[proxy]") {
  proxy::ready_answer ready{200, nullptr, "", "x"};
  ready.add_field("X-Cache", "HIT");
  CHECK_THROWS_AS(ready.add_field("X-Long", std::string(200, 'v')), std::length_error);
}

TEST_CASE("ready_answer: the owner keeps the bytes alive after the cache let go", "[proxy]") {
  auto answer = stored("application/json", {}, "secret-bytes");
  proxy::ready_answer ready{200, answer, answer->header_lines(), answer->body()};
  const std::weak_ptr<const cache::stored_answer> watch = answer;
  answer.reset();
  CHECK_FALSE(watch.expired());
  CHECK(ready.body() == "secret-bytes");
}
