#include <sidecar/supervisor/secret_set.hpp>

#include <sidecar/core/json_depth.hpp>
#include <sidecar/core/secret_string.hpp>
#include <sidecar/core/text.hpp>

namespace sidecar::supervisor {

secret_set::~secret_set() {
  for (auto& [name, data] : maps_) cleanse_json(data);
}

bool secret_set::set(std::string_view name, nlohmann::json data) {
  const auto held = maps_.find(name);
  if (held == maps_.end()) {
    maps_.emplace(std::string{name}, std::move(data));
    return true;
  }
  if (held->second == data) {
    cleanse_json(data);
    return false;
  }
  cleanse_json(held->second);
  held->second = std::move(data);
  return true;
}

const nlohmann::json* secret_set::find(std::string_view name) const {
  const auto held = maps_.find(name);
  return held == maps_.end() ? nullptr : &held->second;
}

void cleanse_json(nlohmann::json& value) noexcept {
  if (value.is_string()) {
    core::cleanse(value.get_ref<std::string&>());
  } else if (value.is_structured()) {
    for (auto& item : value) cleanse_json(item);
  }
}

std::optional<nlohmann::json> secret_map_of(std::string_view body) {
  // The map is compared, dumped and cleansed by recursive walks: refuse what would exhaust the
  // stack (core/json_depth.hpp).
  if (!core::json_depth_within(body)) return std::nullopt;
  auto envelope = nlohmann::json::parse(body, nullptr, false);
  if (!envelope.is_object()) return std::nullopt;
  std::optional<nlohmann::json> map;
  if (const auto data = envelope.find("data"); data != envelope.end() && data->is_object()) {
    const auto inner = data->find("data");
    const auto metadata = data->find("metadata");
    const bool kv2 = inner != data->end() && metadata != data->end() && metadata->is_object();
    map = std::move(kv2 ? *inner : *data);
  }
  cleanse_json(envelope);  // what was not kept, and the moved-from husks
  return map;
}

std::vector<std::string> secret_names_for(
    const std::vector<std::pair<std::string, std::string>>& secrets, std::string_view vault_path) {
  const auto wanted = core::without_api_prefix_or_slash(vault_path);
  std::vector<std::string> names;
  for (const auto& [name, path] : secrets) {
    if (core::without_api_prefix_or_slash(path) == wanted) names.push_back(name);
  }
  return names;
}

}  // namespace sidecar::supervisor
