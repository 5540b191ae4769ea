#include <sidecar/proxy/token_self.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sidecar::proxy {
namespace {

constexpr std::string_view token_prefix = "/v1/auth/token/";

// RFC 3339 in UTC, as Vault prints issue_time.
std::string rfc3339(core::wall_time at) {
  const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(at);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", seconds);
}

nlohmann::json envelope(std::string_view request_id) {
  return {{"request_id", request_id}, {"lease_id", ""},  {"renewable", false},
          {"lease_duration", 0},      {"data", nullptr}, {"wrap_info", nullptr},
          {"warnings", nullptr},      {"auth", nullptr}, {"mount_type", "token"}};
}

// The token is the caller's bytes: invalid UTF-8 is replaced rather than thrown on.
std::string dump(const nlohmann::json& body) {
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::optional<token_self_call> token_self_call_of(std::string_view path) noexcept {
  if (!path.starts_with(token_prefix)) return std::nullopt;
  const auto name = path.substr(token_prefix.size());
  if (name == "lookup-self") return token_self_call::lookup;
  if (name == "renew-self") return token_self_call::renew;
  if (name == "revoke-self") return token_self_call::revoke;
  return std::nullopt;
}

std::string_view token_self_methods(token_self_call call) noexcept {
  return call == token_self_call::lookup ? "GET, POST, PUT" : "POST, PUT";
}

token_self_answer answer_token_self(token_self_call call, std::string_view caller_token,
                                    std::string_view request_id, core::wall_time issued) {
  const auto caller = nlohmann::json(std::string{caller_token});
  auto body = envelope(request_id);
  switch (call) {
    case token_self_call::revoke:
      return {.status = 204, .body = {}};
    case token_self_call::lookup:
      body["data"] = {
          {"accessor", ""},
          {"creation_time",
           std::chrono::duration_cast<std::chrono::seconds>(issued.time_since_epoch()).count()},
          {"creation_ttl", 0},
          {"display_name", "vault-sidecar-caller"},
          {"entity_id", ""},
          {"expire_time", nullptr},
          {"explicit_max_ttl", 0},
          {"id", caller},
          {"issue_time", rfc3339(issued)},
          {"meta", nullptr},
          {"num_uses", 0},
          {"orphan", true},
          {"path", ""},
          {"policies", nlohmann::json::array()},
          {"renewable", false},
          {"ttl", 0},
          {"type", "service"},
      };
      break;
    case token_self_call::renew:
      body["auth"] = {
          {"client_token", caller},
          {"accessor", ""},
          {"policies", nlohmann::json::array()},
          {"token_policies", nlohmann::json::array()},
          {"metadata", nullptr},
          {"lease_duration", 0},
          {"renewable", false},
          {"entity_id", ""},
          {"token_type", "service"},
          {"orphan", true},
          {"mfa_requirement", nullptr},
          {"num_uses", 0},
      };
      break;
  }
  return {.status = 200, .body = dump(body)};
}

}  // namespace sidecar::proxy
