#include "fake_vault_client.hpp"

#include <algorithm>

namespace sidecar::lease::test {
namespace {

vault::response json_answer(unsigned status, const nlohmann::json& body) {
  return {.status = status,
          .content_type = "application/json",
          .body = core::secret_string{body.dump()},
          .headers = {}};
}

vault::response error_answer(unsigned status, const std::string& message) {
  return json_answer(status, {{"errors", {message}}});
}

}  // namespace

fake_vault_client::fake_vault_client(net::any_io_executor executor, core::clock& clock)
    : executor_{std::move(executor)}, clock_{clock} {}

void fake_vault_client::add_role(std::string path, long long ttl, long long max_ttl,
                                 bool renewable) {
  roles_[std::move(path)] =
      role{.ttl = ttl, .max_ttl = max_ttl, .renewable = renewable, .minted = 0};
}

void fake_vault_client::push_fault(std::string target, fault how) {
  scripted_[std::move(target)].push_back(std::move(how));
}

void fake_vault_client::hold_fault(std::optional<fault> how) { held_ = std::move(how); }

std::size_t fake_vault_client::count(http::verb method, std::string_view target) const {
  return static_cast<std::size_t>(std::count_if(
      requests_.begin(), requests_.end(),
      [&](const recorded_request& r) { return r.method == method && r.target == target; }));
}

net::awaitable<result<vault::response>> fake_vault_client::async_send(vault::request req) {
  auto body = req.body.empty() ? nlohmann::json{}
                               : nlohmann::json::parse(req.body.reveal(), nullptr, false);
  requests_.push_back({.method = req.method,
                       .target = req.target,
                       .body = body,
                       .had_token = req.token != nullptr,
                       .at = clock_.now()});
  if (delay_ > core::duration::zero()) {
    steady_timer timer{executor_};
    timer.expires_after(delay_);
    const auto [ec] = co_await timer.async_wait();
    if (ec) co_return ec;
  }
  co_return answer(req, body);
}

result<vault::response> fake_vault_client::answer(const vault::request& req,
                                                  const nlohmann::json& body) {
  if (const auto it = scripted_.find(req.target); it != scripted_.end() && !it->second.empty()) {
    const auto how = std::move(it->second.front());
    it->second.pop_front();
    if (how.transport) return vault::make_error_code(*how.transport);
    return json_answer(how.status, nlohmann::json::parse(how.body));
  }
  if (req.token == nullptr) return error_answer(403, "permission denied");
  if (req.target == "/v1/sys/leases/renew" && req.method == http::verb::put) return renew(body);
  if (req.target == "/v1/sys/leases/revoke" && req.method == http::verb::put) {
    const auto id = body.value("lease_id", std::string{});
    revoked_.push_back(id);
    leases_.erase(id);
    return vault::response{.status = 204, .content_type = {}, .body = {}, .headers = {}};
  }
  const std::string_view prefix = "/v1/";
  const auto path = req.target.substr(prefix.size());
  const auto spec = roles_.find(path);
  if (req.method != http::verb::get || spec == roles_.end()) {
    return error_answer(400, "unknown role: " + path);
  }
  if (held_) {
    if (held_->transport) return vault::make_error_code(*held_->transport);
    return json_answer(held_->status, nlohmann::json::parse(held_->body));
  }
  return mint(path, spec->second);
}

vault::response fake_vault_client::mint(const std::string& path, role& spec) {
  const int n = ++spec.minted;
  const auto lease_id = path + "/" + std::to_string(n);
  leases_[lease_id] = lease{.role_path = path, .issued = clock_.now()};
  // The full envelope, in Vault's field order (sdk/logical/translate_response.go).
  nlohmann::ordered_json body;
  body["request_id"] = "req-" + std::to_string(n);
  body["lease_id"] = lease_id;
  body["renewable"] = spec.renewable;
  body["lease_duration"] = spec.ttl;
  body["data"] = {{"username", "v-" + std::to_string(n)}, {"password", "pw-" + std::to_string(n)}};
  body["wrap_info"] = nullptr;
  body["warnings"] = nullptr;
  body["auth"] = nullptr;
  body["mount_type"] = "database";
  return {.status = 200,
          .content_type = "application/json",
          .body = core::secret_string{body.dump()},
          .headers = {}};
}

vault::response fake_vault_client::renew(const nlohmann::json& body) {
  const auto id = body.value("lease_id", std::string{});
  const auto increment = body.value("increment", 0LL);
  const auto found = leases_.find(id);
  if (found == leases_.end()) return error_answer(400, "lease not found");
  const auto& spec = roles_.at(found->second.role_path);
  if (!spec.renewable) return error_answer(400, "lease is not renewable");
  const auto left_to_max =
      std::chrono::duration_cast<std::chrono::seconds>(
          found->second.issued + std::chrono::seconds{spec.max_ttl} - clock_.now())
          .count();
  if (left_to_max <= 0) return error_answer(400, "past the max TTL, cannot renew");
  const auto granted = std::min(increment, static_cast<long long>(left_to_max));
  nlohmann::json answer = {{"request_id", "renew"},     {"lease_id", id},  {"renewable", true},
                           {"lease_duration", granted}, {"data", nullptr}, {"warnings", nullptr}};
  if (granted < increment) {
    answer["warnings"] = {"TTL of \"" + std::to_string(increment) +
                          "s\" exceeded the effective max_ttl of \"" + std::to_string(left_to_max) +
                          "s\"; TTL value is capped accordingly"};
  }
  return json_answer(200, answer);
}

}  // namespace sidecar::lease::test
