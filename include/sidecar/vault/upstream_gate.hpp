#pragma once

#include <sidecar/config/config.hpp>
#include <sidecar/core/asio.hpp>
#include <sidecar/core/clock.hpp>
#include <sidecar/vault/retry.hpp>
#include <sidecar/vault/token_bucket.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace sidecar::vault {

/// What a request to Vault is, for the gate: callers' reads (misses, refreshes, lease fetches)
/// honour Retry-After pauses and the budget; writes only the budget; the token's own requests
/// (login, lookup) neither, and its renewal honours a pause only while it can afford to. A
/// `sys/health` probe takes budget but is never paused and its status (429 for a standby, 503
/// sealed, 473, ...) is a report, not Vault failing: the gate does not note it.
enum class request_kind { read, write, token, token_renewal, probe };

/// GET and HEAD are reads; `/v1/auth/token/renew-self` is the renewal; anything else under
/// `/v1/auth/` (logins of every method, lookups) is the token's; `/v1/sys/health` is a probe;
/// the rest are writes.
[[nodiscard]] request_kind classify_request(http::verb method, std::string_view target) noexcept;

/// Whether the token's renewal may wait for a Retry-After pause to pass: only when, once it has,
/// a whole `request_timeout` is left before the token expires. Otherwise it is sent at once
/// (the brief: the token must not be lost to a quota).
[[nodiscard]] bool renewal_may_wait(core::time_point paused_until, core::time_point token_expiry,
                                    core::duration request_timeout) noexcept;

/// Retry-After is honoured from these statuses only (RFC 9110 gives it meaning on 429 and 503).
[[nodiscard]] bool pauses_on(unsigned status) noexcept;

enum class upstream_condition {
  ok,       ///< Vault answered the last request
  paused,   ///< a Retry-After asked the sidecar to wait
  failing,  ///< unreachable, or answering 412, 429 or 5xx but 501, since `failing_since`
};

struct upstream_state {
  upstream_condition condition = upstream_condition::ok;
  core::time_point paused_until{};   ///< when `paused`
  core::time_point failing_since{};  ///< when `failing`, or `paused` after failures
};

/// Counters for metrics.
struct gate_stats {
  std::uint64_t pauses = 0;           ///< Retry-After answers that started or lengthened a pause
  std::uint64_t paused_refusals = 0;  ///< reads answered 429 locally while paused
  std::uint64_t budget_refusals = 0;  ///< requests answered 429 locally: no budget in time
};

/// The one place that decides whether a request may go to Vault now (DESIGN.md: "a Retry-After
/// pauses upstream reads", `vault.rate_limit`, `vault.max_concurrent_requests`), and what state
/// Vault is in (health). A pure state machine over the injected clock: the vault client asks it
/// before every attempt (retries included) and tells it every outcome; the waiting is the
/// client's. A request that takes budget holds one of `max_concurrent_requests` slots until
/// release().
///
/// Thread affinity: none (plain state); the vault client uses it on its io thread.
class upstream_gate {
 public:
  upstream_gate(const config::vault_config& config, core::time_point now);

  /// The end of the current Retry-After pause, or nullopt when not paused.
  [[nodiscard]] std::optional<core::time_point> paused_until(core::time_point now) const noexcept;

  /// Records what an attempt came to; `retry_after` is the parsed header of a 429 or 503.
  /// A cancellation says nothing about Vault and is ignored.
  void note(const attempt_outcome& outcome, std::optional<core::duration> retry_after,
            core::time_point now) noexcept;

  struct admission {
    bool granted = false;
    /// When not granted: how long until the bucket has a token, or duration::max() when every
    /// concurrent slot is taken (wait for a release()).
    core::duration wait{};
  };
  /// Budget for one attempt: a concurrent slot and a token of the bucket, taken together or not
  /// at all. A grant must be paired with release().
  [[nodiscard]] admission try_admit(core::time_point now) noexcept;
  void release() noexcept;

  void count_paused_refusal() noexcept { ++stats_.paused_refusals; }
  void count_budget_refusal() noexcept { ++stats_.budget_refusals; }

  [[nodiscard]] upstream_state state(core::time_point now) const noexcept;
  [[nodiscard]] const gate_stats& stats() const noexcept { return stats_; }
  [[nodiscard]] int in_flight() const noexcept { return in_flight_; }

 private:
  token_bucket bucket_;
  int max_concurrent_;
  int in_flight_ = 0;
  core::time_point paused_until_{};
  std::optional<core::time_point> failing_since_;
  gate_stats stats_;
};

}  // namespace sidecar::vault
