#include <sidecar/cache/cache_key.hpp>

#include <sidecar/core/text.hpp>

#include <algorithm>
#include <array>

namespace sidecar::cache {
namespace {

using core::api_prefix;

// Path segments after a KV v2 mount that address one secret by name.
constexpr std::array<std::string_view, 6> kv2_verbs = {"data",   "metadata", "subkeys",
                                                       "delete", "undelete", "destroy"};

std::string_view strip_api_prefix(std::string_view path) noexcept {
  while (path.starts_with('/')) path.remove_prefix(1);
  if (path.starts_with("v1/")) path.remove_prefix(3);
  return path;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    const auto at = text.find(separator);
    const auto part = text.substr(0, at);
    if (!part.empty()) parts.push_back(part);
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  return parts;
}

std::string join(const std::vector<std::string_view>& segments, std::size_t from, std::size_t to) {
  std::string out{api_prefix};
  for (std::size_t i = from; i < to; ++i) {
    if (i != from) out += '/';
    out += segments[i];
  }
  return out;
}

}  // namespace

bool is_its_own_key(std::string_view target) noexcept {
  return target.starts_with(api_prefix) && target.find('?') == std::string_view::npos;
}

std::string normalise_key(std::string_view target) {
  const auto query_at = target.find('?');
  std::string key{api_prefix};
  key += strip_api_prefix(target.substr(0, query_at));
  if (query_at == std::string_view::npos) return key;

  auto parameters = split(target.substr(query_at + 1), '&');
  if (parameters.empty()) return key;
  std::sort(parameters.begin(), parameters.end());
  key += '?';
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    if (i != 0) key += '&';
    key += parameters[i];
  }
  return key;
}

std::string_view key_path(std::string_view key) noexcept {
  key = key.substr(0, key.find('?'));
  while (key.size() > api_prefix.size() && key.ends_with('/')) key.remove_suffix(1);
  return key;
}

std::vector<std::string> affected_paths(std::string_view secret_path) {
  const auto normalised = normalise_key(secret_path.substr(0, secret_path.find('?')));
  const auto segments = split(strip_api_prefix(normalised), '/');
  if (segments.empty()) return {};

  std::vector<std::vector<std::string_view>> targets{segments};
  // The mount may span several segments, so every verb position after the first is a candidate.
  for (std::size_t at = 1; at + 1 < segments.size(); ++at) {
    if (std::find(kv2_verbs.begin(), kv2_verbs.end(), segments[at]) == kv2_verbs.end()) continue;
    for (const std::string_view view : {"data", "metadata", "subkeys"}) {
      auto sibling = segments;
      sibling[at] = view;
      targets.push_back(std::move(sibling));
    }
  }

  std::vector<std::string> paths;
  for (const auto& target : targets) {
    for (std::size_t length = target.size(); length >= 1; --length) {
      paths.push_back(join(target, 0, length));
    }
  }
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  return paths;
}

}  // namespace sidecar::cache
