#include <sidecar/proxy/mount_preflight.hpp>
#include <sidecar/proxy/router.hpp>

#include <algorithm>

namespace sidecar::proxy {

std::optional<std::string> preflight_secret_path(std::string_view path) {
  if (!path.starts_with(mount_preflight_prefix)) return std::nullopt;
  auto rest = path.substr(mount_preflight_prefix.size());
  if (rest.empty()) return std::string{};
  if (rest.front() != '/') return std::nullopt;  // "/v1/sys/internal/ui/mountsX"
  rest.remove_prefix(1);
  if (rest.empty()) return std::string{};
  return "/v1/" + std::string{rest};
}

bool preflight_allowed(std::string_view secret_path, const std::vector<std::string>& patterns) {
  if (secret_path.size() <= 4 || !secret_path.starts_with("/v1/")) return false;
  // Token endpoints stay closed whatever the allow list says (router.hpp), their mount too.
  if (secret_path.starts_with("/v1/auth/") || secret_path == "/v1/auth") return false;
  std::string folder{secret_path};
  if (folder.back() != '/') folder += '/';
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
    return path_matches(secret_path, pattern) || path_matches(folder, pattern) ||
           pattern.starts_with(folder);
  });
}

}  // namespace sidecar::proxy
