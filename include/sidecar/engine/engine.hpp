#pragma once

#include <sidecar/auth/credentials.hpp>
#include <sidecar/auth/token_manager.hpp>
#include <sidecar/cache/kv_cache.hpp>
#include <sidecar/config/config.hpp>
#include <sidecar/core/asio.hpp>
#include <sidecar/core/background_tasks.hpp>
#include <sidecar/core/clock.hpp>
#include <sidecar/lease/lease_stats.hpp>
#include <sidecar/lease/lease_store.hpp>
#include <sidecar/metrics/registry.hpp>
#include <sidecar/vault/beast_client.hpp>
#include <sidecar/vault/metered_client.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sidecar::engine {

/// The object graph the daemon and the client library both run, built from one configuration:
/// the Vault connection (counted in a metrics registry when one is given), the token manager, the
/// KV cache and the lease store, wired the one way Vault's rules ask for — a Retry-After pause
/// holds the token's renewal back only while the token can afford it — and the loops that keep
/// them going after the login: renewal at renew_at, the cache's refresh passes, and the reads
/// that keep chosen secrets watched when no caller reads them. The daemon adds listeners,
/// signals and the supervisor; sidecar::client adds its facade.
///
/// Thread affinity: construct, call and destroy on the strand given (the engine strand); every
/// part runs there. Errors: the constructor throws std::invalid_argument for a [vault] section
/// the connection cannot use (vault::beast_client).
class engine {
 public:
  /// A secret changed: a KV entry (`dynamic` false, `path` its cache::normalise_key, with /v1/)
  /// or a dynamic secret rotated (`dynamic` true, `path` without /v1/).
  using change_handler =
      std::function<void(bool dynamic, const std::string& path, const nlohmann::json& data)>;
  /// What tokens().async_run() ended with: ok when the token was lost under serve_cached, else
  /// auth::errc::token_lost or a cancellation.
  using token_end_handler = std::function<void(const result<void>& outcome)>;

  engine(net::any_io_executor strand, const config::config& cfg, core::clock& clock,
         auth::credentials credentials, metrics::registry* registry = nullptr);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  [[nodiscard]] vault::beast_client& connection() noexcept { return *connection_; }
  /// What every part sends through: the connection, metered when a registry was given.
  [[nodiscard]] vault::client& upstream() noexcept { return *upstream_; }
  [[nodiscard]] auth::token_manager& tokens() noexcept { return *tokens_; }
  [[nodiscard]] cache::kv_cache& cache() noexcept { return *cache_; }
  [[nodiscard]] lease::lease_store& leases() noexcept { return *leases_; }
  [[nodiscard]] lease::lease_stats& lease_stats() noexcept { return lease_stats_; }

  /// Where the cache's and the lease store's changes go (one handler; a later call replaces it).
  void on_change(change_handler handler);

  /// After a successful login: spawns the token renewal, the cache refresh and the keep-warm
  /// loop on the strand. `token_ended` gets the renewal loop's outcome once it ends.
  void run_background(token_end_handler token_ended);
  /// Ends those loops at their next wait. The lease store is the owner's to stop or revoke.
  void stop_background();

  /// From now on `path` (a secret path, with or without /v1/) is read every
  /// max(refresh_interval / 2, 1 s), at once for a new path, through the cache or the lease
  /// store by its shape (lease::is_dynamic_path): the cache refreshes only entries read since
  /// its last pass and the lease store maintains only paths requested once, so this keeps both
  /// watching it. A path given twice is read once a round.
  void keep_warm(std::string path);

  /// One read of a secret path through the cache or the lease store, by its shape.
  net::awaitable<void> async_touch(std::string path);

 private:
  net::awaitable<void> async_keep_warm();
  net::awaitable<void> async_keep_token(token_end_handler token_ended);

  const config::config& config_;
  std::unique_ptr<vault::beast_client> connection_;
  std::unique_ptr<vault::metered_client> metered_;  ///< with a registry only
  vault::client* upstream_ = nullptr;
  std::unique_ptr<auth::token_manager> tokens_;
  std::unique_ptr<cache::kv_cache> cache_;
  lease::lease_stats lease_stats_;
  std::unique_ptr<lease::lease_store> leases_;
  std::vector<std::string> warm_paths_;  ///< without /v1/, each once
  steady_timer wake_warm_;               ///< cancelled to read a newly kept path at once
  bool stopping_ = false;
  core::background_tasks background_;
};

}  // namespace sidecar::engine
