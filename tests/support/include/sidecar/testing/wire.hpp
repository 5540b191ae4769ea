#pragma once

// Vocabulary shared by the Vault double's parts: a request as Vault's logical layer sees it, a
// reply, Vault's error bodies, its time and duration formats, and its TTL arithmetic.

#include <sidecar/core/clock.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::testing {

/// One API request after HTTP parsing: what a Vault backend is handed.
struct vault_request {
  std::string method{};  ///< HTTP verb as sent ("GET", "LIST", "POST", ...)
  std::string path{};    ///< logical path without "/v1/" and without the query
  std::map<std::string, std::string> query{};
  std::string token{};        ///< X-Vault-Token, else the Bearer token, else empty
  nlohmann::json body{};      ///< null when the request had no body
  std::string wrap_ttl{};     ///< X-Vault-Wrap-TTL as sent; empty: answer unwrapped
  std::string client_cert{};  ///< the connection's TLS client certificate (PEM); empty: none

  /// Vault's operation: "read", "list", "create/update" collapsed to "update", "patch",
  /// "delete"; GET with `list=true` and LIST are both "list".
  [[nodiscard]] std::string operation() const;
};

/// One answer. A null body means no body at all (204, HEAD).
struct vault_reply {
  unsigned status = 200;
  nlohmann::json body;
  std::vector<std::pair<std::string, std::string>> headers{};  ///< e.g. Retry-After of a 429
};

/// `{"errors":[...]}` with the given status.
[[nodiscard]] vault_reply error_reply(unsigned status, std::vector<std::string> errors);

/// Vault's multierror text: "1 error occurred:\n\t* permission denied\n\n".
[[nodiscard]] std::string multierror(const std::vector<std::string>& errors);

/// 403 for a valid token whose policies do not allow the request.
[[nodiscard]] vault_reply permission_denied();
/// 403 for a missing, unknown, expired, revoked or used-up token.
[[nodiscard]] vault_reply invalid_token();
/// 404 `{"errors":[]}`: a read of a path that holds nothing.
[[nodiscard]] vault_reply not_found();
/// 405: the path exists but not for this operation.
[[nodiscard]] vault_reply unsupported_operation();
/// 404: no handler inside a mount for this path.
[[nodiscard]] vault_reply unsupported_path();

/// The full logical response envelope (vault-api.md §3.1) with every field at its empty value.
[[nodiscard]] nlohmann::json envelope(std::string_view mount_type);

/// RFC 3339 in UTC with nanoseconds, trailing zeros trimmed like Go's RFC3339Nano.
[[nodiscard]] std::string rfc3339(core::wall_time time);

/// Calendar time of a steady time point, using the clock's current pairing of the two.
[[nodiscard]] core::wall_time to_wall(const core::clock& clock, core::time_point at);

/// Seconds from a JSON number or a Go duration string ("90", "90s", "1h30m", "500ms" rounds
/// down). Empty when the value is not a duration.
[[nodiscard]] std::optional<long long> parse_duration(const nlohmann::json& value);

/// Go's duration text with Vault's trimming of zero units: 3600 -> "1h", 90 -> "1m30s".
[[nodiscard]] std::string human_duration(long long seconds);

/// The outcome of Vault's `framework.CalculateTTL` for an issue or a renewal.
struct ttl_decision {
  long long ttl = 0;  ///< seconds
  std::vector<std::string> warnings;
  bool past_max = false;  ///< "past the max TTL, cannot renew"
};

/// Vault's TTL rule (sdk/framework/lease.go): the increment if given, else the backend TTL;
/// a period replaces both and has no max; otherwise the TTL is capped at what is left of
/// `max_ttl` counted from `start`, with Vault's warning. Times are truncated to whole seconds
/// first, as Vault does.
[[nodiscard]] ttl_decision calculate_ttl(long long increment, long long backend_ttl,
                                         long long period, long long max_ttl,
                                         core::time_point start, core::time_point now);

/// Vault's system default and maximum lease TTL: 32 days.
inline constexpr long long system_max_ttl = 2764800;

/// Random [0-9A-Za-z] text, for token ids, accessors and lease suffixes.
[[nodiscard]] std::string random_base62(std::size_t length);
/// A random version-4 UUID, for request ids and role ids.
[[nodiscard]] std::string random_uuid();

/// Percent-decodes a query component ('+' is a space).
[[nodiscard]] std::string url_decode(std::string_view text);

}  // namespace sidecar::testing
