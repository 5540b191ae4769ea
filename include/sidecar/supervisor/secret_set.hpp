#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sidecar::supervisor {

/// The model that templates and [env] values render from: for every [secrets] name, that
/// secret's own map (DESIGN.md: `data.data` of a KV v2 read, `data` of a KV v1 read or of
/// dynamic creds), as the cache and the lease store hand it over. Values are cleansed when
/// replaced and when the set is destroyed.
///
/// Thread affinity: none (a value type without sharing); the supervisor keeps it on the io
/// thread.
class secret_set final {
 public:
  secret_set() = default;
  ~secret_set();
  secret_set(const secret_set&) = delete;
  secret_set& operator=(const secret_set&) = delete;
  secret_set(secret_set&&) = default;
  secret_set& operator=(secret_set&&) = default;

  /// Holds `data` for `name`; true when it differs from what was held (or nothing was).
  bool set(std::string_view name, nlohmann::json data);

  /// The map held for `name`, or nullptr when none was ever set.
  [[nodiscard]] const nlohmann::json* find(std::string_view name) const;

 private:
  std::map<std::string, nlohmann::json, std::less<>> maps_;
};

/// Overwrites every string in `value` (the secret values; keys are field names) before the json
/// frees them.
void cleanse_json(nlohmann::json& value) noexcept;

/// The secret's map in a Vault answer body (`{"data": ...}` envelope): `data.data` when `data`
/// holds `data` beside a `metadata` object (KV v2), else `data`. Nothing when the body is not
/// such an envelope or nests deeper than core::max_json_depth. For dynamic creds, whose lease_store
/// answer is the envelope as text.
[[nodiscard]] std::optional<nlohmann::json> secret_map_of(std::string_view body);

/// The [secrets] names configured with `vault_path`. `vault_path` may come as the cache spells a
/// key ("/v1/kv-demo/data/sample") or as the lease store spells a path
/// ("database/creds/myapp-role"); a leading "/v1/" or "/" is ignored, the rest compared exactly.
[[nodiscard]] std::vector<std::string> secret_names_for(
    const std::vector<std::pair<std::string, std::string>>& secrets, std::string_view vault_path);

}  // namespace sidecar::supervisor
