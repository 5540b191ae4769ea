#include <sidecar/auth/login_request.hpp>

#include <fmt/format.h>

#include <stdexcept>
#include <string_view>

namespace sidecar::auth {
namespace {

void append_json_string(std::string& out, std::string_view value) {
  out += '"';
  for (const char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  out += '"';
}

// {"<k1>":"<v1>","<k2>":"<v2>"}; keys are literals, values escaped. 6 bytes per input byte is
// the worst case (\u00XX), so the buffer never reallocates and leaves no copy behind.
core::secret_string json_pair(std::string_view k1, std::string_view v1, std::string_view k2,
                              std::string_view v2) {
  std::string body;
  body.reserve(6 * (v1.size() + v2.size()) + k1.size() + k2.size() + 16);
  body += "{\"";
  body += k1;
  body += "\":";
  append_json_string(body, v1);
  body += ",\"";
  body += k2;
  body += "\":";
  append_json_string(body, v2);
  body += '}';
  return core::secret_string{std::move(body)};
}

}  // namespace

login_request make_login_request(const config::auth_config& config, const credentials& login) {
  login_request out{.target = "/v1/auth/" + config.mount + "/login", .body = {}};
  switch (config.kind) {
    case config::auth_method::approle:
      out.body =
          json_pair("role_id", login.role_id.reveal(), "secret_id", login.secret_id.reveal());
      break;
    case config::auth_method::kubernetes:
    case config::auth_method::jwt:
      out.body = json_pair("role", config.role, "jwt", login.jwt.reveal());
      break;
    case config::auth_method::cert: {
      std::string body = "{}";
      if (!config.role.empty()) {
        body = "{\"name\":";
        append_json_string(body, config.role);
        body += '}';
      }
      out.body = core::secret_string{std::move(body)};
      break;
    }
    case config::auth_method::token_file:
      throw std::logic_error{"make_login_request: method token_file has no login"};
  }
  return out;
}

core::secret_string wrapping_lookup_body(const core::secret_string& wrapping_token) {
  std::string body;
  body.reserve(6 * wrapping_token.size() + 16);
  body += "{\"token\":";
  append_json_string(body, wrapping_token.reveal());
  body += '}';
  return core::secret_string{std::move(body)};
}

const char* method_title(config::auth_method method) noexcept {
  switch (method) {
    case config::auth_method::approle:
      return "AppRole";
    case config::auth_method::kubernetes:
      return "Kubernetes";
    case config::auth_method::jwt:
      return "JWT";
    case config::auth_method::cert:
      return "TLS certificate";
    case config::auth_method::token_file:
      return "token file";
  }
  return "unknown";
}

}  // namespace sidecar::auth
