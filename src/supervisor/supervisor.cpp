#include <sidecar/supervisor/supervisor.hpp>

#include <sidecar/config/values.hpp>
#include <sidecar/core/log.hpp>
#include <sidecar/supervisor/atomic_file.hpp>
#include <sidecar/supervisor/errc.hpp>
#include <sidecar/supervisor/exit_status.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iterator>
#include <stdexcept>

extern "C" char** environ;  // NOLINT: the process environment, as POSIX declares it

namespace sidecar::supervisor {
namespace {

using namespace net::experimental::awaitable_operators;

std::string joined(const std::set<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

/// The [env] variables whose value differs between two renderings, for the log (names only).
std::string changed_variables(const environment_values& before, const environment_values& after) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < after.size(); ++i) {
    if (i >= before.size() || before[i] != after[i]) names.insert(after[i].first);
  }
  return joined(names);
}

std::string duration_text(core::duration value) { return config::format_duration(value); }

}  // namespace

supervisor::supervisor(net::any_io_executor executor, const config::config& cfg,
                       supervisor_options options)
    : executor_{std::move(executor)},
      exec_{cfg.exec},
      secret_paths_{cfg.secrets},
      env_{cfg.env},
      options_{options},
      log_{core::logger("supervisor")},
      wake_{executor_} {
  for (const auto& t : cfg.templates) {
    template_entry entry{t, {}, {}};
    if (!t.command.empty()) {
      auto split = config::split_command(t.command);
      if (!split) {
        throw std::invalid_argument{"[template." + t.name + "] command: " + split.error()};
      }
      entry.command = std::move(*split);
    }
    templates_.push_back(std::move(entry));
  }
}

supervisor::~supervisor() = default;

void supervisor::secret_changed(std::string_view name, nlohmann::json data) {
  const bool known = std::any_of(secret_paths_.begin(), secret_paths_.end(),
                                 [name](const auto& secret) { return secret.first == name; });
  if (!known) {
    cleanse_json(data);
    return;
  }
  if (!secrets_.set(name, std::move(data)) || !running_ || stopping_) return;
  log_->debug("secret {} changed", name);
  changed_.insert(std::string{name});
  if (!reconcile_at_) {
    reconcile_at_ = clock::now() + options_.debounce;
    wake_.cancel();
  }
}

void supervisor::path_changed(std::string_view vault_path, const nlohmann::json& data) {
  for (const auto& name : secret_names_for(secret_paths_, vault_path)) secret_changed(name, data);
}

net::awaitable<result<int>> supervisor::async_run() {
  running_ = true;
  if (auto started = co_await start(); !started) co_return started.error();
  for (;;) {
    wake_.expires_at(next_wake());
    if (app_) {
      auto outcome = co_await (app_->async_wait_exit() || wake_.async_wait());
      if (outcome.index() == 0 && std::get<0>(outcome)) {
        const int code = *std::get<0>(outcome);
        log_->info("the app (pid {}) exited with code {}", app_->pid(), code);
        app_.reset();
        co_return code;
      }
    } else {
      if (stopping_) co_return 0;
      co_await wake_.async_wait();
    }
    // The loop's own wake_.cancel() also ends a wait early; only the cancellation state tells
    // the owner's cancellation apart.
    if ((co_await net::this_coro::cancellation_state).cancelled() != net::cancellation_type::none) {
      co_return make_error_code(net::error::operation_aborted);
    }

    const auto now = clock::now();
    if (stopping_) {
      if (app_ && !killed_ && kill_at_ && now >= *kill_at_) {
        log_->warn("the app (pid {}) is still running {} after the stop signal: sending SIGKILL",
                   app_->pid(), duration_text(exec_.restart_grace));
        app_->signal(SIGKILL);
        killed_ = true;
      }
    } else if (reconcile_at_ && now >= *reconcile_at_) {
      if (auto code = co_await reconcile()) co_return *code;
    }
  }
}

void supervisor::forward_signal(int number) {
  if (!app_) {
    log_->info("{} received while no app is running: not forwarded", config::signal_name(number));
    return;
  }
  log_->info("forwarding {} to the app (pid {})", config::signal_name(number), app_->pid());
  app_->signal(number);
}

void supervisor::stop(int number) {
  if (stopping_) {
    forward_signal(number);
    return;
  }
  stopping_ = true;
  changed_.clear();
  reconcile_at_.reset();
  kill_at_ = clock::now() + exec_.restart_grace;
  if (app_) {
    log_->info("stopping: forwarding {} to the app (pid {}), SIGKILL after {}",
               config::signal_name(number), app_->pid(), duration_text(exec_.restart_grace));
    app_->signal(number);
  }
  wake_.cancel();
}

std::optional<pid_t> supervisor::child_pid() const {
  if (!app_) return std::nullopt;
  return app_->pid();
}

net::awaitable<result<void>> supervisor::start() {
  if (auto loaded = load_sources(); !loaded) co_return loaded.error();
  auto environment = render_environment();
  if (!environment) {
    log_->error("{}", environment.error().message());
    co_return errc::render_failed;
  }
  for (const auto& entry : templates_) {
    auto written = write_template(entry);
    if (!written) co_return written.error();
    if (*written) {
      log_->info("template {}: wrote {}", entry.config.name, entry.config.destination);
      co_await async_run_command(entry);
    }
  }
  if (stopping_) co_return result<void>{};
  if (exec_.command.empty()) {
    log_->info("no [exec] command: keeping {} template file(s) up to date", templates_.size());
    co_return result<void>{};
  }
  if (auto spawned = spawn_app(std::move(*environment)); !spawned) co_return errc::spawn_failed;
  co_return result<void>{};
}

net::awaitable<std::optional<int>> supervisor::reconcile() {
  const auto why = joined(changed_);
  changed_.clear();
  reconcile_at_.reset();
  for (const auto& entry : templates_) {
    auto written = write_template(entry);
    if (written && *written) {
      log_->info("template {}: rewrote {} (secret {} changed)", entry.config.name,
                 entry.config.destination, why);
      co_await async_run_command(entry);
    }
  }
  if (!app_) co_return std::nullopt;
  auto environment = render_environment();
  if (!environment) {
    log_->error("{}; the app keeps running with its current environment",
                environment.error().message());
    co_return std::nullopt;
  }
  if (*environment == app_environment_) co_return std::nullopt;
  const auto variables = changed_variables(app_environment_, *environment);
  if (exec_.restart_on_secret_changes == config::restart_policy::never) {
    log_->info(
        "[env] {} changed (secret {} changed); restart_on_secret_changes = never: the app keeps "
        "its environment",
        variables, why);
    co_return std::nullopt;
  }
  co_return co_await restart(std::move(*environment),
                             fmt::format("[env] {} changed (secret {} changed)", variables, why));
}

net::awaitable<std::optional<int>> supervisor::restart(environment_values environment,
                                                       const std::string& why) {
  log_->info("restarting the app (pid {}): {}; sending {}", app_->pid(), why,
             config::signal_name(exec_.restart_stop_signal));
  app_->signal(exec_.restart_stop_signal);
  steady_timer grace{executor_};
  grace.expires_after(exec_.restart_grace);
  auto outcome = co_await (app_->async_wait_exit() || grace.async_wait());
  std::optional<int> code;
  if (outcome.index() == 0) code = std::get<0>(outcome);
  if (!code) {
    log_->warn("the app (pid {}) did not stop within {}: sending SIGKILL", app_->pid(),
               duration_text(exec_.restart_grace));
    app_->signal(SIGKILL);
    code = co_await app_->async_wait_exit();
  }
  const int stopped_with = code.value_or(128 + SIGKILL);
  log_->info("the app (pid {}) stopped with code {}", app_->pid(), stopped_with);
  app_.reset();
  if (stopping_) co_return stopped_with;  // stop() came during the restart: no new start
  if (auto spawned = spawn_app(std::move(environment)); !spawned) {
    co_return exit_code_of_spawn_failure(spawned.error());
  }
  ++restarts_;
  co_return std::nullopt;
}

net::awaitable<void> supervisor::async_run_command(const template_entry& entry) {
  if (entry.command.empty()) co_return;
  const auto& program = entry.command.front();
  auto command = child_process::spawn(executor_, entry.command, child_environment(environ, {}));
  if (!command) {
    log_->error("template {}: cannot run {}: {}", entry.config.name, program,
                command.error().message());
    co_return;
  }
  steady_timer deadline{executor_};
  deadline.expires_after(options_.command_timeout);
  auto outcome = co_await ((*command)->async_wait_exit() || deadline.async_wait());
  if (outcome.index() == 1) {
    log_->error("template {}: {} still running after {}: killed", entry.config.name, program,
                duration_text(options_.command_timeout));
    co_return;  // the child_process kills and reaps it when it goes
  }
  if (const auto code = std::get<0>(outcome); code && *code != 0) {
    log_->error("template {}: {} failed with code {}", entry.config.name, program, *code);
  } else {
    log_->info("template {}: ran {}", entry.config.name, program);
  }
}

result<void> supervisor::load_sources() {
  for (auto& entry : templates_) {
    std::ifstream file{entry.config.source, std::ios::binary};
    if (!file) {
      log_->error("template {}: cannot read the source {}", entry.config.name, entry.config.source);
      return errc::template_unreadable;
    }
    entry.source.assign(std::istreambuf_iterator<char>{file}, std::istreambuf_iterator<char>{});
  }
  return {};
}

rendered<environment_values> supervisor::render_environment() const {
  environment_values values;
  for (const auto& [name, text] : env_) {
    auto value = render_template(text, secrets_, "env " + name);
    if (!value) return value.error();
    values.emplace_back(name, std::move(*value));
  }
  return values;
}

result<bool> supervisor::write_template(const template_entry& entry) {
  const auto& t = entry.config;
  auto content = render_template(entry.source, secrets_, "template " + t.name);
  if (!content) {
    log_->error("{}; {} keeps its previous content", content.error().message(), t.destination);
    return errc::render_failed;
  }
  auto written = write_file_if_changed(t.destination, content->reveal(), t.perms);
  if (!written) {
    log_->error("template {}: cannot write {}: {}", t.name, t.destination,
                written.error().message());
    return errc::write_failed;
  }
  return *written;
}

result<void> supervisor::spawn_app(environment_values environment) {
  auto started =
      child_process::spawn(executor_, exec_.command, child_environment(environ, environment));
  if (!started) {
    log_->error("cannot start {}: {}", exec_.command.front(), started.error().message());
    return started.error();
  }
  app_ = std::move(*started);
  app_environment_ = std::move(environment);
  killed_ = false;
  log_->info("started {} (pid {})", exec_.command.front(), app_->pid());
  return {};
}

supervisor::clock::time_point supervisor::next_wake() const {
  if (stopping_) return killed_ || !kill_at_ ? clock::time_point::max() : *kill_at_;
  return reconcile_at_.value_or(clock::time_point::max());
}

}  // namespace sidecar::supervisor
