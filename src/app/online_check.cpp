#include <sidecar/app/online_check.hpp>

#include <sidecar/app/startup_rules.hpp>

#include <sidecar/app/check_command.hpp>
#include <sidecar/app/exit_code.hpp>
#include <sidecar/auth/credentials.hpp>
#include <sidecar/auth/errc.hpp>
#include <sidecar/auth/login_request.hpp>
#include <sidecar/auth/token_manager.hpp>
#include <sidecar/core/clock.hpp>
#include <sidecar/core/log.hpp>
#include <sidecar/core/secret_string.hpp>
#include <sidecar/lease/dynamic_secret.hpp>
#include <sidecar/vault/beast_client.hpp>
#include <sidecar/vault/envelope.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <utility>

namespace sidecar::app {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

std::string capabilities_text(const capabilities& caps) {
  if (!caps.error.empty()) return "capabilities unknown: " + caps.error;
  return "capabilities: " + join(caps.granted);
}

/// The capabilities Vault lists for `path` in `object`, if it lists them as an array of strings.
std::optional<std::vector<std::string>> listed(const nlohmann::json& object,
                                               const std::string& path) {
  if (!object.is_object()) return std::nullopt;
  const auto found = object.find(path);
  if (found == object.end() || !found->is_array()) return std::nullopt;
  std::vector<std::string> granted;
  for (const auto& item : *found) {
    if (!item.is_string()) return std::nullopt;
    granted.push_back(item.get<std::string>());
  }
  return granted;
}

/// The credentials are read through the injected environment like the rest of the check. The
/// values are kept as secret_strings (cleansed when the check ends); the pointer handed out
/// views a std::string inside one, which is NUL-terminated.
auth::env_lookup credential_environment(const config::env_lookup& env) {
  auto seen = std::make_shared<std::map<std::string, std::optional<core::secret_string>>>();
  return [env, seen](const char* name) -> const char* {
    auto [entry, inserted] = seen->try_emplace(name);
    if (inserted) {
      if (auto value = env(name)) {
        entry->second.emplace(std::string_view{*value});
        core::cleanse(*value);
      }
    }
    return entry->second ? entry->second->reveal().data() : nullptr;
  };
}

net::awaitable<std::map<std::string, capabilities>> ask_capabilities(
    vault::client& vault, const core::secret_string& token, std::vector<std::string> paths) {
  if (paths.empty()) co_return std::map<std::string, capabilities>{};
  vault::request request{.method = http::verb::post,
                         .target = "/v1/sys/capabilities-self",
                         .body = core::secret_string{nlohmann::json{{"paths", paths}}.dump()},
                         .token = &token,
                         .headers = {}};
  auto answer = co_await vault.async_send(std::move(request));
  if (!answer) {
    std::map<std::string, capabilities> unknown;
    for (const auto& path : paths) {
      unknown[path] =
          capabilities{.granted = {}, .error = "no answer: " + answer.error().message()};
    }
    co_return unknown;
  }
  co_return parse_capabilities(*answer, paths);
}

net::awaitable<read_outcome> read_once(vault::client& vault, const core::secret_string& token,
                                       const std::string& path) {
  vault::request request{.method = http::verb::get,
                         .target = "/v1/" + path,
                         .body = {},
                         .token = &token,
                         .headers = {}};
  auto answer = co_await vault.async_send(std::move(request));
  if (!answer) co_return read_outcome{.status = 0, .reason = answer.error().message()};
  // The body (the secret) is dropped unread; its buffer is cleansed on release.
  if (answer->status >= 200 && answer->status <= 299) {
    co_return read_outcome{.status = answer->status, .reason = {}};
  }
  co_return read_outcome{.status = answer->status, .reason = vault::parse_error(*answer).summary()};
}

/// Empty on success, else why the token could not be revoked.
net::awaitable<std::string> revoke_self(vault::client& vault, const core::secret_string& token) {
  vault::request request{.method = http::verb::post,
                         .target = "/v1/auth/token/revoke-self",
                         .body = {},
                         .token = &token,
                         .headers = {}};
  auto answer = co_await vault.async_send(std::move(request));
  if (!answer) co_return answer.error().message();
  if (answer->status >= 200 && answer->status <= 299) co_return std::string{};
  co_return vault::parse_error(*answer).summary();
}

/// Login, the questions, the reads, the revocation. Fills `rows` once logged in.
net::awaitable<int> check_access(const config::config& cfg, vault::client& vault,
                                 auth::token_manager& tokens, std::vector<access_row>& rows,
                                 std::ostream& err) {
  if (auto login = co_await tokens.async_login(); !login) {
    err << "vault-sidecar check: login failed: " << login.error().message() << " ("
        << tokens.stats().last_error << ")\n";
    co_return login_exit_code(login.error());
  }
  const auto& token = tokens.token();

  std::vector<std::string> paths;
  const auto ask = [&paths](std::string path) {
    if (std::find(paths.begin(), paths.end(), path) == paths.end()) {
      paths.push_back(std::move(path));
    }
  };
  for (const auto& pattern : cfg.proxy.allow) ask(capability_path(pattern));
  for (const auto& [name, path] : cfg.secrets) ask(path);
  const auto caps = co_await ask_capabilities(vault, token, paths);

  for (const auto& pattern : cfg.proxy.allow) {
    rows.push_back(allow_row(pattern, caps.at(capability_path(pattern))));
  }
  for (const auto& [name, path] : cfg.secrets) {
    const auto read = co_await read_once(vault, token, path);
    rows.push_back(secret_row(name, path, caps.at(path), read, lease::is_dynamic_path(path)));
  }

  // A token_file token belongs to whoever created it: the check used it and leaves it alone.
  if (cfg.auth.kind == config::auth_method::token_file) co_return online_exit_code(rows);
  if (const auto why = co_await revoke_self(vault, token); !why.empty()) {
    err << "vault-sidecar check: warning: could not revoke the check's token (" << why
        << "); it lapses at the end of its TTL\n";
  }
  co_return online_exit_code(rows);
}

}  // namespace

std::string capability_path(std::string_view allow_pattern) {
  auto path = allow_pattern.substr(0, allow_pattern.find('*'));
  if (path.starts_with("/v1/")) {
    path.remove_prefix(4);
  } else if (path.starts_with('/')) {
    path.remove_prefix(1);
  }
  return std::string{path};
}

bool grants_read(const std::vector<std::string>& granted) {
  return std::any_of(granted.begin(), granted.end(),
                     [](const std::string& c) { return c == "read" || c == "root"; });
}

std::map<std::string, capabilities> parse_capabilities(const vault::response& answer,
                                                       const std::vector<std::string>& paths) {
  std::map<std::string, capabilities> out;
  const auto fail_all = [&](const std::string& why) {
    for (const auto& path : paths) out[path] = capabilities{.granted = {}, .error = why};
    return out;
  };
  if (answer.status < 200 || answer.status > 299) {
    return fail_all("capabilities-self answered " + vault::parse_error(answer).summary());
  }
  const auto body = nlohmann::json::parse(answer.body.reveal(), nullptr, false);
  if (!body.is_object()) return fail_all("capabilities-self answered no JSON object");
  const auto data = body.find("data");
  for (const auto& path : paths) {
    auto granted = data != body.end() ? listed(*data, path) : std::nullopt;
    if (!granted) granted = listed(body, path);
    out[path] = granted ? capabilities{.granted = std::move(*granted), .error = {}}
                        : capabilities{.granted = {}, .error = "not in capabilities-self's answer"};
  }
  return out;
}

access_row allow_row(std::string_view pattern, const capabilities& caps) {
  return access_row{.source = "allow " + std::string{pattern},
                    .path = capability_path(pattern),
                    .readable = caps.error.empty() && grants_read(caps.granted),
                    .reason = capabilities_text(caps),
                    .required = false};
}

access_row secret_row(std::string_view name, std::string_view path, const capabilities& caps,
                      const read_outcome& read, bool dynamic) {
  std::string reason;
  const bool readable = read.status == 200;
  if (readable) {
    reason = dynamic ? "read 200 (new credentials, revoked with the check's token)" : "read 200";
  } else if (read.status == 0) {
    reason = "no answer: " + read.reason;
  } else if (read.reason.empty()) {
    reason = "read answered " + std::to_string(read.status) + " without a secret";
  } else {
    reason = "read " + read.reason;
  }
  reason += "; " + capabilities_text(caps);
  return access_row{.source = "secret " + std::string{name},
                    .path = std::string{path},
                    .readable = readable,
                    .reason = std::move(reason),
                    .required = true};
}

std::string format_table(const std::vector<access_row>& rows) {
  std::size_t source_width = 6;  // "SOURCE"
  std::size_t path_width = 4;    // "PATH"
  std::size_t required = 0;
  std::size_t unreadable = 0;
  for (const auto& row : rows) {
    source_width = std::max(source_width, row.source.size());
    path_width = std::max(path_width, row.path.size());
    if (row.required) {
      ++required;
      if (!row.readable) ++unreadable;
    }
  }
  const auto line = [&](std::string_view source, std::string_view path, std::string_view readable,
                        std::string_view reason) {
    std::string text{source};
    text.append(source_width - source.size() + 2, ' ');
    text += path;
    text.append(path_width - path.size() + 2, ' ');
    text += readable;
    text.append(std::string_view{"READABLE"}.size() - readable.size() + 2, ' ');
    text += reason;
    return text + '\n';
  };
  std::string table = line("SOURCE", "PATH", "READABLE", "REASON");
  for (const auto& row : rows) {
    table += line(row.source, row.path, row.readable ? "yes" : "no", row.reason);
  }
  if (unreadable == 0) {
    table += "all " + std::to_string(required) + " [secrets] entries are readable\n";
  } else {
    table += std::to_string(unreadable) + " of " + std::to_string(required) +
             " [secrets] entries are not readable\n";
  }
  return table;
}

int online_exit_code(const std::vector<access_row>& rows) {
  const bool failed = std::any_of(rows.begin(), rows.end(), [](const access_row& row) {
    return row.required && !row.readable;
  });
  return failed ? secrets_unreadable : exit_code::ok;
}

int run_online_check(const std::string& config_path, const config::env_lookup& env,
                     std::ostream& out, std::ostream& err) {
  const auto loaded = config::load(config_path, env);
  if (!loaded) {
    print_problems(loaded.error(), err);
    return exit_code::bad_config;
  }
  const config::config& cfg = *loaded;
  spdlog::level::level_enum level{};
  // The level was validated by config::load; a failure here is a broken invariant.
  if (!core::parse_log_level(cfg.log.level, level)) return exit_code::internal;
  core::configure_logging(level, cfg.log.format);

  // A response-wrapped secret_id is single use: logging in here would spend it and leave the
  // daemon nothing to unwrap. The offline checks passed; say why the online ones are skipped.
  if (cfg.auth.kind == config::auth_method::approle &&
      !cfg.auth.secret_id_response_wrapping_path.empty()) {
    out << "; " << cfg.file << ": valid; not logged in: the secret_id is response-wrapped "
        << "(single use), and check --online would spend it\n";
    return exit_code::ok;
  }
  // The daemon still needs the secret_id file after this check.
  auto auth_config = cfg.auth;
  auth_config.remove_secret_id_file_after_reading = false;
  auto credentials = auth::load_credentials(auth_config, credential_environment(env));
  if (!credentials) {
    err << "vault-sidecar check: cannot read the " << auth::method_title(auth_config.kind)
        << " credentials: " << credentials.error().message() << '\n';
    return exit_code::bad_config;
  }

  net::io_context io;
  core::system_clock clock;
  std::unique_ptr<vault::beast_client> upstream;
  try {
    upstream = std::make_unique<vault::beast_client>(io.get_executor(), cfg.vault, clock,
                                                     core::make_random_source());
  } catch (const std::invalid_argument& e) {
    err << "vault-sidecar check: [vault] " << e.what() << '\n';
    return exit_code::bad_config;
  }
  auth::token_manager tokens{*upstream, clock, auth_config, std::move(*credentials)};

  std::vector<access_row> rows;
  std::optional<int> code;
  net::co_spawn(io, check_access(cfg, *upstream, tokens, rows, err),
                [&code](const std::exception_ptr& failure, int result) {
                  if (failure) std::rethrow_exception(failure);  // out of run(): exit 70
                  code = result;
                });
  io.run();
  if (!code) return exit_code::internal;
  if (*code == exit_code::ok || *code == secrets_unreadable) {
    out << "; " << cfg.file << ": valid; logged in to " << cfg.vault.address << " with "
        << auth::method_title(cfg.auth.kind) << " (auth/" << cfg.auth.mount
        << "); what the role can read:\n"
        << format_table(rows);
  }
  return *code;
}

}  // namespace sidecar::app
