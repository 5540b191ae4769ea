#pragma once

#include <sidecar/config/config.hpp>
#include <sidecar/core/clock.hpp>

// The cache's decisions as pure functions over times and statuses, so every boundary is tested
// with a manual clock and no sockets. kv_cache only applies them.

namespace sidecar::cache {

/// Served without asking Vault: less than `ttl` since it was fetched (at exactly `ttl` it is not).
[[nodiscard]] bool is_fresh(core::time_point fetched, core::time_point now,
                            const config::cache_config& config) noexcept;

/// Expired, but by less than `max_stale`, so it may stand in while Vault fails or there is no
/// token. Never with `max_stale = 0`; never while still fresh.
[[nodiscard]] bool is_stale_servable(core::time_point fetched, core::time_point now,
                                     const config::cache_config& config) noexcept;

/// Whether Vault's answer is kept as a negative entry: a 404 (the secret does not exist) while
/// `negative_ttl` is not 0, so a caller reading a missing path in a loop costs Vault one read
/// per negative_ttl. Status and body are kept as Vault gave them.
[[nodiscard]] bool keeps_negative(unsigned status, const config::cache_config& config) noexcept;

/// A negative entry is served for `negative_ttl` after it was fetched (at exactly negative_ttl
/// it is not), never as stale and never refreshed: once expired, the next read asks Vault.
[[nodiscard]] bool is_negative_fresh(core::time_point fetched, core::time_point now,
                                     const config::cache_config& config) noexcept;

/// How an entry was used since the last background pass.
struct read_record {
  core::time_point last_read;
  bool read_since_refresh = false;
};

enum class refresh_action {
  keep,     ///< not read since the last pass: left to expire, Vault is not asked
  refresh,  ///< read since the last pass: re-read now so a hot path never goes cold
  drop,     ///< not read for `ttl`: nobody needs it, its secret leaves memory
};

/// What a background pass does with one entry; dropping wins over refreshing.
[[nodiscard]] refresh_action refresh_decision(const read_record& reads, core::time_point now,
                                              const config::cache_config& config) noexcept;

/// An entry's first background refresh: at a random point of its first `refresh_interval`
/// (`unit`, in [0, 1), from the injected random source; clamped into it), then every interval.
/// Sidecars that start and warm at the same instant then refresh spread over the interval
/// instead of all at once, and so do their recovery reads after an outage, since every entry
/// keeps its phase through it (next_refresh_at).
[[nodiscard]] core::time_point first_refresh_at(core::time_point stored, core::duration interval,
                                                double unit) noexcept;

/// The refresh after the one due at `due`: one interval later, skipping the whole intervals
/// that already passed (a late pass, a long outage), so the entry keeps its phase.
[[nodiscard]] core::time_point next_refresh_at(core::time_point due, core::duration interval,
                                               core::time_point now) noexcept;

/// How often the background loop looks for entries whose refresh is due: a 64th of the
/// interval, at least 50 ms and at most 1 s. A due entry waits at most this long.
[[nodiscard]] core::duration refresh_tick(core::duration interval) noexcept;

/// The least time a reader takes a failure of Vault for a key as the answer before asking again.
inline constexpr core::duration failure_hold = std::chrono::seconds{1};

/// Until when readers of an entry Vault just failed get it stale without asking Vault again:
/// min(refresh_interval, ttl) after the failure, at least failure_hold. Recovery after an outage
/// is left to the entry's background refresh, which keeps its phase (next_refresh_at()) and so
/// falls at its own point of the interval: the fleet's recovery reads are spread as its steady
/// refreshes are. Readers asking instead found every entry due at once when Vault came back
/// (53 reads at the double in 100 ms against 6 in steady state, 10 sidecars x 6 secrets). The
/// window is capped by ttl so that one failure costs an entry at most one ttl of extra staleness.
[[nodiscard]] core::time_point recovery_at(core::time_point failed_at,
                                           const config::cache_config& config) noexcept;

enum class upstream_verdict {
  store,          ///< 200 with a cacheable body: cache it and serve it
  pass_and_drop,  ///< 403/404: pass it on and drop what is held (revoked or deleted)
  pass,           ///< any other answer: pass it on, never cache it, keep what is held
  failure,        ///< Vault failing (vault::is_failing_status: 412, 429, 5xx but 501): an expired
                  ///< entry may stand in
};

/// How the cache treats Vault's answer. A transport error is a failure too (not judged here).
/// A 403 whose errors say "invalid token" is the sidecar's own token failing (revoked,
/// expired), not the secret's permission: a failure, so what is held stays servable as stale
/// (on_renew_failure = serve_cached relies on that).
[[nodiscard]] upstream_verdict judge_answer(unsigned status, bool cacheable_body,
                                            bool invalid_token = false) noexcept;

}  // namespace sidecar::cache
