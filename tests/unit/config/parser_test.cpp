#include <sidecar/config/parser.hpp>

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

using namespace sidecar;
using namespace std::chrono_literals;

namespace {

using list = std::vector<std::string>;

config::env_lookup environment(std::map<std::string, std::string, std::less<>> variables) {
  return [variables = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    const auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
}

config::load_result parse(std::string_view text,
                          std::map<std::string, std::string, std::less<>> variables = {}) {
  return config::parse(text, "/etc/x.ini", environment(std::move(variables)));
}

list problems_of(std::string_view text,
                 std::map<std::string, std::string, std::less<>> variables = {}) {
  const auto loaded = parse(text, std::move(variables));
  if (loaded) return {};
  list lines;
  for (const auto& p : loaded.error()) lines.push_back(p.to_string());
  return lines;
}

// One problem expected; its text.
std::string problem_of(std::string_view text) {
  const auto lines = problems_of(text);
  REQUIRE(lines.size() == 1);
  return lines.front();
}

config::config parsed_ok(std::string_view text,
                         std::map<std::string, std::string, std::less<>> variables = {}) {
  auto loaded = parse(text, std::move(variables));
  if (!loaded) {
    for (const auto& p : loaded.error()) UNSCOPED_INFO(p.to_string());
  }
  REQUIRE(loaded.has_value());
  return std::move(*loaded);
}

}  // namespace

TEST_CASE("config: an empty file yields the documented defaults", "[config]") {
  const auto cfg = parsed_ok("");
  const config::config defaults;
  CHECK(cfg.file == "/etc/x.ini");
  CHECK(cfg.vault.address == "https://127.0.0.1:8200");
  CHECK(cfg.vault.request_timeout == 10s);
  CHECK(cfg.vault.max_retries == 3);
  CHECK_FALSE(cfg.vault.tls_skip_verify);
  CHECK(cfg.auth.method == "approle");
  CHECK(cfg.auth.mount == "approle");
  CHECK(cfg.auth.check_interval == 10s);
  CHECK(cfg.auth.renew_at == 0.8);
  CHECK(cfg.auth.on_renew_failure == config::renew_failure_policy::exit);
  CHECK(cfg.auth.login_timeout == 60s);
  CHECK(cfg.listener.address == "127.0.0.1:8100");
  CHECK(cfg.listener.unix_socket.empty());
  CHECK(cfg.listener.socket_mode == 0660u);
  CHECK(cfg.listener.threads == 1);
  CHECK(cfg.listener.max_connections == 1024);
  CHECK(cfg.proxy.allow == list{"/v1/kv-*", "/v1/database/creds/*"});
  CHECK_FALSE(cfg.proxy.forward_writes);
  CHECK(cfg.cache.ttl == 5min);
  CHECK(cfg.cache.refresh_interval == 1min);
  CHECK(cfg.cache.max_stale == 1h);
  CHECK(cfg.cache.max_entries == 10000u);
  CHECK(cfg.database.renew_at == 0.8);
  CHECK(cfg.database.strategy == config::lease_strategy::rotate);
  CHECK(cfg.log.level == "info");
  CHECK(cfg.log.format == core::log_format::text);
  CHECK(cfg.exec.command.empty());
  CHECK(cfg.exec.restart_stop_signal == SIGTERM);
  CHECK(cfg.secrets.empty());
  CHECK(cfg.env.empty());
  CHECK(cfg.templates.empty());
  CHECK_FALSE(cfg.security.lock_memory);
}

TEST_CASE("config: every key of the contract is read", "[config]") {
  const auto cfg = parsed_ok(R"ini(
[vault]
address = https://vault.example.com:8201
ca_cert = /etc/ssl/vault-ca.pem
client_cert = /etc/ssl/client.pem
client_key = /etc/ssl/client.key
tls_server_name = vault.internal
tls_skip_verify = true
namespace = team-a
request_timeout = 2500ms
max_retries = 0

[auth]
method = approle
mount = approle-apps
role_id_file = /run/secrets/role_id
secret_id_file = /run/secrets/secret_id
remove_secret_id_file_after_reading = true
check_interval = 5s
renew_at = 0.75
on_renew_failure = serve_cached
login_timeout = 2m

[listener]
address = [::1]:9100
unix_socket = /run/vault-sidecar/sidecar.sock
socket_mode = 0600
require_request_header = true
enable_quit = true
threads = 4
max_connections = 6000

[proxy]
allow = /v1/kv-*, /v1/secret/data/app, /v1/database/creds/*
forward_writes = true

[cache]
ttl = 30s
refresh_interval = 10
max_stale = 0
max_entries = 5

[database]
renew_at = 0.5
strategy = renew
revoke_on_shutdown = true

[log]
level = debug
format = json

[exec]
command = /usr/local/bin/my-app --name "my app" 'x y'
restart_on_secret_changes = never
restart_stop_signal = SIGINT
restart_grace = 1h

[secrets]
app = kv-demo/data/sample
db = database/creds/myapp-role

[env]
DB_USER = {{db.username}}
DB_PASSWORD = {{db.password}}
GREETING = hello

[template.app-config]
source = /etc/my-app/config.ini.tmpl
destination = /run/my-app/config.ini
perms = 0640
command = /usr/bin/pkill -HUP my-app

[template.second]
source = /etc/b.tmpl
destination = /run/b

[security]
lock_memory = true
)ini");
  CHECK(cfg.vault.address == "https://vault.example.com:8201");
  CHECK(cfg.vault.ca_cert == "/etc/ssl/vault-ca.pem");
  CHECK(cfg.vault.client_cert == "/etc/ssl/client.pem");
  CHECK(cfg.vault.client_key == "/etc/ssl/client.key");
  CHECK(cfg.vault.tls_server_name == "vault.internal");
  CHECK(cfg.vault.tls_skip_verify);
  CHECK(cfg.vault.namespace_ == "team-a");
  CHECK(cfg.vault.request_timeout == 2500ms);
  CHECK(cfg.vault.max_retries == 0);
  CHECK(cfg.auth.mount == "approle-apps");
  CHECK(cfg.auth.role_id_file == "/run/secrets/role_id");
  CHECK(cfg.auth.secret_id_file == "/run/secrets/secret_id");
  CHECK(cfg.auth.remove_secret_id_file_after_reading);
  CHECK(cfg.auth.check_interval == 5s);
  CHECK(cfg.auth.renew_at == 0.75);
  CHECK(cfg.auth.on_renew_failure == config::renew_failure_policy::serve_cached);
  CHECK(cfg.auth.login_timeout == 2min);
  CHECK(cfg.listener.address == "[::1]:9100");
  CHECK(cfg.listener.unix_socket == "/run/vault-sidecar/sidecar.sock");
  CHECK(cfg.listener.socket_mode == 0600u);
  CHECK(cfg.listener.require_request_header);
  CHECK(cfg.listener.enable_quit);
  CHECK(cfg.listener.threads == 4);
  CHECK(cfg.listener.max_connections == 6000);
  CHECK(cfg.proxy.allow == list{"/v1/kv-*", "/v1/secret/data/app", "/v1/database/creds/*"});
  CHECK(cfg.proxy.forward_writes);
  CHECK(cfg.cache.ttl == 30s);
  CHECK(cfg.cache.refresh_interval == 10s);
  CHECK(cfg.cache.max_stale == 0s);
  CHECK(cfg.cache.max_entries == 5u);
  CHECK(cfg.database.renew_at == 0.5);
  CHECK(cfg.database.strategy == config::lease_strategy::renew);
  CHECK(cfg.database.revoke_on_shutdown);
  CHECK(cfg.log.level == "debug");
  CHECK(cfg.log.format == core::log_format::json);
  CHECK(cfg.exec.command == list{"/usr/local/bin/my-app", "--name", "my app", "x y"});
  CHECK(cfg.exec.restart_on_secret_changes == config::restart_policy::never);
  CHECK(cfg.exec.restart_stop_signal == SIGINT);
  CHECK(cfg.exec.restart_grace == 1h);
  using pairs = std::vector<std::pair<std::string, std::string>>;
  CHECK(cfg.secrets == pairs{{"app", "kv-demo/data/sample"}, {"db", "database/creds/myapp-role"}});
  CHECK(cfg.env == pairs{{"DB_USER", "{{db.username}}"},
                         {"DB_PASSWORD", "{{db.password}}"},
                         {"GREETING", "hello"}});
  REQUIRE(cfg.templates.size() == 2);
  CHECK(cfg.templates[0].name == "app-config");
  CHECK(cfg.templates[0].source == "/etc/my-app/config.ini.tmpl");
  CHECK(cfg.templates[0].destination == "/run/my-app/config.ini");
  CHECK(cfg.templates[0].perms == 0640u);
  CHECK(cfg.templates[0].command == "/usr/bin/pkill -HUP my-app");
  CHECK(cfg.templates[1].name == "second");
  CHECK(cfg.templates[1].perms == 0600u);
  CHECK(cfg.templates[1].command.empty());
  CHECK(cfg.security.lock_memory);
}

TEST_CASE("config: each bad value is reported as file:line: section.key: reason", "[config]") {
  struct row {
    std::string_view text;
    std::string_view expected;
  };
  const row rows[] = {
      {"[cache]\nttl = 5 minutes\n",
       "/etc/x.ini:2: cache.ttl: invalid duration \"5 minutes\" (use 500ms, 10s, 5m, 1h or "
       "seconds)"},
      {"[cache]\nttl = 0\n", "/etc/x.ini:2: cache.ttl: must be greater than 0"},
      {"[cache]\nrefresh_interval = 0s\n",
       "/etc/x.ini:2: cache.refresh_interval: must be greater than 0"},
      {"[cache]\nmax_stale = -1s\n",
       "/etc/x.ini:2: cache.max_stale: invalid duration \"-1s\" (must not be negative)"},
      {"[cache]\nmax_entries = 0\n",
       "/etc/x.ini:2: cache.max_entries: expected a whole number of at least 1, not \"0\""},
      {"[vault]\nrequest_timeout = 0ms\n",
       "/etc/x.ini:2: vault.request_timeout: must be greater than 0"},
      {"[vault]\nmax_retries = 11\n",
       "/etc/x.ini:2: vault.max_retries: expected a whole number from 0 to 10, not \"11\""},
      {"[vault]\nmax_retries = -1\n",
       "/etc/x.ini:2: vault.max_retries: expected a whole number from 0 to 10, not \"-1\""},
      {"[vault]\ntls_skip_verify = yes\n",
       "/etc/x.ini:2: vault.tls_skip_verify: expected true or false, not \"yes\""},
      {"[vault]\naddress = 127.0.0.1:8200\n",
       "/etc/x.ini:2: vault.address: invalid Vault address \"127.0.0.1:8200\" (use "
       "http(s)://host[:port], e.g. https://127.0.0.1:8200)"},
      {"[vault]\naddress = ftp://vault\n",
       "/etc/x.ini:2: vault.address: Vault address \"ftp://vault\" must start with http:// or "
       "https://"},
      {"[auth]\nrenew_at = 1.5\n",
       "/etc/x.ini:2: auth.renew_at: must be a fraction between 0 and 1, exclusive (e.g. 0.8), "
       "not \"1.5\""},
      {"[auth]\nrenew_at = 0\n",
       "/etc/x.ini:2: auth.renew_at: must be a fraction between 0 and 1, exclusive (e.g. 0.8), "
       "not \"0\""},
      {"[auth]\nmethod = token\n",
       "/etc/x.ini:2: auth.method: unsupported auth method: expected approle or kubernetes or "
       "jwt or cert or token_file, not \"token\""},
      {"[auth]\nmount = /approle/\n",
       "/etc/x.ini:2: auth.mount: expected a mount path without leading or trailing /, not "
       "\"/approle/\""},
      {"[auth]\non_renew_failure = retry\n",
       "/etc/x.ini:2: auth.on_renew_failure: expected exit or serve_cached, not \"retry\""},
      {"[auth]\ncheck_interval = 0\n", "/etc/x.ini:2: auth.check_interval: must be greater than 0"},
      {"[auth]\nlogin_timeout = 1.5m\n",
       "/etc/x.ini:2: auth.login_timeout: invalid duration \"1.5m\" (use 500ms, 10s, 5m, 1h or "
       "seconds)"},
      {"[auth]\nremove_secret_id_file_after_reading = 1\n",
       "/etc/x.ini:2: auth.remove_secret_id_file_after_reading: expected true or false, not "
       "\"1\""},
      {"[listener]\naddress = 0.0.0.0:8100\n",
       "/etc/x.ini:2: listener.address: \"0.0.0.0\" is not a loopback address; secrets are served "
       "without authentication, so only 127.0.0.0/8, [::1] or localhost are allowed"},
      {"[listener]\nthreads = 0\n",
       "/etc/x.ini:2: listener.threads: expected a whole number from 1 to 64, not \"0\""},
      {"[listener]\nthreads = 65\n",
       "/etc/x.ini:2: listener.threads: expected a whole number from 1 to 64, not \"65\""},
      {"[listener]\nsocket_mode = 01777\n",
       "/etc/x.ini:2: listener.socket_mode: invalid mode \"01777\" (use octal like 0660, at most "
       "0777)"},
      {"[listener]\nenable_quit = on\n",
       "/etc/x.ini:2: listener.enable_quit: expected true or false, not \"on\""},
      {"[listener]\nmax_connections = 0\n",
       "/etc/x.ini:2: listener.max_connections: expected a whole number of at least 1, not \"0\""},
      {"[proxy]\nallow = /v1/kv-*, v1/secret\n",
       "/etc/x.ini:2: proxy.allow: pattern \"v1/secret\" must start with /"},
      {"[proxy]\nallow = /v1/*/data\n",
       "/etc/x.ini:2: proxy.allow: pattern \"/v1/*/data\": * is only allowed at the end"},
      {"[proxy]\nallow = /v1/a,,/v1/b\n",
       "/etc/x.ini:2: proxy.allow: empty item in the list \"/v1/a,,/v1/b\""},
      {"[database]\nstrategy = refresh\n",
       "/etc/x.ini:2: database.strategy: expected rotate or renew, not \"refresh\""},
      {"[database]\nrenew_at = 80%\n",
       "/etc/x.ini:2: database.renew_at: must be a fraction between 0 and 1, exclusive (e.g. "
       "0.8), not \"80%\""},
      {"[log]\nlevel = verbose\n",
       "/etc/x.ini:2: log.level: expected trace, debug, info, warn or error, not \"verbose\""},
      {"[log]\nformat = xml\n", "/etc/x.ini:2: log.format: expected text or json, not \"xml\""},
      {"[exec]\ncommand = app 'unclosed\n",
       "/etc/x.ini:2: exec.command: unterminated ' in the command"},
      {"[exec]\ncommand = app\nrestart_on_secret_changes = sometimes\n",
       "/etc/x.ini:3: exec.restart_on_secret_changes: expected always or never, not "
       "\"sometimes\""},
      {"[exec]\ncommand = app\nrestart_stop_signal = TERM\n",
       "/etc/x.ini:3: exec.restart_stop_signal: unknown signal \"TERM\" (use SIGTERM, SIGINT, "
       "SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 or SIGKILL)"},
      {"[exec]\ncommand = app\nrestart_grace = 0\n",
       "/etc/x.ini:3: exec.restart_grace: must be greater than 0"},
      {"[security]\nlock_memory = maybe\n",
       "/etc/x.ini:2: security.lock_memory: expected true or false, not \"maybe\""},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    CHECK(problem_of(r.text) == r.expected);
  }
}

TEST_CASE("config: unknown sections and keys are errors, with the known ones listed", "[config]") {
  CHECK(problem_of("[vaultt]\naddress = x\n") ==
        "/etc/x.ini:1: vaultt: unknown section [vaultt] (known: vault, auth, listener, proxy, "
        "cache, database, log, exec, secrets, env, template.NAME, security, audit, client.NAME)");
  CHECK(problem_of("[cache]\nttl = 1m\nsize = 3\n") ==
        "/etc/x.ini:3: cache.size: unknown key (known: ttl, refresh_interval, max_stale, "
        "max_entries, negative_ttl)");
  CHECK(problem_of("[template.a]\nsource = /a\ndestination = /b\nmode = 0600\n") ==
        "/etc/x.ini:4: template.a.mode: unknown key (known: source, destination, perms, command)");
}

TEST_CASE("config: a duplicate key is an error", "[config]") {
  CHECK(problem_of("[cache]\nttl = 1m\n\nttl = 2m\n") ==
        "/etc/x.ini:4: cache.ttl: duplicate key (first set at line 2)");
}

TEST_CASE("config: all problems at once, in line order, each with its line", "[config]") {
  const auto problems = problems_of(
      "[vault]\n"                       // 1
      "address = https://vault:8200\n"  // 2
      "\n"                              // 3
      "[cache]\n"                       // 4
      "ttl = 5 minutes\n"               // 5
      "colour = blue\n"                 // 6
      "[auth]\n"                        // 7
      "renew_at = 1.5\n"                // 8
      "[listener]\n"                    // 9
      "address = 0.0.0.0:8100\n"        // 10
      "threads = 0\n",                  // 11
      {{"VAULT_SKIP_VERIFY", "perhaps"}});
  REQUIRE(problems.size() == 6);
  CHECK(problems[0].starts_with("/etc/x.ini:5: cache.ttl: invalid duration"));
  CHECK(problems[1].starts_with("/etc/x.ini:6: cache.colour: unknown key"));
  CHECK(problems[2].starts_with("/etc/x.ini:8: auth.renew_at: must be a fraction"));
  CHECK(problems[3].starts_with("/etc/x.ini:10: listener.address: \"0.0.0.0\" is not a loopback"));
  CHECK(problems[4].starts_with("/etc/x.ini:11: listener.threads:"));
  CHECK(problems[5] ==
        "env VAULT_SKIP_VERIFY: expected true or false (or 1 or 0), not \"perhaps\"");
}

TEST_CASE("config: something must be served", "[config]") {
  CHECK(problem_of("[listener]\naddress =\n") ==
        "/etc/x.ini: listener: nothing to serve: set listener.address, listener.unix_socket or an "
        "[exec] command");
  CHECK(parsed_ok("[listener]\naddress =\nunix_socket = /run/s.sock\n").listener.address.empty());
  CHECK(parsed_ok("[listener]\naddress =\n[exec]\ncommand = /bin/app\n").exec.command ==
        list{"/bin/app"});
}

TEST_CASE("config: an overlong unix socket path is refused", "[config]") {
  const std::string path(108, 'a');
  CHECK(problem_of("[listener]\nunix_socket = /" + path + "\n") ==
        "/etc/x.ini:2: listener.unix_socket: unix socket path is 109 bytes, at most 107 fit");
}

TEST_CASE("config: an [exec] section needs a command", "[config]") {
  CHECK(problem_of("[exec]\nrestart_grace = 5s\n") == "/etc/x.ini:1: exec: missing command");
  CHECK(problem_of("[exec]\ncommand =\n") == "/etc/x.ini:2: exec.command: empty command");
}

TEST_CASE("config: mTLS needs both the certificate and the key", "[config]") {
  CHECK(problem_of("[vault]\nclient_cert = /c.pem\n") ==
        "/etc/x.ini:2: vault.client_cert: mTLS needs both client_cert and client_key (or "
        "VAULT_CLIENT_CERT and VAULT_CLIENT_KEY)");
  CHECK(problems_of("[vault]\nclient_key = /k.pem\n").size() == 1);
  CHECK(parsed_ok("[vault]\nclient_key = /k.pem\n", {{"VAULT_CLIENT_CERT", "/c.pem"}})
            .vault.client_cert == "/c.pem");
}

TEST_CASE("config: template sections need a source and a destination", "[config]") {
  CHECK(problems_of("[template.app]\nperms = 0600\n") ==
        list{"/etc/x.ini:1: template.app: missing source",
             "/etc/x.ini:1: template.app: missing destination"});
  CHECK(problem_of("[template.app]\nsource = /a\ndestination =\n") ==
        "/etc/x.ini:3: template.app.destination: must not be empty");
  CHECK(problem_of("[template.app]\nsource = /a\ndestination = /b\nperms = 0800\n") ==
        "/etc/x.ini:4: template.app.perms: invalid mode \"0800\" (use octal like 0660, at most "
        "0777)");
  CHECK(problem_of("[template.app]\nsource = /a\ndestination = /b\ncommand = reload \"x\n") ==
        "/etc/x.ini:4: template.app.command: unterminated \" in the command");
  CHECK(problem_of("[template.]\nsource = /a\n") ==
        "/etc/x.ini:1: template.: invalid template name in [template.NAME] (letters, digits, _ "
        "and -)");
  CHECK(problem_of("[template.a]\nsource = /a\ndestination = /out\n"
                   "[template.b]\nsource = /b\ndestination = /out\n") ==
        "/etc/x.ini:6: template.b.destination: [template.a] already writes \"/out\"");
}

TEST_CASE("config: [env] may refer only to names in [secrets], wherever they are", "[config]") {
  // [env] before [secrets] is fine: references are checked once the whole file is read.
  const auto cfg =
      parsed_ok("[env]\nDB_USER = {{db.username}}\n[secrets]\ndb = database/creds/r\n");
  CHECK(cfg.env.size() == 1);
  CHECK(problems_of("[secrets]\napp = kv/data/a\n"
                    "[env]\n"
                    "A = {{app.x}}\n"
                    "B = {{db.username}}:{{nope.password}}\n"
                    "C = {{app.x\n") ==
        list{"/etc/x.ini:5: env.B: refers to \"db\", which is not in [secrets]",
             "/etc/x.ini:5: env.B: refers to \"nope\", which is not in [secrets]",
             "/etc/x.ini:6: env.C: unterminated {{ in \"{{app.x\""});
  CHECK(problem_of("[env]\n1BAD = x\n") ==
        "/etc/x.ini:2: env.1BAD: invalid environment variable name (letters, digits and _, not "
        "starting with a digit)");
}

TEST_CASE("config: [secrets] names and paths", "[config]") {
  CHECK(problem_of("[secrets]\nmy.app = kv/data/a\n") ==
        "/etc/x.ini:2: secrets.my.app: invalid secret name (letters, digits, _ and -, not "
        "starting with a digit)");
  CHECK(problem_of("[secrets]\napp = /v1/kv/data/a\n") ==
        "/etc/x.ini:2: secrets.app: expected a Vault path without a leading / or /v1/ (e.g. "
        "kv-demo/data/sample), not \"/v1/kv/data/a\"");
  CHECK(problems_of("[secrets]\napp =\n").size() == 1);
  CHECK(parsed_ok("[secrets]\nmy-app_2 = kv/data/a\n").secrets.size() == 1);
}

TEST_CASE("config: VAULT_* variables override the file", "[config]") {
  const auto cfg = parsed_ok("[vault]\naddress = https://file:8200\nnamespace = file-ns\n",
                             {{"VAULT_ADDR", "http://env:8200"},
                              {"VAULT_CACERT", "/env/ca.pem"},
                              {"VAULT_CLIENT_CERT", "/env/c.pem"},
                              {"VAULT_CLIENT_KEY", "/env/k.pem"},
                              {"VAULT_TLS_SERVER_NAME", "vault.env"},
                              {"VAULT_SKIP_VERIFY", "1"},
                              {"VAULT_NAMESPACE", "env-ns"}});
  CHECK(cfg.vault.address == "http://env:8200");
  CHECK(cfg.vault.ca_cert == "/env/ca.pem");
  CHECK(cfg.vault.client_cert == "/env/c.pem");
  CHECK(cfg.vault.client_key == "/env/k.pem");
  CHECK(cfg.vault.tls_server_name == "vault.env");
  CHECK(cfg.vault.tls_skip_verify);
  CHECK(cfg.vault.namespace_ == "env-ns");
  CHECK_FALSE(parsed_ok("[vault]\ntls_skip_verify = true\n", {{"VAULT_SKIP_VERIFY", "false"}})
                  .vault.tls_skip_verify);
}

TEST_CASE("config: an empty VAULT_* variable counts as unset", "[config]") {
  const auto cfg = parsed_ok("[vault]\naddress = https://file:8200\n",
                             {{"VAULT_ADDR", ""}, {"VAULT_SKIP_VERIFY", ""}});
  CHECK(cfg.vault.address == "https://file:8200");
  CHECK_FALSE(cfg.vault.tls_skip_verify);
}

TEST_CASE("config: bad VAULT_* values are reported as env NAME: reason", "[config]") {
  CHECK(problems_of("", {{"VAULT_ADDR", "vault:8200"}, {"VAULT_SKIP_VERIFY", "yes"}}) ==
        list{"env VAULT_ADDR: Vault address \"vault:8200\" must start with http:// or https://",
             "env VAULT_SKIP_VERIFY: expected true or false (or 1 or 0), not \"yes\""});
}

TEST_CASE("config: credentials in the environment are not configuration", "[config]") {
  std::vector<std::string> asked;
  const config::env_lookup recording = [&](std::string_view name) -> std::optional<std::string> {
    asked.emplace_back(name);
    return std::nullopt;
  };
  REQUIRE(config::parse("", "/etc/x.ini", recording).has_value());
  CHECK(std::find(asked.begin(), asked.end(), "VAULT_ADDR") != asked.end());
  for (const auto& name : asked) {
    INFO(name);
    CHECK(name != "VAULT_ROLE_ID");
    CHECK(name != "VAULT_SECRET_ID");
    CHECK(name != "VAULT_TOKEN");
  }
}

TEST_CASE("config: load reads a file and names an unreadable one", "[config]") {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("sidecar-config-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = (dir / "sidecar.ini").string();
  std::ofstream{file} << "[cache]\nttl = 42s\n";
  const auto no_env = environment({});

  const auto loaded = config::load(file, no_env);
  REQUIRE(loaded.has_value());
  CHECK(loaded->cache.ttl == 42s);
  CHECK(loaded->file == file);

  const auto missing = config::load((dir / "missing.ini").string(), no_env);
  REQUIRE_FALSE(missing.has_value());
  REQUIRE(missing.error().size() == 1);
  CHECK(missing.error()[0].to_string() ==
        (dir / "missing.ini").string() + ": cannot read: No such file or directory");

  const auto directory = config::load(dir.string(), no_env);
  REQUIRE_FALSE(directory.has_value());
  CHECK(directory.error()[0].to_string() == dir.string() + ": cannot read: Is a directory");
  std::filesystem::remove_all(dir);
}

TEST_CASE("config: [client.NAME] sections are read in file order, ids resolved", "[config]") {
  const auto cfg = parsed_ok(
      "[client.web]\nusers = nobody, 4242\nallow = /v1/kv-web/*\n\n"
      "[client.ops]\ngroups = nogroup, 7\nallow = /v1/kv-ops/*, /v1/database/creds/ops\n"
      "max_connections = 3\n");
  REQUIRE(cfg.clients.size() == 2);
  const auto& web = cfg.clients[0];
  CHECK(web.name == "web");
  CHECK(web.users == list{"nobody", "4242"});
  CHECK(web.uids == std::vector<std::uint32_t>{65534, 4242});
  CHECK(web.gids.empty());
  CHECK(web.member_uids.empty());
  CHECK(web.allow == list{"/v1/kv-web/*"});
  CHECK(web.max_connections == 0);
  const auto& ops = cfg.clients[1];
  CHECK(ops.name == "ops");
  CHECK(ops.gids == std::vector<std::uint32_t>{65534, 7});
  // nobody's primary group is nogroup: a member by the user database.
  CHECK(std::find(ops.member_uids.begin(), ops.member_uids.end(), 65534u) != ops.member_uids.end());
  CHECK(std::find(ops.member_uids.begin(), ops.member_uids.end(), 0u) == ops.member_uids.end());
  CHECK(ops.max_connections == 3);
  CHECK(parsed_ok("").clients.empty());
}

TEST_CASE("config: [client.NAME] problems are reported with their line", "[config]") {
  CHECK(problem_of("[client.a]\nusers = nobody\nallow = /v1/kv-a/*\nusers2 = x\n") ==
        "/etc/x.ini:4: client.a.users2: unknown key (known: users, groups, allow, "
        "max_connections)");
  CHECK(problem_of("[client.a]\nusers = no-such-user-here\nallow = /v1/kv-a/*\n") ==
        "/etc/x.ini:2: client.a.users: unknown user \"no-such-user-here\"");
  CHECK(problem_of("[client.a]\n\ngroups = root, no-such-group-here\nallow = /v1/kv-a/*\n") ==
        "/etc/x.ini:3: client.a.groups: unknown group \"no-such-group-here\"");
  CHECK(problem_of("[client.a]\nallow = /v1/kv-a/*\n") ==
        "/etc/x.ini:1: client.a: matches no caller: set users, groups or both");
  CHECK(problem_of("[client.a]\nusers = root\nallow =\n") ==
        "/etc/x.ini:3: client.a.allow: must not be empty");
  CHECK(problem_of("[client.a]\nusers = root\n") ==
        "/etc/x.ini:1: client.a.allow: missing: the paths this client may read");
  CHECK(problem_of("[client.a]\nusers = root\nallow = /v1/secret/*\n") ==
        "/etc/x.ini:3: client.a.allow: pattern \"/v1/secret/*\" is not inside [proxy] allow");
  CHECK(problem_of("[client.a]\nusers = root\nallow = /v1/kv-a/*\nmax_connections = 0\n")
            .starts_with("/etc/x.ini:4: client.a.max_connections: "));
  CHECK(problem_of("[client.9a]\nusers = root\nallow = /v1/kv-a/*\n") ==
        "/etc/x.ini:1: client.9a: invalid client name in [client.NAME] (letters, digits, _ and "
        "-)");
}

TEST_CASE("config: a client's allow must lie inside [proxy] allow, wherever that is set",
          "[config]") {
  const std::string clients =
      "[client.a]\nusers = root\nallow = /v1/kv-a/*, /v1/kv-a-exact, /v1/database/creds/a\n";
  CHECK(parsed_ok(clients).clients.size() == 1);  // inside the default allow
  CHECK(parsed_ok(clients + "[proxy]\nallow = /v1/kv-a*, /v1/database/creds/a\n").clients.size() ==
        1);
  CHECK(problem_of(clients + "[proxy]\nallow = /v1/kv-a/*, /v1/database/creds/a\n") ==
        "/etc/x.ini:3: client.a.allow: pattern \"/v1/kv-a-exact\" is not inside [proxy] allow");
  // An exact [proxy] pattern holds only itself, not a wider client pattern.
  CHECK(problem_of("[proxy]\nallow = /v1/kv-a/x\n[client.a]\nusers = root\nallow = /v1/kv-a/*\n") ==
        "/etc/x.ini:5: client.a.allow: pattern \"/v1/kv-a/*\" is not inside [proxy] allow");
  CHECK(parsed_ok("[proxy]\nallow = /v1/kv-a/x\n[client.a]\nusers = root\nallow = /v1/kv-a/x\n")
            .clients.size() == 1);
}

TEST_CASE("config: [audit] destination is off, stderr or an absolute path", "[config]") {
  CHECK(parsed_ok("").audit.destination == "off");
  CHECK(parsed_ok("[audit]\ndestination = stderr\n").audit.destination == "stderr");
  CHECK(parsed_ok("[audit]\ndestination = /var/log/a.json\n").audit.destination ==
        "/var/log/a.json");
  CHECK(problem_of("[audit]\ndestination = audit.log\n") ==
        "/etc/x.ini:2: audit.destination: expected off, stderr or an absolute file path, not "
        "\"audit.log\"");
}

TEST_CASE("config: a unix socket without an address in the file means no TCP", "[config]") {
  CHECK(parsed_ok("[listener]\nunix_socket = /run/s.sock\n").listener.address.empty());
  CHECK(parsed_ok("[listener]\nunix_socket = /run/s.sock\naddress = 127.0.0.1:8100\n")
            .listener.address == "127.0.0.1:8100");
  CHECK(parsed_ok("").listener.address == "127.0.0.1:8100");
}

// Issue 20: the methods other than AppRole and the keys each needs.

TEST_CASE("config: auth.mount defaults to the method's name", "[config][auth]") {
  CHECK(parsed_ok("").auth.kind == config::auth_method::approle);
  const auto k8s = parsed_ok("[auth]\nmethod = kubernetes\nrole = app\n");
  CHECK(k8s.auth.kind == config::auth_method::kubernetes);
  CHECK(k8s.auth.method == "kubernetes");
  CHECK(k8s.auth.mount == "kubernetes");
  CHECK(k8s.auth.jwt_file == "/var/run/secrets/kubernetes.io/serviceaccount/token");
  CHECK(parsed_ok("[auth]\nmethod = jwt\nrole = ci\n").auth.mount == "jwt");
  CHECK(parsed_ok("[auth]\nmethod = token_file\ntoken_file = /run/t\n").auth.mount == "token_file");
  CHECK(parsed_ok("[auth]\nmethod = jwt\nmount = spiffe\nrole = ci\n").auth.mount == "spiffe");
  // The order of the keys does not matter: an explicit mount before the method is kept.
  CHECK(parsed_ok("[auth]\nmount = k8s-east\nmethod = kubernetes\nrole = a\n").auth.mount ==
        "k8s-east");
}

TEST_CASE(
    "config: auth.relogin defaults to on_expiry only where the platform refreshes the "
    "credential",
    "[config][auth]") {
  using config::relogin_policy;
  CHECK(parsed_ok("").auth.relogin == relogin_policy::never);
  CHECK(parsed_ok("[auth]\nmethod = kubernetes\nrole = a\n").auth.relogin ==
        relogin_policy::on_expiry);
  CHECK(parsed_ok("[auth]\nmethod = jwt\nrole = a\n").auth.relogin == relogin_policy::on_expiry);
  CHECK(parsed_ok("[vault]\nclient_cert = /c.pem\nclient_key = /k.pem\n[auth]\nmethod = cert\n")
            .auth.relogin == relogin_policy::on_expiry);
  CHECK(parsed_ok("[auth]\nmethod = token_file\ntoken_file = /t\n").auth.relogin ==
        relogin_policy::never);
  CHECK(parsed_ok("[auth]\nmethod = kubernetes\nrole = a\nrelogin = never\n").auth.relogin ==
        relogin_policy::never);
  CHECK(parsed_ok("[auth]\nrelogin = never\n").auth.relogin == relogin_policy::never);
}

TEST_CASE("config: relogin = on_expiry with approle cites the never-log-in-again rule",
          "[config][auth]") {
  CHECK(problem_of("[auth]\nmethod = approle\nrelogin = on_expiry\n") ==
        "/etc/x.ini:3: auth.relogin: on_expiry is not allowed with method = approle: never log "
        "in again after a failed renewal, the secret_id may have expired or been used up (use "
        "on_renew_failure)");
  // approle is the default method: the rule holds without `method =` too.
  CHECK(problem_of("[auth]\nrelogin = on_expiry\n").find("not allowed with method = approle") !=
        std::string::npos);
  CHECK(problem_of("[auth]\nmethod = token_file\ntoken_file = /t\nrelogin = on_expiry\n") ==
        "/etc/x.ini:4: auth.relogin: on_expiry is not possible with method = token_file: the "
        "sidecar has no credential to log in with");
  CHECK(problem_of("[auth]\nrelogin = always\n") ==
        "/etc/x.ini:2: auth.relogin: expected never or on_expiry, not \"always\"");
}

TEST_CASE("config: each auth method names the keys it requires", "[config][auth]") {
  CHECK(problem_of("[auth]\nmethod = kubernetes\n") ==
        "/etc/x.ini:2: auth.role: required with method = kubernetes");
  CHECK(problem_of("[auth]\nmethod = jwt\n") ==
        "/etc/x.ini:2: auth.role: required with method = jwt");
  CHECK(problem_of("[auth]\nmethod = jwt\nrole =\n") ==
        "/etc/x.ini:3: auth.role: required with method = jwt");
  CHECK(problem_of("[auth]\nmethod = kubernetes\nrole = a\njwt_file =\n") ==
        "/etc/x.ini:4: auth.jwt_file: required with method = kubernetes");
  CHECK(problem_of("[auth]\nmethod = token_file\n") ==
        "/etc/x.ini:2: auth.token_file: required with method = token_file");
  CHECK(problems_of("[auth]\nmethod = cert\n") ==
        list{"/etc/x.ini:2: vault.client_cert: required with auth.method = cert (the client "
             "certificate is the credential)",
             "/etc/x.ini:2: vault.client_key: required with auth.method = cert (the client "
             "certificate is the credential)"});
  // The role is optional for cert (Vault then tries every certificate role).
  const auto cert = parsed_ok(
      "[vault]\nclient_cert = /c.pem\nclient_key = /k.pem\n"
      "[auth]\nmethod = cert\n");
  CHECK(cert.auth.role.empty());
  CHECK(cert.auth.mount == "cert");
  // VAULT_CLIENT_CERT / VAULT_CLIENT_KEY count as the client certificate.
  CHECK(parse("[auth]\nmethod = cert\nrole = web\n",
              {{"VAULT_CLIENT_CERT", "/c.pem"}, {"VAULT_CLIENT_KEY", "/k.pem"}})
            .has_value());
}

TEST_CASE("config: a key another auth method reads is refused, not ignored", "[config][auth]") {
  CHECK(problem_of("[auth]\nmethod = kubernetes\nrole = a\nsecret_id_file = /s\n") ==
        "/etc/x.ini:4: auth.secret_id_file: not used with method = kubernetes");
  CHECK(problem_of("[auth]\nrole_id_file = /r\nrole = a\n") ==
        "/etc/x.ini:3: auth.role: not used with method = approle");
  CHECK(problem_of("[auth]\njwt_file = /j\n") ==
        "/etc/x.ini:2: auth.jwt_file: not used with method = approle");
  CHECK(problem_of("[auth]\nmethod = token_file\ntoken_file = /t\nrole = a\n") ==
        "/etc/x.ini:4: auth.role: not used with method = token_file");
  CHECK(problem_of("[auth]\nmethod = kubernetes\nrole = a\ntoken_file = /t\n") ==
        "/etc/x.ini:4: auth.token_file: not used with method = kubernetes");
  CHECK(problem_of("[vault]\nclient_cert = /c\nclient_key = /k\n[auth]\nmethod = cert\n"
                   "jwt_file = /j\n") ==
        "/etc/x.ini:6: auth.jwt_file: not used with method = cert");
  // Empty or default values are not a mistake: `check` lists every key that way.
  CHECK(parse("[auth]\nmethod = approle\nrole =\ntoken_file =\n"
              "jwt_file = /var/run/secrets/kubernetes.io/serviceaccount/token\n")
            .has_value());
  CHECK(parse("[auth]\nmethod = kubernetes\nrole = a\nrole_id_file =\n"
              "remove_secret_id_file_after_reading = false\n")
            .has_value());
  CHECK(problem_of("[auth]\nmethod = jwt\nrole = a\n"
                   "secret_id_response_wrapping_path = auth/approle/role/a/secret-id\n") ==
        "/etc/x.ini:4: auth.secret_id_response_wrapping_path: not used with method = jwt");
}

TEST_CASE("config: secret_id_response_wrapping_path is a Vault path", "[config][auth]") {
  const auto cfg = parsed_ok(
      "[auth]\nsecret_id_file = /run/wrapped\n"
      "secret_id_response_wrapping_path = auth/approle/role/app/secret-id\n");
  CHECK(cfg.auth.secret_id_response_wrapping_path == "auth/approle/role/app/secret-id");
  CHECK(parsed_ok("").auth.secret_id_response_wrapping_path.empty());
  CHECK(problem_of(
            "[auth]\nsecret_id_response_wrapping_path = /v1/auth/approle/role/a/secret-id\n") ==
        "/etc/x.ini:2: auth.secret_id_response_wrapping_path: expected a Vault path without "
        "leading or trailing / (e.g. auth/approle/role/myapp/secret-id), not "
        "\"/v1/auth/approle/role/a/secret-id\"");
}

TEST_CASE("config: the upstream budget and negative_ttl, defaults and bounds", "[config]") {
  const auto defaults = parsed_ok("");
  CHECK(defaults.vault.rate_limit == 0);
  CHECK(defaults.vault.max_concurrent_requests == 0);
  CHECK(defaults.cache.negative_ttl == 5s);

  const auto set = parsed_ok(
      "[vault]\nrate_limit = 20\nmax_concurrent_requests = 8\n[cache]\nnegative_ttl = 0\n");
  CHECK(set.vault.rate_limit == 20);
  CHECK(set.vault.max_concurrent_requests == 8);
  CHECK(set.cache.negative_ttl == 0s);
  CHECK(parsed_ok("[cache]\nnegative_ttl = 500ms\n").cache.negative_ttl == 500ms);

  CHECK(problem_of("[vault]\nrate_limit = -1\n") ==
        "/etc/x.ini:2: vault.rate_limit: expected a whole number from 0 to 1000000, not \"-1\"");
  CHECK(problem_of("[vault]\nmax_concurrent_requests = lots\n") ==
        "/etc/x.ini:2: vault.max_concurrent_requests: expected a whole number from 0 to 100000, "
        "not \"lots\"");
  CHECK(problem_of("[cache]\nnegative_ttl = soon\n")
            .starts_with("/etc/x.ini:2: cache.negative_ttl: invalid duration \"soon\""));
}
