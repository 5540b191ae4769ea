#include <sidecar/app/command_line.hpp>

#include <sidecar/config/values.hpp>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

namespace sidecar::app {
namespace {

/// An option that takes a value, and the word for that value in messages.
struct valued_option {
  std::string_view name;
  std::string_view value_name;
};

constexpr std::array<valued_option, 6> valued_options{{
    {"--config", "FILE"},
    {"--address", "URL"},
    {"--unix-socket", "PATH"},
    {"--field", "NAME"},
    {"--format", "json|env|raw"},
    {"--timeout", "DURATION"},
}};

/// The valued option `argument` spells as `--name` or `--name=value`, if any.
const valued_option* find_valued_option(std::string_view argument) {
  for (const auto& option : valued_options) {
    if (argument == option.name) return &option;
    if (argument.starts_with(option.name) && argument.size() > option.name.size() &&
        argument[option.name.size()] == '=') {
      return &option;
    }
  }
  return nullptr;
}

std::optional<action> subcommand(std::string_view argument) {
  if (argument == "check") return action::check;
  if (argument == "health") return action::health;
  if (argument == "get") return action::get;
  return std::nullopt;
}

std::optional<usage_error> set_format(get_options& get, std::string_view value) {
  if (value == "json") {
    get.format = get_format::json;
  } else if (value == "env") {
    get.format = get_format::env;
  } else if (value == "raw") {
    get.format = get_format::raw;
  } else {
    return usage_error{"--format must be json, env or raw, not \"" + std::string{value} + "\""};
  }
  return std::nullopt;
}

std::optional<usage_error> set_timeout(get_options& get, std::string_view value) {
  const auto parsed = config::parse_duration(value);
  if (!parsed) return usage_error{"--timeout: " + parsed.error()};
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
  if (timeout.count() <= 0) return usage_error{"--timeout must be at least 1ms"};
  get.timeout = timeout;
  return std::nullopt;
}

/// The command line read so far, one argument at a time.
class parser {
 public:
  std::optional<usage_error> take(std::span<const std::string_view> arguments, std::size_t& i);
  std::variant<command_line, usage_error> finish();

 private:
  std::optional<usage_error> take_positional(std::string_view argument);
  std::optional<usage_error> take_value(const valued_option& option, std::string_view value);
  std::optional<usage_error> take_get_value(const valued_option& option, std::string_view value);
  [[nodiscard]] bool seen(std::string_view name) const {
    return std::find(seen_.begin(), seen_.end(), name) != seen_.end();
  }

  command_line parsed_;
  bool help_ = false;
  bool version_ = false;
  bool options_ended_ = false;          ///< after `get ... --`: every argument is the path
  std::vector<std::string_view> seen_;  ///< the valued options given so far
};

std::optional<usage_error> parser::take(std::span<const std::string_view> arguments,
                                        std::size_t& i) {
  const auto argument = arguments[i];
  if (const auto command = subcommand(argument); command && i == 0) {
    parsed_.what = *command;
  } else if (options_ended_ || !argument.starts_with("-")) {
    return take_positional(argument);
  } else if (argument == "--" && parsed_.what == action::get) {
    options_ended_ = true;
  } else if (argument == "--online") {
    if (parsed_.what != action::check) return usage_error{"--online goes only with check"};
    parsed_.online = true;
  } else if (argument == "--help" || argument == "-h") {
    help_ = true;
  } else if (argument == "--version") {
    version_ = true;
  } else if (const auto* option = find_valued_option(argument)) {
    if (argument != option->name)
      return take_value(*option, argument.substr(option->name.size() + 1));
    if (i + 1 == arguments.size()) {
      return usage_error{std::string{option->name} + " needs a " + std::string{option->value_name}};
    }
    return take_value(*option, arguments[++i]);
  } else {
    return usage_error{"unknown option " + std::string{argument}};
  }
  return std::nullopt;
}

std::optional<usage_error> parser::take_positional(std::string_view argument) {
  if (parsed_.what != action::get || !parsed_.get.path.empty() || argument.empty()) {
    return usage_error{"unexpected argument \"" + std::string{argument} + "\""};
  }
  parsed_.get.path = std::string{argument};
  return std::nullopt;
}

std::optional<usage_error> parser::take_value(const valued_option& option, std::string_view value) {
  const std::string name{option.name};
  if (option.name != "--config" && parsed_.what != action::get) {
    return usage_error{name + " goes only with get"};
  }
  if (value.empty()) return usage_error{name + " needs a " + std::string{option.value_name}};
  if (seen(option.name)) return usage_error{name + " given twice"};
  seen_.push_back(option.name);
  if (option.name == "--config") {
    parsed_.config_path = std::string{value};
    parsed_.get.config_given = parsed_.what == action::get;
    return std::nullopt;
  }
  return take_get_value(option, value);
}

std::optional<usage_error> parser::take_get_value(const valued_option& option,
                                                  std::string_view value) {
  auto& get = parsed_.get;
  if (option.name == "--address") {
    get.address = std::string{value};
  } else if (option.name == "--unix-socket") {
    get.unix_socket = std::string{value};
  } else if (option.name == "--field") {
    get.field = std::string{value};
  } else if (option.name == "--format") {
    return set_format(get, value);
  } else {
    return set_timeout(get, value);
  }
  return std::nullopt;
}

std::variant<command_line, usage_error> parser::finish() {
  if (help_) {
    parsed_.what = action::help;
  } else if (version_) {
    parsed_.what = action::version;
  }
  if (parsed_.what != action::get) return std::move(parsed_);
  const auto listeners =
      std::count_if(valued_options.begin(), valued_options.begin() + 3,
                    [this](const valued_option& option) { return seen(option.name); });
  if (listeners > 1)
    return usage_error{"--address, --unix-socket and --config exclude one another"};
  if (seen("--field") && seen("--format")) {
    return usage_error{"--field and --format exclude one another"};
  }
  if (parsed_.get.path.empty()) return usage_error{"get needs the path of a secret"};
  return std::move(parsed_);
}

}  // namespace

std::variant<command_line, usage_error> parse_command_line(
    std::span<const std::string_view> arguments) {
  parser state;
  for (std::size_t i = 0; i < arguments.size(); ++i) {
    if (auto error = state.take(arguments, i)) return *error;
  }
  return state.finish();
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
         "       vault-sidecar get [--address URL | --unix-socket PATH | --config FILE]\n"
         "                         [--field NAME | --format json|env|raw] [--timeout DURATION] "
         "PATH\n"
         "                                              read one secret through the running "
         "sidecar\n"
         "                                              (PATH: kv-demo/sample, "
         "database/creds/ROLE, /v1/...)\n"
         "       vault-sidecar --version\n"
         "       vault-sidecar --help\n"
         "FILE defaults to " +
         std::string{default_config_path} +
         ".\n"
         "get reads through --address, --unix-socket or --config FILE's listener, else\n"
         "$VAULT_ADDR, else the default FILE's listener if it exists, else "
         "http://127.0.0.1:8100.\n"
         "Exit codes: 0 ok, 64 usage, 69 Vault unreachable at start, 70 internal error,\n"
         "75 token lost, 77 login refused, 78 bad configuration; check --online: 1 when a\n"
         "[secrets] entry is unreadable; health: 1 when the sidecar is not ready or not there;\n"
         "get: 2 no such secret or field, 3 path refused, 69 sidecar unreachable, 1 otherwise.\n";
}

}  // namespace sidecar::app
