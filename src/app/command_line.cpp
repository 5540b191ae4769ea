#include <sidecar/app/command_line.hpp>

#include <optional>

namespace sidecar::app {

std::variant<command_line, usage_error> parse_command_line(
    std::span<const std::string_view> arguments) {
  command_line parsed;
  bool help = false;
  bool version = false;
  std::optional<std::string> config_path;
  const auto set_config = [&](std::string_view path) -> std::optional<usage_error> {
    if (path.empty()) return usage_error{"--config needs a FILE"};
    if (config_path) return usage_error{"--config given twice"};
    config_path = std::string{path};
    return std::nullopt;
  };

  for (std::size_t i = 0; i < arguments.size(); ++i) {
    const auto argument = arguments[i];
    std::optional<usage_error> error;
    if (argument == "check" && i == 0) {
      parsed.what = action::check;
    } else if (argument == "health" && i == 0) {
      parsed.what = action::health;
    } else if (argument == "--online") {
      if (parsed.what != action::check) return usage_error{"--online goes only with check"};
      parsed.online = true;
    } else if (argument == "--help" || argument == "-h") {
      help = true;
    } else if (argument == "--version") {
      version = true;
    } else if (argument == "--config") {
      if (i + 1 == arguments.size()) return usage_error{"--config needs a FILE"};
      error = set_config(arguments[++i]);
    } else if (argument.starts_with("--config=")) {
      error = set_config(argument.substr(std::string_view{"--config="}.size()));
    } else if (argument.starts_with("-")) {
      return usage_error{"unknown option " + std::string{argument}};
    } else {
      return usage_error{"unexpected argument \"" + std::string{argument} + "\""};
    }
    if (error) return *error;
  }

  if (help) {
    parsed.what = action::help;
  } else if (version) {
    parsed.what = action::version;
  }
  if (config_path) parsed.config_path = std::move(*config_path);
  return parsed;
}

std::string usage() {
  return "usage: vault-sidecar [--config FILE]          run the sidecar\n"
         "       vault-sidecar check [--config FILE]    validate FILE and print the effective "
         "configuration\n"
         "       vault-sidecar check --online [--config FILE]\n"
         "                                              also log in and report which [proxy] "
         "allow\n"
         "                                              prefixes and [secrets] the role can read\n"
         "       vault-sidecar health [--config FILE]   ask the running sidecar's "
         "/sidecar/v1/health\n"
         "       vault-sidecar --version\n"
         "       vault-sidecar --help\n"
         "FILE defaults to " +
         std::string{default_config_path} +
         ".\n"
         "Exit codes: 0 ok, 64 usage, 69 Vault unreachable at start, 70 internal error,\n"
         "75 token lost, 77 login refused, 78 bad configuration; check --online: 1 when a\n"
         "[secrets] entry is unreadable; health: 1 when the sidecar is not ready or not there.\n";
}

}  // namespace sidecar::app
