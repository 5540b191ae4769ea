#pragma once

#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace sidecar::app {

inline constexpr std::string_view default_config_path = "/etc/vault-sidecar/vault-sidecar.ini";

enum class action {
  run,      ///< the daemon
  check,    ///< validate the configuration and print the effective values
  version,  ///< print `vault-sidecar <version>`
  help,     ///< print the usage
};

/// What the command line asks for.
struct command_line {
  action what = action::run;
  std::string config_path{default_config_path};

  friend bool operator==(const command_line&, const command_line&) = default;
};

/// Why the command line cannot be understood; printed with the usage, exit code 64.
struct usage_error {
  std::string message;
};

/// Pure: `[check] [--config FILE | --config=FILE] | --version | --help | -h`. `arguments`
/// excludes the program name. `check` must come first; --help wins over everything, then
/// --version, so `vault-sidecar check --help` shows the usage.
[[nodiscard]] std::variant<command_line, usage_error> parse_command_line(
    std::span<const std::string_view> arguments);

/// The usage text, ending with a newline.
[[nodiscard]] std::string usage();

}  // namespace sidecar::app
