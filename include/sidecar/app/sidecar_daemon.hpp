#pragma once

#include <sidecar/app/systemd_notifier.hpp>
#include <sidecar/config/config.hpp>
#include <sidecar/core/asio.hpp>
#include <sidecar/core/background_tasks.hpp>
#include <sidecar/core/stop_watchdog.hpp>
#include <sidecar/engine/engine.hpp>
#include <sidecar/metrics/registry.hpp>
#include <sidecar/proxy/audit_log.hpp>
#include <sidecar/proxy/forwarding_handler.hpp>
#include <sidecar/proxy/server.hpp>
#include <sidecar/supervisor/supervisor.hpp>

#include <boost/asio/signal_set.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sidecar::app {

/// A start-up failure with the exit code it maps to (78 bad config, 70 internal, ...).
class startup_error final : public std::runtime_error {
 public:
  startup_error(int exit_code, const std::string& message)
      : std::runtime_error{message}, exit_code_{exit_code} {}
  [[nodiscard]] int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

/// One running sidecar: owns the io_context and the object graph built from the configuration
/// (upstream client, token manager, KV cache, lease store, listener), and its life — start-up
/// (listener first so probes see `starting`, then one AppRole login, then the [secrets]
/// fetches, then READY), signals (SIGTERM/SIGINT stop, SIGHUP reloads), and a shutdown that
/// lets in-flight requests finish and revokes leases when configured. With `[exec]` or
/// templates it also runs the supervisor (pattern 3): the app's exit ends the sidecar with the
/// app's code, and SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2 go to the app.
///
/// SIGHUP (without [exec] or templates) re-reads the file and applies, without a new login and
/// without dropping a connection, what can change live (app/reload_plan.hpp): [log] level and
/// format, [cache] ttl, refresh_interval, max_stale and max_entries, [proxy] allow and
/// forward_writes, [listener] require_request_header. Every other changed key is named in one
/// warning as needing a restart and keeps its running value. A file with problems is rejected
/// whole, each problem logged, and the running configuration kept.
///
/// Thread affinity: construct and run() on one thread; `listener.threads` io threads serve
/// requests, while the token manager, cache and lease store stay on one engine strand.
/// Errors: the constructor throws startup_error; run() returns the process exit code.
class sidecar_daemon final {
 public:
  explicit sidecar_daemon(const config::config& cfg);
  ~sidecar_daemon();
  sidecar_daemon(const sidecar_daemon&) = delete;
  sidecar_daemon& operator=(const sidecar_daemon&) = delete;

  /// Serves until stopped; the exit code (app/exit_code.hpp).
  [[nodiscard]] int run();

 private:
  net::awaitable<void> start();
  net::awaitable<void> prefetch_secrets();
  /// The token renewal loop ended (engine::engine::run_background): degrade or stop.
  void token_ended(const result<void>& outcome);
  /// Pattern 3: hands the [secrets] values to the supervisor and runs the app until it exits.
  net::awaitable<void> supervise();
  net::awaitable<void> hand_secrets_to_supervisor();
  net::awaitable<void> watchdog();
  net::awaitable<void> shut_down();
  void request_stop(int exit_code);
  void wait_for_signal();
  void reload();

  const config::config& config_;  ///< as started: what the object graph was built from
  /// config_ with the settings SIGHUP applied since: what a re-read file is compared with.
  /// Engine strand only.
  config::config live_;
  net::io_context io_;
  net::strand<net::io_context::executor_type> strand_;
  core::system_clock clock_;
  metrics::registry registry_;
  /// Connection (counted in registry_), token manager, cache and lease store.
  std::unique_ptr<engine::engine> engine_;
  std::unique_ptr<proxy::forwarding_handler> handler_;
  std::unique_ptr<proxy::audit_log> audit_;  ///< [audit]; null when off; outlives server_
  std::unique_ptr<proxy::server> server_;
  std::unique_ptr<supervisor::supervisor> supervisor_;  ///< pattern 3, when configured
  net::signal_set signals_;
  systemd_notifier notifier_;
  core::background_tasks background_;  ///< the watchdog loop (the engine runs its own)
  std::optional<int> exit_code_;
  bool stopping_ = false;
  /// Abandons a shutdown that has not drained within its budget.
  core::stop_watchdog stop_watchdog_{io_};
};

}  // namespace sidecar::app
