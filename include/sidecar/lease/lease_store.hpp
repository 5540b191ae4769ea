#pragma once

#include <sidecar/config/config.hpp>
#include <sidecar/core/asio.hpp>
#include <sidecar/core/backoff.hpp>
#include <sidecar/core/clock.hpp>
#include <sidecar/core/result.hpp>
#include <sidecar/core/secret_string.hpp>
#include <sidecar/lease/lease_stats.hpp>
#include <sidecar/lease/schedule.hpp>
#include <sidecar/lease/served_lease.hpp>
#include <sidecar/vault/client.hpp>
#include <sidecar/vault/token_source.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::lease {

/// Whether an answer came from a held lease (`X-Cache: HIT`) or waited for Vault (`MISS`).
enum class cache_state { hit, miss };

/// What the proxy sends for a dynamic secret: Vault's envelope with `lease_duration` set to the
/// whole seconds left, Vault's own error answer passed through, or the store's 503 for a lease
/// that ran out.
struct dynamic_answer {
  unsigned status = 200;
  std::string content_type = "application/json";
  /// Shared, never null: every request within one second of a lease gets the same rendering,
  /// so a held creds answer costs no render and no copy. Cleansed when the last holder lets go.
  std::shared_ptr<const core::secret_string> body;
  cache_state cache = cache_state::miss;
  /// Vault's relayable headers of a refusal passed through (Retry-After of a 429 above all).
  std::vector<std::pair<std::string, std::string>> headers{};
};

/// One path as the health and metrics endpoints see it: no secret values, no lease ids.
struct path_status {
  std::string path;
  lease_state state = lease_state::ok;
  long long seconds_left = 0;
  std::uint64_t rotations = 0;
  std::uint64_t renewals = 0;
  std::uint64_t failures = 0;
  std::string last_error;  ///< Vault's error summary or the transport error; empty when ok
};

/// A path whose start-up fetch did not yield creds, and why.
struct prefetch_failure {
  std::string path;
  std::string reason;
};

/// How failed rotations are retried: jittered doubling from `initial` to `max`.
struct retry_limits {
  core::duration initial = std::chrono::seconds{1};
  core::duration max = std::chrono::seconds{30};
  double jitter = 0.25;
};

/// Called with the path and the new `data` when rotated creds become current.
using change_handler = std::function<void(const std::string& path, const nlohmann::json& data)>;

/// Lease-aware store of dynamic secrets (database creds), by Vault path without `/v1/`
/// (`database/creds/myapp-role`). The first request for a path fetches creds; every later one
/// gets the same creds while their lease lasts. At `renew_at` of the lease a background task per
/// path either fetches new creds (strategy `rotate`; the old lease is left to run out so an open
/// connection keeps its remaining time) or extends the lease with `sys/leases/renew` (strategy
/// `renew`) until Vault caps it at the max TTL, then rotates at `renew_at` of what is left.
///
/// Thread affinity: io thread only. Background tasks are owned here: started on a path's first
/// request, ended by stop() (terminal cancellation); the store must outlive them, so stop() it
/// and let the io_context finish them before destroying it. Cancellation: a cancelled caller
/// stops waiting; a shared fetch goes on for the other waiters.
///
/// Errors: Vault's error statuses are answers (passed through, not stored). While Vault is
/// failing (vault::is_failing_status: 412, 429, 5xx but 501, the sidecar's own 429 during a
/// Retry-After pause included) a held lease is served as long as it lives, like when Vault is
/// unreachable. async_get() fails
/// only with a transport error (vault::errc), auth::errc::no_token or lease::errc::stopped when
/// nothing was held for the path.
/// Failed rotations are retried with jittered backoff, never waiting past the lease's expiry;
/// once the lease has run out, requests get 503 until a retry succeeds. After a new login
/// (token_source::on_token_replaced) every held lease is fetched anew at once: Vault revokes
/// the old token's leases when that token ends.
class lease_store final {
 public:
  lease_store(net::any_io_executor executor, vault::client& upstream, vault::token_source& tokens,
              core::clock& clock, const config::database_config& config, lease_stats& stats,
              retry_limits retry = {}, core::uniform_source random = core::make_random_source());
  ~lease_store();
  lease_store(const lease_store&) = delete;
  lease_store& operator=(const lease_store&) = delete;

  /// The current creds for `path`, fetched on the first request (concurrent first requests share
  /// one upstream call). Expired creds are never served.
  net::awaitable<result<dynamic_answer>> async_get(std::string_view path);
  /// What async_get() would answer without waiting: the held creds (a HIT), the 503 of a lease
  /// that ran out, or a first fetch's outcome; nullopt when nothing is held or a fetch is
  /// pending.
  std::optional<dynamic_answer> find_held(std::string_view path) const;

  /// Notes that the current lease of `path` reached a local caller (a creds answer of the
  /// proxy); only such leases are found by find_served(). Creds read for [env] or templates
  /// carry no lease id to the app, so they do not count.
  void mark_served(std::string_view path);
  /// The lease `lease_id` when it was served (mark_served) and has not run out: the current
  /// lease of its path, or one a rotation replaced. nullopt for any other id, held or not.
  [[nodiscard]] std::optional<served_lease> find_served(std::string_view lease_id) const;

  /// Fetches every path at start-up, concurrently; the paths that yielded no creds, with why.
  net::awaitable<std::vector<prefetch_failure>> async_prefetch(std::vector<std::string> paths);

  /// Stops the background tasks, then revokes every lease still alive (current and previous
  /// ones) with `sys/leases/revoke`, giving up when `deadline` has passed. Afterwards the store
  /// serves nothing.
  net::awaitable<void> async_revoke_all(core::duration deadline);

  /// Ends the background tasks; held creds are still served until they expire. A first fetch
  /// already in flight is left to finish (it has the request's deadline): the requests waiting
  /// for it are in flight too, and a graceful shutdown lets those complete with creds instead
  /// of an error. Idempotent.
  void stop();

  /// Subscribes to rotations: `handler` runs on the io thread when new creds become current.
  void on_change(change_handler handler);

  /// Per path, in path order, for health and metrics.
  [[nodiscard]] std::vector<path_status> snapshot() const;

 private:
  struct path_entry;
  struct fetch_outcome;

  std::shared_ptr<path_entry> start_entry(std::string path);
  net::awaitable<result<dynamic_answer>> await_answer(std::shared_ptr<path_entry> entry,
                                                      bool started_here);
  net::awaitable<void> maintain(std::shared_ptr<path_entry> entry);
  net::awaitable<fetch_outcome> fetch(path_entry& entry);
  net::awaitable<bool> renew(path_entry& entry);
  net::awaitable<bool> rotate(path_entry& entry, core::backoff& retry);
  enum class wake_reason { due, token_replaced, stopped };
  /// The background task's wait: until `due`, or until a new login replaced the token.
  net::awaitable<wake_reason> sleep_until(path_entry& entry, core::time_point due);
  net::awaitable<void> revoke(std::vector<std::string> lease_ids);
  void finish_first_fetch(path_entry& entry, fetch_outcome& outcome);
  /// stop(), first fetches in flight included: before revoking, nothing new may be handed out.
  void cancel_all();
  void make_current(path_entry& entry, fetch_outcome& outcome);
  /// What an entry whose first fetch is over answers: that fetch's refusal or error, else serve().
  [[nodiscard]] result<dynamic_answer> settled_answer(const path_entry& entry,
                                                      cache_state cache) const;
  [[nodiscard]] dynamic_answer serve(const path_entry& entry, cache_state cache) const;
  /// The current lease of `entry` as served_lease; `current` false for one being retired.
  [[nodiscard]] std::optional<served_lease> describe(const path_entry& entry, bool current) const;

  net::any_io_executor executor_;
  vault::client& upstream_;
  vault::token_source& tokens_;
  core::clock& clock_;
  config::database_config config_;
  lease_stats& stats_;
  retry_limits retry_;
  core::uniform_source random_;
  std::shared_ptr<spdlog::logger> log_;
  std::map<std::string, std::shared_ptr<path_entry>, std::less<>> entries_;
  std::vector<change_handler> change_handlers_;
  bool stopped_ = false;
  /// Lets the token source's handler (which outlives nothing it is told) see the store is gone.
  std::shared_ptr<int> lifetime_ = std::make_shared<int>(0);
};

}  // namespace sidecar::lease
