#pragma once

#include <sidecar/core/clock.hpp>
#include <sidecar/testing/wire.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::testing {

/// The KV secrets engines: version 1 mounts (one value per path) and version 2 mounts
/// (versions, soft delete, undelete, destroy, check-and-set, metadata, listing), answering
/// their endpoints with the shapes of vault-api.md §3.5.
///
/// Thread affinity: none; the vault_double serialises all access under its state lock.
/// Errors: API misuse answers with Vault's error replies; set-up misuse (unknown mount) throws
/// std::invalid_argument.
class kv_store {
 public:
  explicit kv_store(const core::clock& clock);

  /// Mounts (or remounts, emptied) a KV engine at `mount` (no slashes), version 1 or 2.
  void add_mount(const std::string& mount, int version);
  /// The KV version of a mount, or 0 if there is no such KV mount.
  [[nodiscard]] int version(const std::string& mount) const;
  /// Names of all KV mounts.
  [[nodiscard]] std::vector<std::string> mounts() const;
  /// Writes a secret as an API write would (a new version on v2).
  void put(const std::string& mount, const std::string& path, nlohmann::json data);

  /// Whether a write to `rest` (the path inside the mount) creates a secret, which the ACL
  /// checks against "create" rather than "update".
  [[nodiscard]] bool write_creates(const std::string& mount, std::string_view rest) const;

  /// Answers a request for `rest`, the path inside the mount.
  vault_reply handle(const std::string& mount, std::string_view rest, const vault_request& request);

 private:
  struct version_entry {
    nlohmann::json data{};
    core::wall_time created{};
    std::optional<core::wall_time> deleted{};
    bool destroyed = false;
  };
  struct secret_entry {
    std::vector<version_entry> versions;  // versions[i] is version i + 1
    nlohmann::json custom_metadata;       // null when unset
    core::wall_time created, updated;
    bool cas_required = false;
    int max_versions = 0;
  };
  struct mount_entry {
    int version = 2;
    std::map<std::string, secret_entry> secrets{};   // v2
    std::map<std::string, nlohmann::json> values{};  // v1
  };

  mount_entry& mount(const std::string& name);
  [[nodiscard]] bool is_deleted(const version_entry& v) const;
  [[nodiscard]] nlohmann::json version_metadata(const secret_entry& s, std::size_t number) const;
  int append_version(secret_entry& secret, nlohmann::json data);

  vault_reply handle_v1(mount_entry& m, std::string_view path, const vault_request& request);
  vault_reply handle_v2(mount_entry& m, std::string_view rest, const vault_request& request);
  vault_reply v2_data(mount_entry& m, const std::string& path, const vault_request& request);
  vault_reply v2_metadata(mount_entry& m, const std::string& path, const vault_request& request);
  vault_reply v2_versions(mount_entry& m, std::string_view action, const std::string& path,
                          const vault_request& request);

  const core::clock& clock_;
  std::map<std::string, mount_entry> mounts_;
};

}  // namespace sidecar::testing
