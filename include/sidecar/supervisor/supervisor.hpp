#pragma once

#include <sidecar/config/config.hpp>
#include <sidecar/core/asio.hpp>
#include <sidecar/core/clock.hpp>
#include <sidecar/core/result.hpp>
#include <sidecar/supervisor/child_environment.hpp>
#include <sidecar/supervisor/child_process.hpp>
#include <sidecar/supervisor/render.hpp>
#include <sidecar/supervisor/secret_set.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sidecar::supervisor {

struct supervisor_options {
  /// Changes arriving within this window after a first one are handled together: one
  /// re-render, at most one restart.
  core::duration debounce = std::chrono::seconds{1};
  /// A [template.NAME] command still running after this is killed (Vault Agent's default
  /// command_timeout).
  core::duration command_timeout = std::chrono::seconds{30};
};

/// Pattern 3 of the brief (DESIGN.md [exec], [env], [template.NAME]): renders the templates
/// into files and the [env] values into the environment of the [exec] command, starts that
/// command once everything rendered, and keeps the two in step with the secrets. A change that
/// alters an [env] value restarts the app (restart_stop_signal, SIGKILL after restart_grace,
/// then a start with the new environment) when restart_on_secret_changes = always; a change
/// that alters only files rewrites them and runs their command, without a restart. Changes
/// within `debounce` of each other are handled together. Without an [exec] command only the
/// files are kept up to date. Every restart and rewrite is logged with the secret names that
/// caused it, never with values.
///
/// Use: give every [secrets] name its map with secret_changed() (the cache's and the lease
/// store's on_change handlers can call path_changed()), co_spawn async_run(), which returns the
/// app's exit code, and route signals: stop() for SIGTERM/SIGINT, forward_signal() for the others.
///
/// Thread affinity: io thread only (the executor given here, e.g. the daemon's engine strand);
/// every member function must be called there. Cancellation: prefer stop(); cancelling async_run()
/// abandons supervision (async_run() ends with operation_aborted) and the app is killed with
/// SIGKILL when the supervisor is destroyed. Errors: async_run() fails with supervisor::errc when
/// the app could not be brought up (the log line says which template, secret, key, file or
/// command); later render, write and command failures are logged and leave the app and files as
/// they were.
class supervisor final {
 public:
  /// Copies what it needs from `cfg`. Throws std::invalid_argument for a template command that
  /// does not split (config::load has already refused those).
  supervisor(net::any_io_executor executor, const config::config& cfg,
             supervisor_options options = {});
  ~supervisor();
  supervisor(const supervisor&) = delete;
  supervisor& operator=(const supervisor&) = delete;

  /// The current map of [secrets] name `name` (KV v2 `data.data`, KV v1 or dynamic `data`).
  /// Before async_run() this only records the value; afterwards a value that differs from the one
  /// held schedules a re-render. Names not in [secrets] are ignored.
  void secret_changed(std::string_view name, nlohmann::json data);

  /// secret_changed() for every [secrets] name configured with `vault_path`, spelled as the KV
  /// cache spells keys ("/v1/kv-demo/data/sample") or as the lease store spells paths
  /// ("database/creds/myapp-role").
  void path_changed(std::string_view vault_path, const nlohmann::json& data);

  /// Renders every template and [env] value (every secret they name must have been given),
  /// writes the files, runs their commands, starts the app, then supervises it until it exits:
  /// the app's exit code (128 + signal when a signal ended it; 127/126 when a restart could not
  /// start it again). Without an [exec] command, keeps the files up to date until stop(), then 0.
  net::awaitable<result<int>> async_run();

  /// Sends `number` to the app's process group, if an app is running.
  void forward_signal(int number);

  /// Ends supervision: forwards `number` to the app, restarts no more, kills the app with
  /// SIGKILL if it is still running restart_grace later; async_run() then returns the app's code.
  void stop(int number);

  /// The running app's pid, if one is running.
  [[nodiscard]] std::optional<pid_t> child_pid() const;
  /// Restarts done because secrets changed.
  [[nodiscard]] std::uint64_t restarts() const noexcept { return restarts_; }

 private:
  struct template_entry {
    config::template_config config;
    std::vector<std::string> command;  ///< `config.command` split; empty = none
    std::string source;                ///< the template text, read by async_run()
  };
  using clock = net::steady_timer::clock_type;

  net::awaitable<result<void>> start();
  net::awaitable<std::optional<int>> reconcile();
  net::awaitable<std::optional<int>> restart(environment_values environment,
                                             const std::string& why);
  net::awaitable<void> async_run_command(const template_entry& entry);
  result<void> load_sources();
  rendered<environment_values> render_environment() const;
  /// Renders and writes one file; true when it changed. Failures are logged here.
  result<bool> write_template(const template_entry& entry);
  /// Starts the app with `environment` added; posix_spawnp's error, logged here.
  result<void> spawn_app(environment_values environment);
  [[nodiscard]] clock::time_point next_wake() const;

  net::any_io_executor executor_;
  config::exec_config exec_;
  std::vector<std::pair<std::string, std::string>> secret_paths_;  ///< [secrets]
  std::vector<std::pair<std::string, std::string>> env_;           ///< [env]
  std::vector<template_entry> templates_;
  supervisor_options options_;
  std::shared_ptr<spdlog::logger> log_;

  secret_set secrets_;
  std::unique_ptr<child_process> app_;
  environment_values app_environment_;  ///< the [env] values the running app was started with
  steady_timer wake_;                   ///< the async_run() loop's wait besides the app's exit
  std::set<std::string> changed_;       ///< secret names changed since the last reconcile
  std::optional<clock::time_point> reconcile_at_;
  std::optional<clock::time_point> kill_at_;  ///< after stop(): when SIGKILL follows
  bool running_ = false;
  bool stopping_ = false;
  bool killed_ = false;
  std::uint64_t restarts_ = 0;
};

}  // namespace sidecar::supervisor
