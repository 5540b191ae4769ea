#include "fake_vault_client.hpp"

#include <stdexcept>
#include <tuple>

namespace sidecar::cache::testing {

net::awaitable<result<vault::response>> fake_vault_client::async_send(vault::request req) {
  ++total_;
  ++counts_[req.target];
  last_token_ = req.token != nullptr ? std::string{req.token->reveal()} : std::string{};
  // Copied before the delay, as a real client would have sent the request by then.
  const auto found = scripts_.find(req.target);
  const script current =
      found != scripts_.end() ? found->second : script{404, R"({"errors":[]})", {}, false};
  const auto fail_all = fail_all_;
  if (delay_ > core::duration::zero()) {
    steady_timer timer{co_await net::this_coro::executor, delay_};
    std::ignore = co_await timer.async_wait();
  }
  if (current.throws) throw std::runtime_error{"fake client exploded"};
  if (fail_all) co_return make_error_code(*fail_all);
  if (current.error) co_return make_error_code(*current.error);
  vault::response out;
  out.status = current.status;
  out.content_type = "application/json";
  out.body = core::secret_string{current.body};
  co_return out;
}

void fake_vault_client::answer(const std::string& target, unsigned status, std::string body) {
  scripts_[target] = script{status, std::move(body), std::nullopt, false};
}

void fake_vault_client::fail(const std::string& target, vault::errc error) {
  scripts_[target] = script{0, {}, error, false};
}

int fake_vault_client::requests(const std::string& target) const {
  const auto it = counts_.find(target);
  return it == counts_.end() ? 0 : it->second;
}

std::string kv2_body(const std::string& data_json, int version) {
  return R"({"request_id":"r-)" + std::to_string(version) +
         R"(","lease_id":"","renewable":false,"lease_duration":0,"data":{"data":)" + data_json +
         R"(,"metadata":{"created_time":"2026-01-01T00:00:00Z","custom_metadata":null,)"
         R"("deletion_time":"","destroyed":false,"version":)" +
         std::to_string(version) + R"(}},"wrap_info":null,"warnings":null,"auth":null})";
}

std::string kv1_body(const std::string& data_json) {
  return R"({"request_id":"r","lease_id":"","renewable":false,"lease_duration":3600,"data":)" +
         data_json + R"(,"wrap_info":null,"warnings":null,"auth":null})";
}

}  // namespace sidecar::cache::testing
