#pragma once

#include <sidecar/core/result.hpp>
#include <sidecar/core/secret_string.hpp>
#include <sidecar/vault/client.hpp>
#include <sidecar/vault/errc.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::vault {

/// The longest lease or token TTL accepted from Vault: a century, in seconds. Vault grants at
/// most its max_lease_ttl (32 days by default); a larger value is no TTL to schedule on, and
/// past about 292 years it would overflow the nanosecond clock arithmetic of every schedule.
inline constexpr long long max_lease_duration = 100LL * 365 * 24 * 60 * 60;

/// A `lease_duration` as Vault sends it: a whole number of seconds in [0, max_lease_duration].
/// Nothing for any other number (negative, fractional, 1e300) or a value that is no number.
/// A template over nlohmann's json types because the lease store keeps Vault's field order
/// (ordered_json).
template <class Json>
[[nodiscard]] std::optional<long long> lease_duration_value(const Json& value) {
  if (value.is_number_unsigned()) {
    const auto seconds = value.template get<std::uint64_t>();
    if (seconds <= static_cast<std::uint64_t>(max_lease_duration)) {
      return static_cast<long long>(seconds);
    }
  } else if (value.is_number_integer()) {
    const auto seconds = value.template get<std::int64_t>();
    if (seconds >= 0 && seconds <= max_lease_duration) return seconds;
  }
  return std::nullopt;
}

/// The `auth` object of a login or renew-self answer.
struct auth_info {
  core::secret_string client_token;
  core::secret_string accessor;
  long long lease_duration = 0;  ///< seconds
  bool renewable = false;
  std::vector<std::string> policies;
  std::string token_type;  ///< "service" or "batch"
};

/// Vault's response envelope (vault-api.md §3.1), parsed once. `data` may hold secrets: callers
/// keep it in memory only and never log it.
struct envelope {
  std::string request_id;
  std::string lease_id;
  bool renewable = false;
  long long lease_duration = 0;  ///< seconds
  nlohmann::json data;           ///< null when absent
  std::optional<auth_info> auth;
  std::vector<std::string> warnings;
};

/// Vault's `errors[]` with the status, for messages ("login refused: invalid role or secret ID").
struct vault_error {
  unsigned status = 0;
  std::vector<std::string> messages;
  /// "403: 1 error occurred: * permission denied" — one line, Vault's newlines and tabs folded.
  [[nodiscard]] std::string summary() const;
};

/// How the sidecar must treat an error status: the classification is pure and total.
[[nodiscard]] errc classify(unsigned status, const std::vector<std::string>& messages) noexcept;

/// Whether an answer says the sidecar's own token failed (`403` with "invalid token": revoked,
/// expired, used up) rather than the policy refusing the path. Pure; reads the raw body so
/// callers need not parse it.
[[nodiscard]] bool says_invalid_token(unsigned status, std::string_view body) noexcept;

/// Vault's `errors[]` from an error body; empty when the body is not Vault's error shape (or
/// nests deeper than core::max_json_depth).
[[nodiscard]] vault_error parse_error(const response& answer);

/// The envelope of a 2xx answer with a JSON body. A non-2xx status yields classify()'s errc;
/// a body that is not a JSON object, nests deeper than core::max_json_depth, or a lease_duration
/// (top level or auth) that is present, not null and not lease_duration_value(), yields
/// errc::malformed_response. A 204 yields an empty envelope.
[[nodiscard]] result<envelope> parse_envelope(const response& answer);

}  // namespace sidecar::vault
