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
  health,   ///< ask the running sidecar's /sidecar/v1/health (container HEALTHCHECK)
  version,  ///< print `vault-sidecar <version>`
  help,     ///< print the usage
};

/// What the command line asks for.
struct command_line {
  action what = action::run;
  std::string config_path{default_config_path};
  bool online = false;  ///< `check --online`: also log in and ask Vault what the role can read

  friend bool operator==(const command_line&, const command_line&) = default;
};

/// Why the command line cannot be understood; printed with the usage, exit code 64.
struct usage_error {
  std::string message;
};

/// Pure: `[check [--online] | health] [--config FILE | --config=FILE] | --version | --help | -h`.
/// `arguments` excludes the program name. `check` or `health` must come first, and `--online`
/// goes only with `check`; --help wins over everything, then --version, so
/// `vault-sidecar check --help` shows the usage.
[[nodiscard]] std::variant<command_line, usage_error> parse_command_line(
    std::span<const std::string_view> arguments);

/// The usage text, ending with a newline.
[[nodiscard]] std::string usage();

}  // namespace sidecar::app
