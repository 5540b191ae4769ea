#include <sidecar/app/check_command.hpp>
#include <sidecar/app/exit_code.hpp>
#include <sidecar/config/values.hpp>

#include <fmt/format.h>

#include <ostream>
#include <string_view>

namespace sidecar::app {
namespace {

using config::format_duration;

std::string_view yes_no(bool value) { return value ? "true" : "false"; }

std::string mode(unsigned value) {
  std::string octal;
  for (int shift = 6; shift >= 0; shift -= 3) {
    octal += static_cast<char>('0' + ((value >> shift) & 7u));
  }
  return '0' + octal;
}

// Shortest text that from_chars reads back to the same double (0.8, not 0.80000000000000004).
std::string fraction(double value) { return fmt::format("{}", value); }

std::string_view set_or_not(const config::env_lookup& env, std::string_view name) {
  const auto value = env(name);
  return value && !value->empty() ? "set" : "not set";
}

/// Accumulates `key = value  ; note` lines.
class ini_writer {
 public:
  void section(std::string_view name) {
    if (!text_.empty()) text_ += '\n';
    text_ += '[' + std::string{name} + "]\n";
  }
  void key(std::string_view name, std::string_view value, std::string_view note = {}) {
    text_ += std::string{name} + " =";
    if (!value.empty()) text_ += ' ' + std::string{value};
    if (!note.empty()) text_ += "  ; " + std::string{note};
    text_ += '\n';
  }
  void comment(std::string_view note) {
    if (!text_.empty()) text_ += '\n';
    text_ += "; " + std::string{note} + '\n';
  }
  [[nodiscard]] std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// Who may read what: each [client.NAME] with the ids it resolved to, or the warning that
// without one every local user reads everything allowed.
void describe_clients(ini_writer& ini, const config::config& cfg) {
  if (cfg.clients.empty()) {
    ini.comment(cfg.listener.address.empty()
                    ? "[client.*]: none; callers are limited by the unix socket's mode alone"
                    : "WARNING: no [client.*] section and a TCP listener is on: any local user "
                      "can read every path in [proxy] allow");
    return;
  }
  ini.comment(
      "clients, matched in this order by the caller's uid or groups (no match: 403 except "
      "GET health and metrics)");
  for (const auto& c : cfg.clients) {
    const auto ids = [](const std::vector<std::uint32_t>& values) {
      std::string out;
      for (const auto v : values) out += (out.empty() ? "" : ", ") + std::to_string(v);
      return out;
    };
    ini.section("client." + c.name);
    ini.key("users", joined(c.users), c.uids.empty() ? "" : "uids " + ids(c.uids));
    ini.key("groups", joined(c.groups),
            c.gids.empty() ? ""
                           : "gids " + ids(c.gids) + "; members' uids " +
                                 (c.member_uids.empty() ? "none" : ids(c.member_uids)));
    // 0 (no cap of its own) is no value the key takes: said in a note instead.
    ini.key("allow", joined(c.allow),
            c.max_connections == 0 ? "no max_connections of its own" : "");
    if (c.max_connections != 0) ini.key("max_connections", std::to_string(c.max_connections));
  }
}

}  // namespace

std::string describe(const config::config& cfg, const config::env_lookup& env) {
  ini_writer ini;
  ini.comment(cfg.file +
              ": valid. Effective configuration (defaults and VAULT_* overrides applied):");

  const auto& v = cfg.vault;
  ini.section("vault");
  ini.key("address", v.address);
  ini.key("ca_cert", v.ca_cert, v.ca_cert.empty() ? "system trust store" : "");
  ini.key("client_cert", v.client_cert);
  ini.key("client_key", v.client_key);
  ini.key("tls_server_name", v.tls_server_name);
  ini.key("tls_skip_verify", yes_no(v.tls_skip_verify),
          v.tls_skip_verify ? "WARNING: Vault's certificate is not verified" : "");
  ini.key("namespace", v.namespace_);
  ini.key("request_timeout", format_duration(v.request_timeout));
  ini.key("max_retries", std::to_string(v.max_retries));
  ini.key("rate_limit", std::to_string(v.rate_limit),
          v.rate_limit == 0 ? "unlimited" : "requests per second, burst of the same size");
  ini.key("max_concurrent_requests", std::to_string(v.max_concurrent_requests),
          v.max_concurrent_requests == 0 ? "unlimited" : "");

  const auto& a = cfg.auth;
  ini.section("auth");
  ini.key("method", a.method);
  ini.key("mount", a.mount);
  const auto role_id_note =
      fmt::format("not set: role_id from $VAULT_ROLE_ID ({})", set_or_not(env, "VAULT_ROLE_ID"));
  ini.key("role_id_file", a.role_id_file, a.role_id_file.empty() ? role_id_note : "");
  const auto secret_id_note = fmt::format(
      "not set: secret_id from $VAULT_SECRET_ID ({}) or $CREDENTIALS_DIRECTORY/secret_id "
      "($CREDENTIALS_DIRECTORY {})",
      set_or_not(env, "VAULT_SECRET_ID"), set_or_not(env, "CREDENTIALS_DIRECTORY"));
  ini.key("secret_id_file", a.secret_id_file, a.secret_id_file.empty() ? secret_id_note : "");
  ini.key("remove_secret_id_file_after_reading", yes_no(a.remove_secret_id_file_after_reading));
  ini.key("check_interval", format_duration(a.check_interval));
  ini.key("renew_at", fraction(a.renew_at));
  ini.key("on_renew_failure",
          a.on_renew_failure == config::renew_failure_policy::exit ? "exit" : "serve_cached");
  ini.key("login_timeout", format_duration(a.login_timeout));
  ini.key("role", a.role);
  ini.key("jwt_file", a.jwt_file);
  ini.key("token_file", a.token_file);
  ini.key("relogin", a.relogin == config::relogin_policy::on_expiry ? "on_expiry" : "never",
          a.relogin == config::relogin_policy::never && a.kind != config::auth_method::approle &&
                  a.kind != config::auth_method::token_file
              ? "a token at its max TTL is not replaced: on_renew_failure applies"
              : "");
  ini.key("secret_id_response_wrapping_path", a.secret_id_response_wrapping_path,
          a.secret_id_response_wrapping_path.empty()
              ? ""
              : "the secret_id source holds a wrapping token");

  const auto& l = cfg.listener;
  ini.section("listener");
  ini.key("address", l.address, l.address.empty() ? "no TCP listener" : "");
  ini.key("unix_socket", l.unix_socket, l.unix_socket.empty() ? "no unix socket" : "");
  ini.key("socket_mode", mode(l.socket_mode));
  ini.key("require_request_header", yes_no(l.require_request_header));
  ini.key("enable_quit", yes_no(l.enable_quit));
  ini.key("threads", std::to_string(l.threads));
  ini.key("max_connections", std::to_string(l.max_connections));

  ini.section("proxy");
  std::string allow;
  for (const auto& pattern : cfg.proxy.allow) allow += (allow.empty() ? "" : ", ") + pattern;
  ini.key("allow", allow, allow.empty() ? "nothing is proxied" : "");
  ini.key("forward_writes", yes_no(cfg.proxy.forward_writes));

  const auto& c = cfg.cache;
  ini.section("cache");
  ini.key("ttl", format_duration(c.ttl));
  ini.key("refresh_interval", format_duration(c.refresh_interval));
  ini.key("max_stale", format_duration(c.max_stale),
          c.max_stale == core::duration::zero() ? "never serve stale" : "");
  ini.key("max_entries", std::to_string(c.max_entries));
  ini.key("negative_ttl", format_duration(c.negative_ttl),
          c.negative_ttl == core::duration::zero() ? "404s are not cached" : "");

  const auto& d = cfg.database;
  ini.section("database");
  ini.key("renew_at", fraction(d.renew_at));
  ini.key("strategy", d.strategy == config::lease_strategy::rotate ? "rotate" : "renew");
  ini.key("revoke_on_shutdown", yes_no(d.revoke_on_shutdown));

  ini.section("log");
  ini.key("level", cfg.log.level);
  ini.key("format", cfg.log.format == core::log_format::text ? "text" : "json");

  const auto& e = cfg.exec;
  if (e.command.empty()) {
    ini.comment("[exec]: none, no child process is run");
  } else {
    ini.section("exec");
    ini.key("command", config::join_command(e.command));
    ini.key("restart_on_secret_changes",
            e.restart_on_secret_changes == config::restart_policy::always ? "always" : "never");
    ini.key("restart_stop_signal", config::signal_name(e.restart_stop_signal));
    ini.key("restart_grace", format_duration(e.restart_grace));
  }

  // Names, Vault paths and templates only: the secrets themselves are never fetched here.
  if (cfg.secrets.empty()) {
    ini.comment("[secrets]: none");
  } else {
    ini.section("secrets");
    for (const auto& [name, path] : cfg.secrets) ini.key(name, path);
  }
  if (cfg.env.empty()) {
    ini.comment("[env]: none");
  } else {
    ini.section("env");
    for (const auto& [name, value] : cfg.env) ini.key(name, value);
  }
  for (const auto& t : cfg.templates) {
    ini.section("template." + t.name);
    ini.key("source", t.source);
    ini.key("destination", t.destination);
    ini.key(
        "perms", mode(t.perms),
        (t.perms & 0027u) != 0 ? "WARNING: group-writable or world-accessible secrets file" : "");
    ini.key("command", t.command);
  }

  ini.section("security");
  ini.key("lock_memory", yes_no(cfg.security.lock_memory));

  ini.section("audit");
  ini.key("destination", cfg.audit.destination,
          cfg.audit.destination == "off" ? "no audit trail" : "");
  describe_clients(ini, cfg);
  return ini.take();
}

void print_problems(const std::vector<config::problem>& problems, std::ostream& err) {
  err << "vault-sidecar: the configuration has " << problems.size()
      << (problems.size() == 1 ? " problem:\n" : " problems:\n");
  for (const auto& p : problems) err << p.to_string() << '\n';
}

int run_check(const std::string& config_path, const config::env_lookup& env, std::ostream& out,
              std::ostream& err) {
  const auto loaded = config::load(config_path, env);
  if (!loaded) {
    print_problems(loaded.error(), err);
    return exit_code::bad_config;
  }
  out << describe(*loaded, env);
  return exit_code::ok;
}

}  // namespace sidecar::app
