#pragma once

#include <sidecar/config/config.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sidecar::app {

/// Why a credential file with this mode and owner must not be trusted, or nullopt: writable by
/// group or others (anyone could swap in their own secret_id), or owned by a user other than
/// the sidecar's own (`own_uid`) or root. The reason names the file and the fix, the way ssh
/// refuses a loose key file. Pure.
[[nodiscard]] std::optional<std::string> loose_credential_file(std::string_view key,
                                                               std::string_view path, unsigned mode,
                                                               std::uint32_t owner,
                                                               std::uint32_t own_uid);

/// loose_credential_file for auth.role_id_file and auth.secret_id_file as they are on disk
/// (symlinks followed, as the read will); a file that cannot be stat-ed is left to the read to
/// report. The first problem, or nullopt.
[[nodiscard]] std::optional<std::string> check_credential_files(const config::auth_config& auth);

}  // namespace sidecar::app
