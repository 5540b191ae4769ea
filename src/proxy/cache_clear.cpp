#include <sidecar/proxy/cache_clear.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <utility>

namespace sidecar::proxy {

namespace {

using kind = cache_clear_request::kind;

constexpr std::array<std::pair<std::string_view, kind>, 5> type_names{{
    {"all", kind::all},
    {"request_path", kind::request_path},
    {"lease", kind::lease},
    {"token", kind::token},
    {"token_accessor", kind::token_accessor},
}};

}  // namespace

std::string_view to_string(cache_clear_request::kind type) noexcept {
  for (const auto& [name, value] : type_names) {
    if (value == type) return name;
  }
  return "unknown";
}

std::variant<cache_clear_request, cache_clear_error> parse_cache_clear(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return cache_clear_error{"failed to parse JSON input: empty JSON provided"};
  }
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object()) return cache_clear_error{"failed to parse JSON input: invalid JSON"};

  const auto type = json.find("type");
  if (type == json.end() || !type->is_string()) {
    return cache_clear_error{"type of cache entry not provided"};
  }
  const auto& type_name = type->get_ref<const std::string&>();
  for (const auto& [name, value] : type_names) {
    if (type_name != name) continue;
    cache_clear_request out{.type = value, .value = {}};
    if (const auto v = json.find("value"); v != json.end() && v->is_string()) {
      out.value = v->get<std::string>();
    }
    if (value != kind::all && out.value.empty()) {
      return cache_clear_error{"value of cache entry not provided for type " + type_name};
    }
    return out;
  }
  return cache_clear_error{"invalid type provided: " + type_name};
}

}  // namespace sidecar::proxy
