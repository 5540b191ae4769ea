#pragma once

#include <sidecar/core/clock.hpp>
#include <sidecar/lease/served_lease.hpp>
#include <sidecar/proxy/request_id.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

// Lease housekeeping answered by the sidecar itself (issue 18): the `sys/leases/*` calls that
// Spring Vault's SecretLeaseContainer, the Go client's LifetimeWatcher and node-vault-client make
// for the database lease they were handed. The sidecar owns that lease (it renews or rotates it
// and may share it between callers), so these calls are answered from the lease store and never
// reach Vault. Everything here is pure; forwarding_handler does the look-up.
namespace sidecar::proxy {

enum class lease_operation { renew, lookup, revoke };

/// A lease housekeeping endpoint, as named by a normalised path.
struct lease_endpoint {
  lease_operation operation = lease_operation::lookup;
  std::string_view base;           ///< the path without its lease id ("/v1/sys/renew")
  std::string_view path_lease_id;  ///< the lease id of a path form; empty for the body form
};

/// Which endpoint `path` is: `/v1/sys/leases/renew`, `/v1/sys/leases/revoke`, the older
/// `/v1/sys/renew`, `/v1/sys/revoke`, each also with `/<lease_id>`, and `/v1/sys/leases/lookup`
/// (body form only, as in Vault). nullopt for any other path: `revoke-prefix`, `revoke-force`
/// and the `lookup/<prefix>` listing are not answered here. Pure.
[[nodiscard]] std::optional<lease_endpoint> match_lease_endpoint(std::string_view path) noexcept;

/// A lease housekeeping request, parsed.
struct lease_request {
  lease_operation operation = lease_operation::lookup;
  std::string lease_id;
  long long increment = 0;  ///< renew: seconds asked for; 0 = none (Vault's default increment)
};

/// Why a request was refused (400), worded as Vault words it.
struct lease_request_error {
  std::string message;
};

/// Parses a request as Vault's `sys/leases/*` handlers do: the body's `lease_id` first, then the
/// path form's (renew and revoke); an empty body is no fields. `increment` (renew only) is
/// Vault's TypeDurationSecond: a whole number of seconds, or a string of seconds, of days
/// (`"2d"`) or a Go duration (`"1h30m"`, truncated to whole seconds); negative values are
/// refused. Not JSON, not an object, or a field of the wrong type is a 400 with Vault's text;
/// so is a missing lease id (`lease_id must be specified`). Pure.
[[nodiscard]] std::variant<lease_request, lease_request_error> parse_lease_request(
    lease_operation operation, std::string_view path_lease_id, std::string_view body);

/// A Go duration string (`time.ParseDuration`: `300ms`, `-1.5h`, `2h45m`) in whole seconds,
/// truncated toward zero; nullopt when Go would refuse it (no unit, an unknown unit, overflow).
[[nodiscard]] std::optional<long long> parse_go_duration(std::string_view text) noexcept;

/// What the sidecar answers: status and JSON body (empty for 204).
struct lease_answer {
  unsigned status = 400;
  std::string body;
};

/// The text of the one refusal for a lease the caller may not see (unknown, not served, expired
/// or outside its client's allow list): the same for all, so existence is never revealed.
inline constexpr std::string_view lease_not_found = "lease not found";

/// The answer to `request`, for `lease` as the lease store found it for the caller (nullopt: not
/// found). renew ⇒ 200 with Vault's lease envelope: the same lease_id, `lease_duration` the whole
/// seconds left (never more), `renewable` as the sidecar keeps it, and Vault's max-TTL warning
/// when the increment asked (or, without one, the lease's first grant) is more than is left;
/// lookup ⇒ 200 with `data.id`, `ttl`, `issue_time`, `expire_time`, `last_renewal` (RFC 3339 as
/// Go writes them) and `renewable`; revoke ⇒ 204, the lease left alone (other callers share it).
/// `now`/`wall_now` are one instant of the injected clock. Pure.
[[nodiscard]] lease_answer answer_lease_request(const lease_request& request,
                                                const std::optional<lease::served_lease>& lease,
                                                core::time_point now, core::wall_time wall_now,
                                                std::string_view request_id);

/// Whether a caller may see a lease of `lease_path` (Vault path without /v1/): always without
/// [client.*] sections (`caller_allow` nullopt), else when its allow list covers the path. Pure.
[[nodiscard]] bool lease_visible_to(std::string_view lease_path,
                                    const std::optional<std::vector<std::string>>& caller_allow);

/// Whole seconds as Vault's humanDuration prints them in warnings: `0s`, `45s`, `1m`, `1m30s`,
/// `1h`, `1h5s`, `26h1m`.
[[nodiscard]] std::string human_duration(long long seconds);

/// A calendar time as Go's encoding/json writes a UTC time.Time: RFC 3339 with the fraction's
/// trailing zeros dropped (`2026-12-07T14:49:26.1234Z`, `2026-12-07T14:49:26Z`).
[[nodiscard]] std::string go_rfc3339_utc(core::wall_time time);

}  // namespace sidecar::proxy
