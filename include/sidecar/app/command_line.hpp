#pragma once

#include <chrono>
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
  get,      ///< read one secret through the running sidecar (scripts without curl or jq)
  version,  ///< print `vault-sidecar <version>`
  help,     ///< print the usage
};

/// What `get` prints: the data map as JSON, `NAME='value'` lines, or the answer's body.
enum class get_format { json, env, raw };

/// `vault-sidecar get`'s own options, as given (get_command.hpp interprets them).
struct get_options {
  std::string path{};         ///< `kv-demo/sample`, `kv-demo/data/sample` or `/v1/...`
  std::string address{};      ///< --address URL; empty when not given
  std::string unix_socket{};  ///< --unix-socket PATH; empty when not given
  bool config_given = false;  ///< --config named the file (a missing file is then an error)
  std::string field{};        ///< --field NAME; empty: print by `format`
  get_format format = get_format::json;
  std::chrono::milliseconds timeout{5000};  ///< --timeout: the whole read, every connection

  friend bool operator==(const get_options&, const get_options&) = default;
};

/// What the command line asks for.
struct command_line {
  action what = action::run;
  std::string config_path{default_config_path};
  bool online = false;  ///< `check --online`: also log in and ask Vault what the role can read
  get_options get{};    ///< action::get only

  friend bool operator==(const command_line&, const command_line&) = default;
};

/// Why the command line cannot be understood; printed with the usage, exit code 64.
struct usage_error {
  std::string message;
};

/// Pure: `[check [--online] | health] [--config FILE | --config=FILE] | --version | --help | -h`,
/// or `get [--address URL | --unix-socket PATH | --config FILE] [--field NAME | --format
/// json|env|raw] [--timeout DURATION] [--] <path>`. Every option with a value takes it as the next
/// argument or after `=`. `arguments` excludes the program name. `check`, `health` or `get` must
/// come first, `--online` goes only with `check` and the get options only with `get`; --help wins
/// over everything, then --version, so `vault-sidecar check --help` shows the usage.
[[nodiscard]] std::variant<command_line, usage_error> parse_command_line(
    std::span<const std::string_view> arguments);

/// The usage text, ending with a newline.
[[nodiscard]] std::string usage();

}  // namespace sidecar::app
