#include <sidecar/app/daemon.hpp>

#include <sidecar/app/credential_files.hpp>
#include <sidecar/app/exit_code.hpp>
#include <sidecar/app/process_hygiene.hpp>
#include <sidecar/app/reload_plan.hpp>
#include <sidecar/app/sidecar_daemon.hpp>
#include <sidecar/app/startup_rules.hpp>
#include <sidecar/auth/credentials.hpp>
#include <sidecar/auth/errc.hpp>
#include <sidecar/auth/login_request.hpp>
#include <sidecar/config/parser.hpp>
#include <sidecar/core/log.hpp>
#include <sidecar/core/version.hpp>
#include <sidecar/lease/dynamic_secret.hpp>
#include <sidecar/supervisor/errc.hpp>
#include <sidecar/supervisor/secret_set.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <thread>

namespace sidecar::app {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<spdlog::logger> log() { return core::logger("app"); }

auth::credentials read_credentials(const config::auth_config& auth) {
  if (auto loose = check_credential_files(auth)) {
    scrub_environment({"VAULT_ROLE_ID", "VAULT_SECRET_ID"});
    throw startup_error{exit_code::bad_config, "refusing a loose credential file: " + *loose};
  }
  auto loaded = auth::load_credentials(auth, auth::process_environment());
  scrub_environment({"VAULT_ROLE_ID", "VAULT_SECRET_ID"});
  if (!loaded) {
    throw startup_error{exit_code::bad_config, std::string{"cannot read the "} +
                                                   auth::method_title(auth.kind) +
                                                   " credentials: " + loaded.error().message()};
  }
  return std::move(*loaded);
}

bool pattern_three(const config::config& cfg) {
  return !cfg.exec.command.empty() || !cfg.templates.empty();
}

/// How long a shutdown may take before run() abandons it: the listener's grace, or the app's
/// restart_grace in exec mode (the app gets its stop signal, then SIGKILL after that long).
core::duration stop_budget(const config::config& cfg) {
  auto budget = proxy::listener_limits{}.shutdown_grace;
  if (pattern_three(cfg)) budget = std::max(budget, cfg.exec.restart_grace);
  return budget + 5s;
}

std::string token_status_line(const auth::token_stats& token) {
  return fmt::format("token {}, {} s left", auth::to_string(token.status),
                     std::chrono::duration_cast<std::chrono::seconds>(token.ttl_left).count());
}

}  // namespace

sidecar_daemon::sidecar_daemon(const config::config& cfg)
    : config_{cfg},
      live_{cfg},
      io_{std::max(1, cfg.listener.threads)},
      strand_{net::make_strand(io_)},
      signals_{io_, SIGTERM, SIGINT, SIGHUP},
      background_{strand_, log()} {
  if (pattern_three(config_)) {
    signals_.add(SIGUSR1);
    signals_.add(SIGUSR2);
  }
  auto credentials = read_credentials(config_.auth);
  try {
    engine_ = std::make_unique<engine::engine>(strand_, config_, clock_, std::move(credentials),
                                               &registry_);
  } catch (const std::invalid_argument& e) {
    throw startup_error{exit_code::bad_config, std::string{"[vault] "} + e.what()};
  }
  handler_ = std::make_unique<proxy::forwarding_handler>(
      strand_, config_.listener.threads > 1,
      proxy::engine_parts{.upstream = engine_->upstream(),
                          .tokens = engine_->tokens(),
                          .cache = engine_->cache(),
                          .leases = engine_->leases(),
                          .lease_stats = engine_->lease_stats(),
                          .registry = registry_,
                          .clock = clock_,
                          .gate = &engine_->connection().gate()},
      [this] { net::post(strand_, [this] { request_stop(exit_code::ok); }); });
  auto audit = proxy::audit_log::open(config_.audit, registry_);
  if (!audit) {
    throw startup_error{exit_code::bad_config, "[audit] cannot open " + config_.audit.destination +
                                                   ": " + audit.error().message()};
  }
  audit_ = std::move(*audit);
  server_ = std::make_unique<proxy::server>(
      io_.get_executor(), config_.listener, config_.proxy,
      proxy::listener_limits{.max_connections = config_.listener.max_connections}, *handler_,
      registry_, config_.clients, audit_.get());
  handler_->set_client_counts([this] { return server_->client_counts(); });
  if (pattern_three(config_)) {
    supervisor_ = std::make_unique<supervisor::supervisor>(strand_, config_);
    engine_->on_change(
        [this](bool /*dynamic*/, const std::string& path, const nlohmann::json& data) {
          supervisor_->path_changed(path, data);
        });
  }
}

sidecar_daemon::~sidecar_daemon() = default;

int sidecar_daemon::run() {
  log()->info("vault-sidecar {} starting with {} (Vault at {})", core::version, config_.file,
              config_.vault.address);
  wait_for_signal();
  net::co_spawn(strand_, start(), [this](const std::exception_ptr& failure) {
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      log()->error("start-up failed: {}", e.what());
    }
    request_stop(exit_code::internal);
  });

  std::vector<std::thread> extra;
  for (int i = 1; i < config_.listener.threads; ++i) extra.emplace_back([this] { io_.run(); });
  // Returns once everything has wound down after a stop, or when the watchdog armed by
  // request_stop() gives up on what is still pending.
  io_.run();
  stop_watchdog_.disarm();
  for (auto& thread : extra) thread.join();
  const int code = exit_code_.value_or(exit_code::ok);
  log()->info("vault-sidecar stopped (exit code {})", code);
  return code;
}

net::awaitable<void> sidecar_daemon::start() {
  // The listener comes first, so a startup probe sees 503 `starting` instead of a refusal.
  if (auto listening = server_->start(); !listening) {
    log()->error("cannot open the listener: {}", listening.error().message());
    request_stop(exit_code::internal);
    co_return;
  }
  if (const auto endpoint = server_->tcp_endpoint()) {
    log()->info("listening on {}:{}", endpoint->address().to_string(), endpoint->port());
  }
  if (!config_.listener.unix_socket.empty()) {
    log()->info("listening on unix socket {}", config_.listener.unix_socket);
  }

  if (auto login = co_await engine_->tokens().async_login(); !login) {
    const auto& token = engine_->tokens().stats();
    log()->error("login failed: {} ({})", login.error().message(), token.last_error);
    request_stop(login_exit_code(login.error()));
    co_return;
  }
  engine_->run_background([this](const result<void>& outcome) { token_ended(outcome); });

  co_await prefetch_secrets();
  if (supervisor_) {
    co_await hand_secrets_to_supervisor();
    // The cache keeps refreshing them for the supervisor even when no local client reads them.
    for (const auto& [name, path] : config_.secrets) {
      if (!lease::is_dynamic_path(path)) engine_->keep_warm(path);
    }
    // Not a cancellable background task: at shutdown the supervisor stops the app gracefully
    // (restart_stop_signal, then SIGKILL after restart_grace) and supervise() then returns.
    net::co_spawn(strand_, supervise(), [](const std::exception_ptr& e) {
      if (e) log()->error("supervisor failed");
    });
  }
  handler_->mark_started();
  const auto status = token_status_line(engine_->tokens().stats());
  notifier_.ready(status);
  log()->info("ready: {}", status);
  if (notifier_.watchdog_interval()) background_.spawn("watchdog", watchdog());
}

net::awaitable<void> sidecar_daemon::prefetch_secrets() {
  std::vector<std::string> dynamic;
  for (const auto& [name, path] : config_.secrets) {
    if (lease::is_dynamic_path(path)) {
      dynamic.push_back(path);
      continue;
    }
    auto warmed = co_await engine_->cache().async_get("/v1/" + path);
    if (!warmed) {
      log()->error("[secrets] {}: cannot read {}: {}", name, path, warmed.error().message());
    } else if (warmed->status() != 200) {
      log()->error("[secrets] {}: reading {} answered {}", name, path, warmed->status());
    }
  }
  if (dynamic.empty()) co_return;
  for (const auto& failure : co_await engine_->leases().async_prefetch(std::move(dynamic))) {
    log()->error("[secrets] cannot obtain {}: {}", failure.path, failure.reason);
  }
}

net::awaitable<void> sidecar_daemon::hand_secrets_to_supervisor() {
  // The change subscriptions may already have delivered these; secret_changed() ignores a value
  // it holds, so giving each once more here only fills what a subscription did not.
  for (const auto& [name, path] : config_.secrets) {
    if (lease::is_dynamic_path(path)) {
      auto creds = co_await engine_->leases().async_get(path);
      if (!creds || creds->status != 200) continue;
      if (auto data = supervisor::secret_map_of(creds->body->reveal())) {
        supervisor_->secret_changed(name, std::move(*data));
      }
      continue;
    }
    auto kv = co_await engine_->cache().async_get("/v1/" + path);
    if (!kv || kv->status() != 200) continue;
    if (auto data = kv->answer->data(); !data.is_null()) {
      supervisor_->secret_changed(name, std::move(data));
    }
  }
}

net::awaitable<void> sidecar_daemon::supervise() {
  auto outcome = co_await supervisor_->async_run();
  if (!outcome) {
    if (outcome.error() == net::error::operation_aborted) co_return;
    log()->error("exec: the app could not be brought up: {}", outcome.error().message());
    // A template or [env] value that cannot be rendered is a configuration problem (78); a
    // file that cannot be written or an app that cannot be started is the host's (70).
    const bool config_problem = outcome.error() == supervisor::errc::render_failed ||
                                outcome.error() == supervisor::errc::template_unreadable;
    request_stop(config_problem ? exit_code::bad_config : exit_code::internal);
    co_return;
  }
  log()->info("exec: the app exited with code {}; stopping", *outcome);
  request_stop(*outcome);
}

void sidecar_daemon::token_ended(const result<void>& outcome) {
  if (outcome) {
    // serve_cached: the token is gone and Vault is no longer called; cached answers go on.
    log()->warn("token lost: serving cached secrets only (auth.on_renew_failure = serve_cached)");
    notifier_.status("degraded: token lost, serving cached secrets");
    return;
  }
  if (outcome.error() == auth::errc::token_lost) {
    log()->error("token lost and auth.on_renew_failure = exit: stopping ({})",
                 engine_->tokens().stats().last_error);
    request_stop(exit_code::token_lost);
  }
}

net::awaitable<void> sidecar_daemon::watchdog() {
  steady_timer timer{strand_};
  for (;;) {
    timer.expires_after(*notifier_.watchdog_interval());
    if (auto [ec] = co_await timer.async_wait(); ec) co_return;
    // Ping only while healthy: a sidecar that lost its token should be restarted by systemd.
    const auto token = engine_->tokens().stats();
    if (token.status == auth::token_status::ok) {
      notifier_.watchdog();
      notifier_.status(token_status_line(token));
    }
  }
}

void sidecar_daemon::wait_for_signal() {
  signals_.async_wait([this](const error_code& ec, int number) {
    if (ec) return;
    net::post(strand_, [this, number] {
      if (supervisor_) {
        // Pattern 3: the app gets the signal; a stop signal ends supervision, and the app's
        // exit then stops the sidecar with the app's exit code.
        if (number == SIGTERM || number == SIGINT) {
          log()->info("signal {}: stopping the app", number == SIGTERM ? "SIGTERM" : "SIGINT");
          supervisor_->stop(number);
          if (!engine_ || engine_->tokens().status() == auth::token_status::starting) {
            request_stop(exit_code::ok);
          }
          return;
        }
        supervisor_->forward_signal(number);
        wait_for_signal();
        return;
      }
      if (number == SIGHUP) {
        reload();
        wait_for_signal();
        return;
      }
      log()->info("signal {} received: stopping", number == SIGTERM ? "SIGTERM" : "SIGINT");
      request_stop(exit_code::ok);
    });
  });
}

void sidecar_daemon::reload() {
  auto reloaded = config::load(config_.file, config::process_environment());
  if (!reloaded) {
    log()->error("SIGHUP: {} has {} problem(s); keeping the running configuration", config_.file,
                 reloaded.error().size());
    for (const auto& problem : reloaded.error()) log()->error("SIGHUP: {}", problem.to_string());
    return;
  }
  // logrotate moved the audit file away and sends SIGHUP: the next lines go to a new file.
  if (audit_) audit_->reopen();
  const auto plan = plan_reload(live_, *reloaded);
  // Everything applied here lives on this strand (cache) or is safe from any thread (logging,
  // the listener's policy), and none of it touches the token: no new login.
  if (plan.log) {
    spdlog::level::level_enum level{};
    (void)core::parse_log_level(reloaded->log.level, level);
    core::configure_logging(level, reloaded->log.format);
    live_.log = reloaded->log;
  }
  if (plan.cache) {
    engine_->cache().apply(reloaded->cache);
    live_.cache = reloaded->cache;
  }
  if (plan.request_policy) {
    server_->apply_policy(reloaded->proxy, reloaded->listener.require_request_header,
                          reloaded->clients);
    live_.proxy = reloaded->proxy;
    live_.clients = reloaded->clients;
    live_.listener.require_request_header = reloaded->listener.require_request_header;
  }
  if (plan.changes_nothing()) {
    log()->info("SIGHUP: {} re-read; nothing changed", config_.file);
    return;
  }
  if (!plan.applied.empty()) {
    log()->info("SIGHUP: applied {}", fmt::join(plan.applied, ", "));
  }
  // Names only, never values: a changed key may be a path to credentials.
  if (!plan.needs_restart.empty()) {
    log()->warn("SIGHUP: changed but applied only at restart (running with the old values): {}",
                fmt::join(plan.needs_restart, ", "));
  }
}

void sidecar_daemon::request_stop(int exit_code) {
  if (stopping_) return;
  stopping_ = true;
  exit_code_ = exit_code;
  stop_watchdog_.arm(stop_budget(config_), [] {
    log()->warn("shutdown: work still pending after the grace period; stopping now");
  });
  net::co_spawn(strand_, shut_down(), [](const std::exception_ptr& e) {
    if (e) log()->error("shutdown failed");
  });
}

net::awaitable<void> sidecar_daemon::shut_down() {
  notifier_.stopping();
  server_->stop();
  // The app may already have exited (that is often why we stop); only a running one is told.
  if (supervisor_ && supervisor_->child_pid()) supervisor_->stop(config_.exec.restart_stop_signal);
  background_.cancel_all();
  engine_->stop_background();
  error_code ignored;
  signals_.cancel(ignored);
  if (config_.database.revoke_on_shutdown && engine_->tokens().current_token() != nullptr) {
    co_await engine_->leases().async_revoke_all(10s);
  } else {
    engine_->leases().stop();
  }
  // Everything now winds down on its own: sessions finish within the listener's grace period,
  // background loops end at their next wait, and run() returns once the io_context is out of
  // work (run() also enforces a last-resort deadline).
}

int run_daemon(const config::config& cfg) {
  harden_process(cfg.security);
  raise_open_file_limit(cfg.listener.max_connections);
  try {
    sidecar_daemon daemon{cfg};
    return daemon.run();
  } catch (const startup_error& e) {
    log()->error("{}", e.what());
    return e.exit_code();
  }
}

}  // namespace sidecar::app
