#include "fake_vault_client.hpp"

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace sidecar::auth::testing {

fake_vault_client::fake_vault_client(script answers) : answers_{std::move(answers)} {}

net::awaitable<result<vault::response>> fake_vault_client::async_send(vault::request req) {
  recorded_request seen{.method = req.method,
                        .target = req.target,
                        .body = std::string{req.body.reveal()},
                        .has_token = req.token != nullptr,
                        .token = req.token ? std::string{req.token->reveal()} : std::string{},
                        .at = std::chrono::steady_clock::now()};
  const auto earlier = static_cast<std::size_t>(
      std::count_if(requests_.begin(), requests_.end(),
                    [&](const recorded_request& r) { return r.target == seen.target; }));
  requests_.push_back(seen);
  // Answer after a real suspension, as a client doing I/O does: a coroutine that completes
  // without ever suspending behaves differently in Asio (co_spawn posts its completion then).
  const auto executor = co_await net::this_coro::executor;
  co_await net::post(executor, net::use_awaitable);
  co_return answers_(seen, earlier);
}

std::vector<recorded_request> fake_vault_client::requests_to(std::string_view target) const {
  std::vector<recorded_request> out;
  std::copy_if(requests_.begin(), requests_.end(), std::back_inserter(out),
               [&](const recorded_request& r) { return r.target == target; });
  return out;
}

vault::response json_answer(unsigned status, std::string body) {
  return {.status = status,
          .content_type = "application/json",
          .body = core::secret_string{std::move(body)},
          .headers = {}};
}

vault::response login_answer(std::string_view token, std::string_view accessor,
                             long long ttl_seconds, bool renewable) {
  const nlohmann::json body{{"request_id", "4f1e"},
                            {"lease_id", ""},
                            {"renewable", false},
                            {"lease_duration", 0},
                            {"data", nullptr},
                            {"wrap_info", nullptr},
                            {"warnings", nullptr},
                            {"auth",
                             {{"client_token", token},
                              {"accessor", accessor},
                              {"policies", {"default", "app"}},
                              {"token_policies", {"default", "app"}},
                              {"metadata", {{"role_name", "app"}}},
                              {"lease_duration", ttl_seconds},
                              {"renewable", renewable},
                              {"entity_id", "e-1"},
                              {"token_type", "service"},
                              {"orphan", true},
                              {"num_uses", 0}}}};
  return json_answer(200, body.dump());
}

vault::response renew_answer(std::string_view token, long long ttl_seconds, bool renewable,
                             const std::vector<std::string>& warnings) {
  nlohmann::json body{{"request_id", "9a2c"},
                      {"lease_id", ""},
                      {"renewable", false},
                      {"lease_duration", 0},
                      {"data", nullptr},
                      {"wrap_info", nullptr},
                      {"warnings", nullptr},
                      {"auth",
                       {{"client_token", token},
                        {"accessor", ""},
                        {"policies", {"default", "app"}},
                        {"lease_duration", ttl_seconds},
                        {"renewable", renewable},
                        {"token_type", "service"}}}};
  if (!warnings.empty()) body["warnings"] = warnings;
  return json_answer(200, body.dump());
}

vault::response error_answer(unsigned status, std::string_view message) {
  return json_answer(status, nlohmann::json{{"errors", {message}}}.dump());
}

}  // namespace sidecar::auth::testing
