#pragma once

#include <sidecar/core/result.hpp>
#include <sidecar/core/secret_string.hpp>
#include <sidecar/vault/client.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace sidecar::lease {

/// Whether a secret path (`<mount>/creds/<role>`, no /v1/) names a dynamic secret for the
/// lease store; any other path is KV. The one rule for the daemon's [secrets], `check --online`
/// and the client library. Pure.
[[nodiscard]] bool is_dynamic_path(std::string_view path) noexcept;

/// One dynamic secret as Vault issued it (`GET /v1/database/creds/<role>`, vault-api.md §3.7):
/// the lease fields the store schedules on, the `data` payload kept as a secret_string, and the
/// rest of Vault's envelope kept as it came, in Vault's field order, so a served answer looks
/// like Vault's own with only `lease_duration` changed.
///
/// Thread affinity: none (a value type). Errors: parse() yields vault::errc for an error
/// status (by classify()) or a body that is not an envelope with a lease.
class dynamic_secret {
 public:
  /// A 2xx creds answer with a JSON object body; errc::malformed_response without `data`, for a
  /// body nesting deeper than core::max_json_depth, or with a lease_duration that is a number
  /// but not vault::lease_duration_value().
  [[nodiscard]] static result<dynamic_secret> parse(const vault::response& answer);

  [[nodiscard]] const std::string& lease_id() const noexcept { return lease_id_; }
  [[nodiscard]] bool renewable() const noexcept { return renewable_; }
  /// Seconds Vault granted when the creds were issued; also the increment asked on renewal.
  [[nodiscard]] long long lease_duration() const noexcept { return lease_duration_; }

  /// Vault's envelope with `lease_duration` replaced by `seconds_left`: ready to send.
  [[nodiscard]] core::secret_string render(long long seconds_left) const;

  /// The `data` object, parsed anew for a consumer (template, env) that needs the values.
  [[nodiscard]] nlohmann::json data() const;

 private:
  std::string lease_id_;
  bool renewable_ = false;
  long long lease_duration_ = 0;
  /// What render() writes before a value that varies, and which value follows it.
  enum class slot { none, data, lease_duration };
  struct text_piece {
    std::string text;
    slot then = slot::none;
  };

  /// Vault's envelope serialised once at parse, cut around `data` and `lease_duration`, so a
  /// render on every request is a few appends instead of JSON work.
  std::vector<text_piece> pieces_;
  core::secret_string data_;  ///< `data` serialised
};

}  // namespace sidecar::lease
