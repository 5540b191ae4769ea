#include <sidecar/app/reload_plan.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

using namespace sidecar;
using namespace std::chrono_literals;

namespace {

config::client_config client_named(std::string name, std::vector<std::string> users,
                                   std::vector<std::string> allow) {
  config::client_config c;
  c.name = std::move(name);
  c.users = std::move(users);
  c.allow = std::move(allow);
  c.uids = {c.name == "ops" ? 0u : 65534u};
  return c;
}

// A running configuration with something in every list, so removals can be tested too.
config::config running_config() {
  config::config cfg;
  cfg.file = "/etc/vault-sidecar/vault-sidecar.ini";
  cfg.secrets = {{"app", "kv-demo/data/sample"}, {"db", "database/creds/myapp-role"}};
  cfg.env = {{"DB_USER", "{{db.username}}"}, {"DB_PASSWORD", "{{db.password}}"}};
  cfg.exec.command = {"/usr/local/bin/my-app", "--flag"};
  cfg.templates = {config::template_config{.name = "app-config",
                                           .source = "/etc/my-app/config.ini.tmpl",
                                           .destination = "/run/my-app/config.ini",
                                           .perms = 0600,
                                           .command = ""}};
  cfg.clients = {client_named("ops", {"root"}, {"/v1/kv-demo/*"}),
                 client_named("web", {"nobody"}, {"/v1/kv-web/*"})};
  return cfg;
}

struct change {
  std::string key;
  std::function<void(config::config&)> apply;
};

// Every key that a restart applies, each with a change to its value.
const std::vector<change>& restart_keys() {
  static const std::vector<change> keys{
      {"vault.address", [](auto& c) { c.vault.address = "https://vault.example:8200"; }},
      {"vault.ca_cert", [](auto& c) { c.vault.ca_cert = "/etc/ca.pem"; }},
      {"vault.client_cert", [](auto& c) { c.vault.client_cert = "/etc/client.pem"; }},
      {"vault.client_key", [](auto& c) { c.vault.client_key = "/etc/client.key"; }},
      {"vault.tls_server_name", [](auto& c) { c.vault.tls_server_name = "vault"; }},
      {"vault.tls_skip_verify", [](auto& c) { c.vault.tls_skip_verify = true; }},
      {"vault.namespace", [](auto& c) { c.vault.namespace_ = "team-a"; }},
      {"vault.request_timeout", [](auto& c) { c.vault.request_timeout = 3s; }},
      {"vault.max_retries", [](auto& c) { c.vault.max_retries = 0; }},
      {"vault.rate_limit", [](auto& c) { c.vault.rate_limit = 20; }},
      {"vault.max_concurrent_requests", [](auto& c) { c.vault.max_concurrent_requests = 4; }},
      {"auth.method", [](auto& c) { c.auth.method = "other"; }},
      {"auth.mount", [](auto& c) { c.auth.mount = "approle-2"; }},
      {"auth.role_id_file", [](auto& c) { c.auth.role_id_file = "/run/role_id"; }},
      {"auth.secret_id_file", [](auto& c) { c.auth.secret_id_file = "/run/secret_id"; }},
      {"auth.remove_secret_id_file_after_reading",
       [](auto& c) { c.auth.remove_secret_id_file_after_reading = true; }},
      {"auth.check_interval", [](auto& c) { c.auth.check_interval = 5s; }},
      {"auth.renew_at", [](auto& c) { c.auth.renew_at = 0.5; }},
      {"auth.on_renew_failure",
       [](auto& c) { c.auth.on_renew_failure = config::renew_failure_policy::serve_cached; }},
      {"auth.login_timeout", [](auto& c) { c.auth.login_timeout = 5s; }},
      {"auth.role", [](auto& c) { c.auth.role = "other-role"; }},
      {"auth.jwt_file", [](auto& c) { c.auth.jwt_file = "/run/projected/token"; }},
      {"auth.token_file", [](auto& c) { c.auth.token_file = "/run/token"; }},
      {"auth.relogin", [](auto& c) { c.auth.relogin = config::relogin_policy::on_expiry; }},
      {"auth.secret_id_response_wrapping_path",
       [](auto& c) { c.auth.secret_id_response_wrapping_path = "auth/approle/role/a/secret-id"; }},
      {"listener.address", [](auto& c) { c.listener.address = "127.0.0.1:9100"; }},
      {"listener.unix_socket", [](auto& c) { c.listener.unix_socket = "/run/s.sock"; }},
      {"listener.socket_mode", [](auto& c) { c.listener.socket_mode = 0600; }},
      {"listener.enable_quit", [](auto& c) { c.listener.enable_quit = true; }},
      {"listener.threads", [](auto& c) { c.listener.threads = 4; }},
      {"listener.max_connections", [](auto& c) { c.listener.max_connections = 5000; }},
      {"database.renew_at", [](auto& c) { c.database.renew_at = 0.6; }},
      {"database.strategy", [](auto& c) { c.database.strategy = config::lease_strategy::renew; }},
      {"database.revoke_on_shutdown", [](auto& c) { c.database.revoke_on_shutdown = true; }},
      {"exec.command", [](auto& c) { c.exec.command = {"/usr/local/bin/my-app"}; }},
      {"exec.restart_on_secret_changes",
       [](auto& c) { c.exec.restart_on_secret_changes = config::restart_policy::never; }},
      {"exec.restart_stop_signal", [](auto& c) { c.exec.restart_stop_signal = 2; }},
      {"exec.restart_grace", [](auto& c) { c.exec.restart_grace = 5s; }},
      {"secrets.app", [](auto& c) { c.secrets[0].second = "kv-demo/data/other"; }},
      {"secrets.db", [](auto& c) { c.secrets.pop_back(); }},
      {"secrets.new", [](auto& c) { c.secrets.emplace_back("new", "kv-v1/config"); }},
      {"env.DB_USER", [](auto& c) { c.env[0].second = "{{app.username}}"; }},
      {"env.EXTRA", [](auto& c) { c.env.emplace_back("EXTRA", "x"); }},
      {"template.app-config.source", [](auto& c) { c.templates[0].source = "/etc/other.tmpl"; }},
      {"template.app-config.destination",
       [](auto& c) { c.templates[0].destination = "/run/other.ini"; }},
      {"template.app-config.perms", [](auto& c) { c.templates[0].perms = 0640; }},
      {"template.app-config.command", [](auto& c) { c.templates[0].command = "reload-app"; }},
      {"template.app-config", [](auto& c) { c.templates.clear(); }},
      {"template.second",
       [](auto& c) {
         c.templates.push_back(c.templates[0]);
         c.templates.back().name = "second";
       }},
      {"security.lock_memory", [](auto& c) { c.security.lock_memory = true; }},
      {"audit.destination", [](auto& c) { c.audit.destination = "/var/log/audit.json"; }},
  };
  return keys;
}

// Changes each key alone and checks that it is applied live as exactly `group` of the plan:
// named in `applied`, that group's flag set and the other groups' not, nothing for a restart.
void check_applied_as(const std::vector<change>& keys, bool app::reload_plan::*group) {
  const auto running = running_config();
  for (const auto& [key, apply] : keys) {
    INFO(key);
    auto reread = running;
    apply(reread);
    const auto plan = app::plan_reload(running, reread);
    CHECK(plan.applied == std::vector<std::string>{key});
    for (const auto flag :
         {&app::reload_plan::log, &app::reload_plan::cache, &app::reload_plan::request_policy}) {
      CHECK(plan.*flag == (flag == group));
    }
    CHECK(plan.needs_restart.empty());
  }
}

}  // namespace

TEST_CASE("plan_reload: an identical file changes nothing", "[app]") {
  const auto running = running_config();
  const auto plan = app::plan_reload(running, running);
  CHECK(plan.changes_nothing());
  CHECK_FALSE(plan.log);
  CHECK_FALSE(plan.cache);
  CHECK_FALSE(plan.request_policy);
}

TEST_CASE("plan_reload: the file path alone is not a change", "[app]") {
  const auto running = running_config();
  auto reread = running;
  reread.file = "/tmp/elsewhere.ini";
  CHECK(app::plan_reload(running, reread).changes_nothing());
}

TEST_CASE("plan_reload: each restart-only key is named and applies nothing live", "[app]") {
  const auto running = running_config();
  for (const auto& [key, apply] : restart_keys()) {
    INFO(key);
    auto reread = running;
    apply(reread);
    const auto plan = app::plan_reload(running, reread);
    CHECK(plan.needs_restart == std::vector<std::string>{key});
    CHECK(plan.applied.empty());
    CHECK_FALSE(plan.log);
    CHECK_FALSE(plan.cache);
    CHECK_FALSE(plan.request_policy);
  }
}

TEST_CASE("plan_reload: log level and format are applied as the log group", "[app]") {
  check_applied_as({{"log.level", [](auto& c) { c.log.level = "debug"; }},
                    {"log.format", [](auto& c) { c.log.format = config::log_format::json; }}},
                   &app::reload_plan::log);
}

TEST_CASE("plan_reload: each cache key is applied as the cache group", "[app]") {
  check_applied_as({{"cache.ttl", [](auto& c) { c.cache.ttl = 30s; }},
                    {"cache.refresh_interval", [](auto& c) { c.cache.refresh_interval = 10s; }},
                    {"cache.max_stale", [](auto& c) { c.cache.max_stale = 0s; }},
                    {"cache.max_entries", [](auto& c) { c.cache.max_entries = 10; }},
                    {"cache.negative_ttl", [](auto& c) { c.cache.negative_ttl = 0s; }}},
                   &app::reload_plan::cache);
}

TEST_CASE("plan_reload: allow, forward_writes and require_request_header are the request policy",
          "[app]") {
  check_applied_as({{"proxy.allow", [](auto& c) { c.proxy.allow.push_back("/v1/kv-v1/*"); }},
                    {"proxy.forward_writes", [](auto& c) { c.proxy.forward_writes = true; }},
                    {"listener.require_request_header",
                     [](auto& c) { c.listener.require_request_header = true; }}},
                   &app::reload_plan::request_policy);
}

TEST_CASE("plan_reload: allow patterns in another order are a change", "[app]") {
  // The first matching pattern does not matter to routing, but the list is what the user wrote
  // and the log line says it was applied; re-applying an equivalent list is harmless.
  const auto running = running_config();
  auto reread = running;
  std::swap(reread.proxy.allow[0], reread.proxy.allow[1]);
  CHECK(app::plan_reload(running, reread).applied == std::vector<std::string>{"proxy.allow"});
}

TEST_CASE("plan_reload: reordered secrets and env lines are not a change", "[app]") {
  const auto running = running_config();
  auto reread = running;
  std::swap(reread.secrets[0], reread.secrets[1]);
  std::swap(reread.env[0], reread.env[1]);
  CHECK(app::plan_reload(running, reread).changes_nothing());
}

TEST_CASE("plan_reload: a mixed change splits into applied and restart lists", "[app]") {
  const auto running = running_config();
  auto reread = running;
  reread.vault.address = "https://other:8200";
  reread.listener.address = "127.0.0.1:9999";
  reread.proxy.allow = {"/v1/kv-v1/*"};
  reread.cache.max_entries = 5;
  reread.log.level = "warn";
  const auto plan = app::plan_reload(running, reread);
  CHECK(plan.applied == std::vector<std::string>{"proxy.allow", "cache.max_entries", "log.level"});
  CHECK(plan.needs_restart == std::vector<std::string>{"vault.address", "listener.address"});
  CHECK(plan.log);
  CHECK(plan.cache);
  CHECK(plan.request_policy);
}

TEST_CASE("plan_reload: key names never carry values", "[app]") {
  const auto running = running_config();
  auto reread = running;
  reread.env[1].second = "hunter2-literal";
  reread.secrets[0].second = "kv-demo/data/hunter2";
  const auto plan = app::plan_reload(running, reread);
  CHECK(plan.needs_restart == std::vector<std::string>{"secrets.app", "env.DB_PASSWORD"});
  for (const auto& key : plan.needs_restart) CHECK(key.find("hunter2") == std::string::npos);
}

TEST_CASE("plan_reload: [client.NAME] changes are the request policy, added and removed too",
          "[app]") {
  check_applied_as(
      {{"client.ops.users",
        [](auto& c) {
          c.clients[0].users = {"root", "daemon"};
        }},
       {"client.ops.groups", [](auto& c) { c.clients[0].groups = {"daemon"}; }},
       {"client.ops.allow", [](auto& c) { c.clients[0].allow = {"/v1/kv-ops/*"}; }},
       {"client.web.max_connections", [](auto& c) { c.clients[1].max_connections = 4; }},
       {"client.web", [](auto& c) { c.clients.pop_back(); }},
       {"client.batch",
        [](auto& c) { c.clients.push_back(client_named("batch", {"daemon"}, {"/v1/kv-b/*"})); }},
       // Same names, the user database now says otherwise.
       {"client.web", [](auto& c) { c.clients[1].uids = {1234}; }},
       // The first match decides: order alone is a change.
       {"client order", [](auto& c) { std::swap(c.clients[0], c.clients[1]); }}},
      &app::reload_plan::request_policy);
}
