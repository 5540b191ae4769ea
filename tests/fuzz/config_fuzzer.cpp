// libFuzzer target: the configuration parser (src/config/: the INI document, the value grammars
// and config::parse with its environment overrides), which reads an operator's file at start-up.
//
// Input: the INI text, optionally followed by a NUL byte and `NAME=VALUE` lines that make up the
// environment (VAULT_ADDR, VAULT_SKIP_VERIFY, ...).
//
// Invariants checked (a violation aborts, which libFuzzer reports as a crash):
//  - parse never throws; a refusal lists at least one problem, each with a reason, in the
//    documented order (sort_problems leaves it unchanged);
//  - an accepted configuration round-trips its validated values: every duration through
//    format_duration, the exec command through join_command, the stop signal through
//    signal_name; its addresses and fractions pass their own checks again;
//  - the value grammars, applied to the whole input, read back what they print.

#include "require.hpp"

#include <sidecar/config/ini_document.hpp>
#include <sidecar/config/parser.hpp>
#include <sidecar/config/problem.hpp>
#include <sidecar/config/values.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace {

using namespace sidecar;

using fuzz::require;

void check_duration(core::duration value) {
  const auto again = config::parse_duration(config::format_duration(value));
  require(again.has_value() && *again == value, "a configured duration round-trips");
}

void check_accepted(const config::config& cfg) {
  for (const auto value :
       {cfg.vault.request_timeout, cfg.auth.check_interval, cfg.auth.login_timeout, cfg.cache.ttl,
        cfg.cache.refresh_interval, cfg.cache.max_stale, cfg.exec.restart_grace}) {
    check_duration(value);
  }
  if (!cfg.exec.command.empty()) {
    const auto again = config::split_command(config::join_command(cfg.exec.command));
    require(again.has_value() && *again == cfg.exec.command, "the exec command round-trips");
  }
  const auto signal = config::parse_signal(config::signal_name(cfg.exec.restart_stop_signal));
  require(signal.has_value() && *signal == cfg.exec.restart_stop_signal,
          "the stop signal round-trips");
  require(!config::check_vault_address(cfg.vault.address), "vault.address passes its check");
  require(cfg.listener.address.empty() || !config::check_listener_address(cfg.listener.address),
          "listener.address passes its check");
  require(cfg.auth.renew_at > 0 && cfg.auth.renew_at < 1, "auth.renew_at is in (0, 1)");
  require(cfg.database.renew_at > 0 && cfg.database.renew_at < 1, "database.renew_at is in (0, 1)");
  require(cfg.listener.socket_mode <= 0777, "listener.socket_mode is a mode");
  for (const auto& t : cfg.templates) require(t.perms <= 0777, "template perms is a mode");
}

void check_refused(const std::vector<config::problem>& problems) {
  require(!problems.empty(), "a refusal lists its problems");
  for (const auto& p : problems) {
    require(!p.reason.empty(), "a problem has a reason");
    require(!p.to_string().empty(), "a problem prints");
  }
  auto sorted = problems;
  config::sort_problems(sorted);
  require(sorted == problems, "problems come sorted");
}

// The grammars on arbitrary text: whatever they accept, they print back the same way.
void check_grammars(std::string_view text) {
  if (const auto d = config::parse_duration(text)) check_duration(*d);
  if (const auto words = config::split_command(text)) {
    const auto again = config::split_command(config::join_command(*words));
    require(again.has_value() && *again == *words, "split_command reads join_command back");
  }
  if (const auto signal = config::parse_signal(text)) {
    require(config::signal_name(*signal) == text, "signal_name prints the parsed name");
  }
  if (const auto list = config::parse_list(text)) {
    for (const auto& item : *list) require(!item.empty(), "a list item is not empty");
  }
  if (const auto fraction = config::parse_fraction(text)) {
    require(*fraction > 0 && *fraction < 1, "a fraction is in (0, 1)");
  }
  if (const auto mode = config::parse_mode(text)) require(*mode <= 0777, "a mode is <= 0777");
  if (const auto whole = config::parse_whole(text, 1, 65535)) {
    require(*whole >= 1 && *whole <= 65535, "a whole number is within its bounds");
  }
  (void)config::parse_bool(text);
  (void)config::parse_env_bool(text);
  (void)config::check_listener_address(text);
  (void)config::check_vault_address(text);
  (void)config::template_references(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input{reinterpret_cast<const char*>(data), size};
  const auto split = input.find('\0');
  const auto text = input.substr(0, split);

  std::map<std::string, std::string, std::less<>> environment;
  if (split != std::string_view::npos) {
    auto lines = input.substr(split + 1);
    while (!lines.empty()) {
      const auto end = lines.find('\n');
      const auto line = lines.substr(0, end);
      lines = end == std::string_view::npos ? std::string_view{} : lines.substr(end + 1);
      const auto equals = line.find('=');
      if (equals == std::string_view::npos) continue;
      environment[std::string{line.substr(0, equals)}] = std::string{line.substr(equals + 1)};
    }
  }
  const config::env_lookup env = [&](std::string_view name) -> std::optional<std::string> {
    const auto it = environment.find(name);
    if (it == environment.end()) return std::nullopt;
    return it->second;
  };

  const std::string file = "fuzz.ini";
  (void)config::parse_ini(text, file);
  const auto loaded = config::parse(text, file, env);
  if (loaded) {
    require(loaded->file == file, "the config names its file");
    check_accepted(*loaded);
  } else {
    check_refused(loaded.error());
  }
  check_grammars(text);
  return 0;
}
