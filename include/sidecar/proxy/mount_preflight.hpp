#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::proxy {

/// The Vault CLI's KV preflight (`kvPreflightVersionRequest` in command/kv_helpers.go, copied by
/// many tools): before `vault kv get|list|put|metadata ...` it reads
/// GET /v1/sys/internal/ui/mounts/<path> to learn the mount's path and KV version. The sidecar
/// forwards it (with its own token, cached like a KV entry) when <path> lies in the caller's
/// allowed space, so those commands work through it unchanged.
inline constexpr std::string_view mount_preflight_prefix = "/v1/sys/internal/ui/mounts";

/// For a normalised path under mount_preflight_prefix: "/v1/<path>", the secret path the
/// preflight asks about ("" for the bare listing forms "…/mounts" and "…/mounts/"). nullopt for
/// a path that is no preflight. Pure.
[[nodiscard]] std::optional<std::string> preflight_secret_path(std::string_view path);

/// Whether a caller confined to `patterns` (proxy.allow or a client's allow) may learn the mount
/// of `secret_path` ("/v1/<path>"): the path itself matches a pattern, or the path taken as a
/// folder does ("/v1/kv-billing/" under "/v1/kv-billing/*"), or a pattern lies inside that
/// folder ("/v1/kv-billing/data/app-*"), the way Vault answers a token with any capability in
/// the mount. An empty path or one under /v1/auth/ is never allowed. Pure.
[[nodiscard]] bool preflight_allowed(std::string_view secret_path,
                                     const std::vector<std::string>& patterns);

}  // namespace sidecar::proxy
