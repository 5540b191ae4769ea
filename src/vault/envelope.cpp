#include <sidecar/vault/envelope.hpp>

#include <sidecar/core/json_depth.hpp>

#include <algorithm>

namespace sidecar::vault {
namespace {

bool mentions(const std::vector<std::string>& messages, std::string_view needle) {
  return std::any_of(messages.begin(), messages.end(), [needle](const std::string& m) {
    return m.find(needle) != std::string::npos;
  });
}

// Reads a field only when it has the expected JSON type: Vault sends null for absent objects,
// and a double or proxy in between may omit fields entirely.
template <class T>
T field_or(const nlohmann::json& object, const char* key, T fallback) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if constexpr (std::is_same_v<T, bool>) {
    return it->is_boolean() ? it->get<bool>() : fallback;
  } else {
    return it->is_string() ? it->get<T>() : fallback;
  }
}

// Absent or null is "no lease" (0). Anything else that is no lease duration is refused rather
// than converted: 1e300 into a long long is undefined, a negative or century-long TTL would
// corrupt every schedule built on it, and a string read as 0 would make a token look like one
// that never expires, so it would never be renewed.
std::optional<long long> lease_duration_field(const nlohmann::json& object) {
  const auto it = object.find("lease_duration");
  if (it == object.end() || it->is_null()) return 0;
  return lease_duration_value(*it);
}

std::vector<std::string> string_list(const nlohmann::json& object, const char* key) {
  std::vector<std::string> out;
  const auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return out;
  for (const auto& item : *it) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace

std::string vault_error::summary() const {
  std::string text = std::to_string(status);
  text += ":";
  for (const auto& message : messages) {
    text += ' ';
    for (const char c : message) {
      if (c == '\n' || c == '\t') {
        if (!text.empty() && text.back() != ' ') text += ' ';
      } else {
        text += c;
      }
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
  }
  return text;
}

errc classify(unsigned status, const std::vector<std::string>& messages) noexcept {
  if (status == 400) return errc::bad_request;
  if (status == 403) {
    return mentions(messages, "invalid token") ? errc::invalid_token : errc::permission_denied;
  }
  if (status == 404) return errc::not_found;
  if (status == 429) return errc::rate_limited;
  if (status == 503 && mentions(messages, "Vault is sealed")) return errc::sealed;
  if (status >= 500 && status <= 599) return errc::server_error;
  return errc::unexpected_status;
}

bool says_invalid_token(unsigned status, std::string_view body) noexcept {
  return status == 403 && body.find("invalid token") != std::string_view::npos;
}

vault_error parse_error(const response& answer) {
  vault_error error{.status = answer.status, .messages = {}};
  if (!core::json_depth_within(answer.body.reveal())) return error;
  const auto body = nlohmann::json::parse(answer.body.reveal(), nullptr, false);
  if (body.is_object()) error.messages = string_list(body, "errors");
  return error;
}

result<envelope> parse_envelope(const response& answer) {
  if (answer.status < 200 || answer.status > 299) {
    return make_error_code(classify(answer.status, parse_error(answer).messages));
  }
  envelope out;
  if (answer.status == 204 || answer.body.empty()) return out;
  if (!core::json_depth_within(answer.body.reveal())) {
    return make_error_code(errc::malformed_response);
  }
  auto body = nlohmann::json::parse(answer.body.reveal(), nullptr, false);
  if (!body.is_object()) return make_error_code(errc::malformed_response);

  out.request_id = field_or<std::string>(body, "request_id", "");
  out.lease_id = field_or<std::string>(body, "lease_id", "");
  out.renewable = field_or(body, "renewable", false);
  const auto lease_duration = lease_duration_field(body);
  if (!lease_duration) return make_error_code(errc::malformed_response);
  out.lease_duration = *lease_duration;
  out.warnings = string_list(body, "warnings");
  if (auto data = body.find("data"); data != body.end()) out.data = std::move(*data);

  if (const auto auth = body.find("auth"); auth != body.end() && auth->is_object()) {
    auth_info info;
    info.client_token = core::secret_string{field_or<std::string>(*auth, "client_token", "")};
    info.accessor = core::secret_string{field_or<std::string>(*auth, "accessor", "")};
    const auto ttl = lease_duration_field(*auth);
    if (!ttl) return make_error_code(errc::malformed_response);
    info.lease_duration = *ttl;
    info.renewable = field_or(*auth, "renewable", false);
    info.policies = string_list(*auth, "policies");
    info.token_type = field_or<std::string>(*auth, "token_type", "service");
    if (info.client_token.empty()) return make_error_code(errc::malformed_response);
    out.auth = std::move(info);
  }
  return out;
}

}  // namespace sidecar::vault
