#include <sidecar/app/check_command.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unistd.h>

using namespace sidecar;
using namespace std::chrono_literals;

namespace {

config::env_lookup environment(std::map<std::string, std::string, std::less<>> variables) {
  return [variables = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    const auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
}

config::config parsed(std::string_view text) {
  auto loaded = config::parse(text, "/etc/x.ini", environment({}));
  REQUIRE(loaded.has_value());
  return std::move(*loaded);
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// A file in a directory of its own, removed at the end of the test.
class temp_file {
 public:
  explicit temp_file(std::string_view contents)
      : dir_{std::filesystem::temp_directory_path() /
             ("sidecar-check-test-" + std::to_string(::getpid()))} {
    std::filesystem::create_directories(dir_);
    std::ofstream{path()} << contents;
  }
  ~temp_file() { std::filesystem::remove_all(dir_); }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  [[nodiscard]] std::string path() const { return (dir_ / "sidecar.ini").string(); }

 private:
  std::filesystem::path dir_;
};

constexpr std::string_view full = R"ini(
[vault]
address = https://vault:8200
tls_skip_verify = true
client_cert = /c.pem
client_key = /k.pem
[auth]
role_id_file = /run/secrets/role_id
renew_at = 0.75
on_renew_failure = serve_cached
login_timeout = 90s
[listener]
address =
unix_socket = /run/s.sock
socket_mode = 0600
[proxy]
allow = /v1/kv-*
[cache]
max_stale = 0
ttl = 1500ms
[database]
strategy = renew
[log]
format = json
level = warn
[exec]
command = /bin/app --name "my app" 'it'\''s'
restart_stop_signal = SIGHUP
[secrets]
db = database/creds/r
[env]
DB_USER = {{db.username}}
[template.app]
source = /a.tmpl
destination = /run/a
perms = 0644
command = reload app
[security]
lock_memory = true
[audit]
destination = /var/log/vault-sidecar/audit.json
[client.web]
users = nobody, 4242
allow = /v1/kv-web/*
[client.ops]
groups = nogroup
allow = /v1/kv-ops/*
max_connections = 8
)ini";

}  // namespace

TEST_CASE("describe: parses back to the same configuration", "[app]") {
  const auto original = parsed(full);
  const auto described = app::describe(original, environment({}));
  const auto again = parsed(described);
  CHECK(app::describe(again, environment({})) == described);
  CHECK(again.vault.address == "https://vault:8200");
  CHECK(again.vault.tls_skip_verify);
  CHECK(again.auth.renew_at == 0.75);
  CHECK(again.auth.on_renew_failure == config::renew_failure_policy::serve_cached);
  CHECK(again.auth.login_timeout == 90s);
  CHECK(again.listener.address.empty());
  CHECK(again.listener.socket_mode == 0600u);
  CHECK(again.cache.ttl == 1500ms);
  CHECK(again.cache.max_stale == 0s);
  CHECK(again.log.format == core::log_format::json);
  CHECK(again.exec.command == original.exec.command);
  CHECK(again.exec.restart_stop_signal == original.exec.restart_stop_signal);
  CHECK(again.secrets == original.secrets);
  CHECK(again.env == original.env);
  REQUIRE(again.templates.size() == 1);
  CHECK(again.templates[0].perms == 0644u);
  CHECK(again.templates[0].command == "reload app");
  CHECK(again.security.lock_memory);
  CHECK(again.audit.destination == "/var/log/vault-sidecar/audit.json");
  CHECK(again.clients == original.clients);
  REQUIRE(again.clients.size() == 2);
  CHECK(again.clients[1].max_connections == 8);
}

TEST_CASE("describe: says where credentials come from, never what they are", "[app]") {
  const auto cfg = parsed("");
  const auto without = app::describe(cfg, environment({}));
  CHECK(contains(without, "role_id_file =  ; not set: role_id from $VAULT_ROLE_ID (not set)"));
  const auto with = app::describe(
      cfg, environment({{"VAULT_ROLE_ID", "role-1234"}, {"VAULT_SECRET_ID", "s3cr3t-value"}}));
  CHECK(contains(with, "$VAULT_ROLE_ID (set)"));
  CHECK(contains(with, "$VAULT_SECRET_ID (set)"));
  CHECK_FALSE(contains(with, "role-1234"));
  CHECK_FALSE(contains(with, "s3cr3t-value"));
  CHECK(contains(app::describe(parsed("[auth]\nrole_id_file = /r\n"), environment({})),
                 "role_id_file = /r\n"));
}

TEST_CASE("describe: warns when TLS verification is off", "[app]") {
  CHECK(contains(app::describe(parsed("[vault]\ntls_skip_verify = true\n"), environment({})),
                 "tls_skip_verify = true  ; WARNING"));
}

TEST_CASE("run_check: a valid file prints the summary and returns 0", "[app]") {
  const temp_file file{"[cache]\nttl = 42s\n"};
  std::ostringstream out;
  std::ostringstream err;
  CHECK(app::run_check(file.path(), environment({}), out, err) == 0);
  CHECK(contains(out.str(), file.path() + ": valid"));
  CHECK(contains(out.str(), "[cache]\nttl = 42s\n"));
  CHECK(err.str().empty());
}

TEST_CASE("run_check: problems go to err with 78", "[app]") {
  const temp_file file{"[cache]\nttl = soon\n[listener]\naddress = 0.0.0.0:1\n"};
  std::ostringstream out;
  std::ostringstream err;
  CHECK(app::run_check(file.path(), environment({}), out, err) == 78);
  CHECK(out.str().empty());
  CHECK(contains(err.str(), "the configuration has 2 problems:\n"));
  CHECK(contains(err.str(), file.path() + ":2: cache.ttl: invalid duration \"soon\""));
  CHECK(contains(err.str(), file.path() + ":4: listener.address:"));
}

TEST_CASE("run_check: a missing file is one problem", "[app]") {
  std::ostringstream out;
  std::ostringstream err;
  CHECK(app::run_check("/nonexistent/sidecar.ini", environment({}), out, err) == 78);
  CHECK(err.str() ==
        "vault-sidecar: the configuration has 1 problem:\n"
        "/nonexistent/sidecar.ini: cannot read: No such file or directory\n");
}
