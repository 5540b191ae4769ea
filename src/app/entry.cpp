#include <sidecar/app/check_command.hpp>
#include <sidecar/app/command_line.hpp>
#include <sidecar/app/daemon.hpp>
#include <sidecar/app/entry.hpp>
#include <sidecar/app/exit_code.hpp>
#include <sidecar/app/get_command.hpp>
#include <sidecar/app/health_command.hpp>
#include <sidecar/app/online_check.hpp>
#include <sidecar/core/log.hpp>
#include <sidecar/core/version.hpp>

#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace sidecar::app {

int run_program(std::span<const std::string_view> arguments, const config::env_lookup& env,
                std::ostream& out, std::ostream& err) {
  const auto parsed = parse_command_line(arguments);
  if (const auto* error = std::get_if<usage_error>(&parsed)) {
    err << "vault-sidecar: " << error->message << '\n' << usage();
    return exit_code::usage;
  }
  const auto& command = std::get<command_line>(parsed);
  switch (command.what) {
    case action::help:
      out << usage();
      return exit_code::ok;
    case action::version:
      out << "vault-sidecar " << core::version << '\n';
      return exit_code::ok;
    case action::check:
      if (command.online) return run_online_check(command.config_path, env, out, err);
      return run_check(command.config_path, env, out, err);
    case action::health:
      return run_health(command.config_path, env, out, err);
    case action::get:
      return run_get(command, env, out, err);
    case action::run:
      break;
  }

  const auto loaded = config::load(command.config_path, env);
  if (!loaded) {
    print_problems(loaded.error(), err);
    return exit_code::bad_config;
  }
  spdlog::level::level_enum level{};
  // The level was validated by config::load; a failure here is a broken invariant.
  if (!core::parse_log_level(loaded->log.level, level)) return exit_code::internal;
  core::configure_logging(level, loaded->log.format);
  return run_daemon(*loaded);
}

int main_entry(int argc, char** argv) {
  try {
    const std::vector<std::string_view> arguments(argv + 1, argv + argc);
    return run_program(arguments, config::process_environment(), std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "vault-sidecar: internal error: " << e.what() << '\n';
    return exit_code::internal;
  }
}

}  // namespace sidecar::app
