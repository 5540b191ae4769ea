#include <sidecar/app/credential_files.hpp>

#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

namespace sidecar::app {

std::optional<std::string> loose_credential_file(std::string_view key, std::string_view path,
                                                 unsigned mode, std::uint32_t owner,
                                                 std::uint32_t own_uid) {
  if ((mode & 022u) != 0) {
    return fmt::format(
        "auth.{} {} is writable by {} (mode {:04o}): anyone who can write it chooses the "
        "sidecar's credentials; fix with: chmod go-w {}",
        key, path, (mode & 002u) != 0 ? "everyone" : "its group", mode & 07777u, path);
  }
  if (owner != 0 && owner != own_uid) {
    return fmt::format(
        "auth.{} {} is owned by uid {}, neither root nor the sidecar's user (uid {}); fix with: "
        "chown {} {}",
        key, path, owner, own_uid, own_uid, path);
  }
  return std::nullopt;
}

std::optional<std::string> check_credential_files(const config::auth_config& auth) {
  for (const auto& [key, path] :
       {std::pair{"role_id_file", &auth.role_id_file}, {"secret_id_file", &auth.secret_id_file}}) {
    if (path->empty()) continue;
    struct stat info {};
    if (::stat(path->c_str(), &info) != 0) continue;
    if (auto why = loose_credential_file(key, *path, info.st_mode, info.st_uid, ::geteuid())) {
      return why;
    }
  }
  return std::nullopt;
}

}  // namespace sidecar::app
