#include <sidecar/app/entry.hpp>
#include <sidecar/app/online_check.hpp>
#include <sidecar/testing/vault_double.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace sidecar;

namespace {

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

vault::response answer(unsigned status, std::string body) {
  return vault::response{.status = status,
                         .content_type = "application/json",
                         .body = core::secret_string{std::move(body)},
                         .headers = {}};
}

const app::capabilities read_list{.granted = {"list", "read"}, .error = {}};
const app::capabilities deny{.granted = {"deny"}, .error = {}};

}  // namespace

TEST_CASE("capability_path: the allow prefix before the star, without /v1/", "[app]") {
  CHECK(app::capability_path("/v1/kv-demo/*") == "kv-demo/");
  CHECK(app::capability_path("/v1/kv-*") == "kv-");
  CHECK(app::capability_path("/v1/database/creds/*") == "database/creds/");
  CHECK(app::capability_path("/v1/kv-demo/data/app") == "kv-demo/data/app");
  CHECK(app::capability_path("/sys/health") == "sys/health");
}

TEST_CASE("grants_read: read or root", "[app]") {
  CHECK(app::grants_read({"read"}));
  CHECK(app::grants_read({"list", "read", "update"}));
  CHECK(app::grants_read({"root"}));
  CHECK_FALSE(app::grants_read({"deny"}));
  CHECK_FALSE(app::grants_read({"list", "create", "update"}));
  CHECK_FALSE(app::grants_read({}));
}

TEST_CASE("parse_capabilities: each path from data, else the top level", "[app]") {
  const auto caps = app::parse_capabilities(
      answer(200, R"({"data":{"kv-demo/":["list","read"],"database/creds/":["deny"]},)"
                  R"("old/":["update"]})"),
      {"kv-demo/", "database/creds/", "old/", "missing/"});
  CHECK(caps.at("kv-demo/").granted == std::vector<std::string>{"list", "read"});
  CHECK(caps.at("kv-demo/").error.empty());
  CHECK(caps.at("database/creds/").granted == std::vector<std::string>{"deny"});
  CHECK(caps.at("old/").granted == std::vector<std::string>{"update"});
  CHECK(caps.at("missing/").granted.empty());
  CHECK(caps.at("missing/").error == "not in capabilities-self's answer");
}

TEST_CASE("parse_capabilities: an error status or a non-JSON body marks every path unknown",
          "[app]") {
  const auto refused = app::parse_capabilities(
      answer(403, R"({"errors":["1 error occurred:\n\t* permission denied\n\n"]})"), {"a/", "b/"});
  REQUIRE(refused.size() == 2);
  CHECK(refused.at("a/").error ==
        "capabilities-self answered 403: 1 error occurred: * permission denied");
  CHECK(refused.at("b/").granted.empty());
  const auto garbled = app::parse_capabilities(answer(200, "<html>"), {"a/"});
  CHECK(garbled.at("a/").error == "capabilities-self answered no JSON object");
}

TEST_CASE("allow_row: readable only when the prefix grants read", "[app]") {
  CHECK(app::allow_row("/v1/kv-demo/*", read_list) ==
        app::access_row{.source = "allow /v1/kv-demo/*",
                        .path = "kv-demo/",
                        .readable = true,
                        .reason = "capabilities: list, read",
                        .required = false});
  const auto denied = app::allow_row("/v1/database/creds/*", deny);
  CHECK_FALSE(denied.readable);
  CHECK(denied.reason == "capabilities: deny");
  const auto unknown =
      app::allow_row("/v1/kv-*", app::capabilities{.granted = {}, .error = "no answer: timeout"});
  CHECK_FALSE(unknown.readable);
  CHECK(unknown.reason == "capabilities unknown: no answer: timeout");
}

TEST_CASE("secret_row: the read decides, the capabilities explain", "[app]") {
  const auto ok = app::secret_row("app", "kv-demo/data/sample", read_list,
                                  app::read_outcome{.status = 200, .reason = {}}, false);
  CHECK(ok == app::access_row{.source = "secret app",
                              .path = "kv-demo/data/sample",
                              .readable = true,
                              .reason = "read 200; capabilities: list, read",
                              .required = true});

  const auto minted = app::secret_row("db", "database/creds/r", read_list,
                                      app::read_outcome{.status = 200, .reason = {}}, true);
  CHECK(minted.readable);
  CHECK(minted.reason ==
        "read 200 (new credentials, revoked with the check's token); capabilities: list, read");

  const auto refused = app::secret_row(
      "db", "database/creds/r", deny,
      app::read_outcome{.status = 403, .reason = "403: 1 error occurred: * permission denied"},
      true);
  CHECK_FALSE(refused.readable);
  CHECK(refused.reason == "read 403: 1 error occurred: * permission denied; capabilities: deny");

  // read is granted but the secret does not exist: still unreadable.
  const auto missing = app::secret_row("gone", "kv-demo/data/gone", read_list,
                                       app::read_outcome{.status = 404, .reason = "404:"}, false);
  CHECK_FALSE(missing.readable);

  const auto silent = app::secret_row("x", "kv-v1/x", read_list,
                                      app::read_outcome{.status = 204, .reason = {}}, false);
  CHECK_FALSE(silent.readable);
  CHECK(silent.reason == "read answered 204 without a secret; capabilities: list, read");

  const auto unreachable = app::secret_row(
      "x", "kv-v1/x", read_list, app::read_outcome{.status = 0, .reason = "timed out"}, false);
  CHECK(unreachable.reason == "no answer: timed out; capabilities: list, read");
}

TEST_CASE("format_table: aligned columns, yes/no, a summary of the [secrets] entries", "[app]") {
  const std::vector<app::access_row> rows{
      app::allow_row("/v1/kv-demo/*", read_list),
      app::secret_row("db", "database/creds/r", deny, app::read_outcome{403, "403: denied"}, true),
  };
  CHECK(app::format_table(rows) ==
        "SOURCE               PATH              READABLE  REASON\n"
        "allow /v1/kv-demo/*  kv-demo/          yes       capabilities: list, read\n"
        "secret db            database/creds/r  no        read 403: denied; capabilities: deny\n"
        "1 of 1 [secrets] entries are not readable\n");
  CHECK(app::format_table({}) ==
        "SOURCE  PATH  READABLE  REASON\nall 0 [secrets] entries are readable\n");
}

TEST_CASE("online_exit_code: 1 only for an unreadable [secrets] entry", "[app]") {
  const auto allowed_denied = app::allow_row("/v1/database/creds/*", deny);
  const auto secret_ok = app::secret_row("a", "kv/a", read_list, app::read_outcome{200, {}}, false);
  const auto secret_bad =
      app::secret_row("b", "kv/b", deny, app::read_outcome{403, "403: denied"}, false);
  CHECK(app::online_exit_code({}) == 0);
  CHECK(app::online_exit_code({allowed_denied, secret_ok}) == 0);
  CHECK(app::online_exit_code({secret_ok, secret_bad}) == 1);
  CHECK(app::secrets_unreadable == 1);
}

// ---- against the in-process Vault double ----

namespace {

constexpr const char* role_id = "check-role-id";
constexpr const char* secret_id = "check-secret-id";
constexpr const char* canary = "kv-canary-value-8631";

/// A Vault double where the role may read kv-demo/* but nothing under database/.
std::unique_ptr<testing::vault_double> kv_only_vault() {
  auto vault = std::make_unique<testing::vault_double>(
      testing::double_options{.seed = nlohmann::json::parse(R"({
        "kv_mounts": {"kv-demo": {"version": 2, "secrets": {"sample": {"password": ")" +
                                                            std::string{canary} + R"("}}}},
        "policies": {"app": {"kv-demo/*": ["read", "list"]}},
        "database_roles": [{"name": "myapp-role", "default_ttl": 60, "max_ttl": 300}],
        "approles": [{"name": "app", "role_id": "check-role-id",
                      "secret_id": "check-secret-id", "policies": ["app"]}]
      })")});
  return vault;
}

/// A directory with the credential files and a configuration, removed at the end.
class check_files {
 public:
  check_files() {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("sidecar-online-check-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    std::ofstream{dir_ / "role_id"} << role_id << '\n';
    std::ofstream{dir_ / "secret_id"} << secret_id << '\n';
  }
  ~check_files() { std::filesystem::remove_all(dir_); }
  check_files(const check_files&) = delete;
  check_files& operator=(const check_files&) = delete;

  /// Writes the INI file with `address` and the rest of `sections`; returns its path.
  std::string write(const std::string& address, std::string_view sections,
                    std::string_view secret_id_file = {}) {
    const auto path = (dir_ / "sidecar.ini").string();
    std::ofstream{path} << "[vault]\naddress = " << address
                        << "\nrequest_timeout = 2s\nmax_retries = 0\n"
                        << "[auth]\nrole_id_file = " << (dir_ / "role_id").string()
                        << "\nsecret_id_file = "
                        << (secret_id_file.empty() ? (dir_ / "secret_id").string()
                                                   : std::string{secret_id_file})
                        << "\nlogin_timeout = 1s\n"
                        << sections;
    return path;
  }
  [[nodiscard]] std::filesystem::path dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

struct outcome {
  int code;
  std::string out;
  std::string err;
};

outcome check_online(const std::string& config_path) {
  std::ostringstream out;
  std::ostringstream err;
  const config::env_lookup no_env = [](std::string_view) { return std::optional<std::string>{}; };
  const std::vector<std::string_view> arguments{"check", "--online", "--config", config_path};
  const int code = app::run_program(arguments, no_env, out, err);
  return {code, out.str(), err.str()};
}

}  // namespace

TEST_CASE("check --online: kv-demo readable, database not, exit 1, token revoked", "[app]") {
  const auto vault = kv_only_vault();
  check_files files;
  const auto result = check_online(files.write(vault->address(), R"(
[proxy]
allow = /v1/kv-demo/*, /v1/database/creds/*
[secrets]
app = kv-demo/data/sample
db = database/creds/myapp-role
)"));
  INFO(result.out << result.err);
  CHECK(result.code == 1);
  CHECK(contains(result.out, "allow /v1/kv-demo/*         kv-demo/                   yes"));
  CHECK(contains(result.out, "allow /v1/database/creds/*  database/creds/            no "));
  CHECK(contains(result.out, "secret app                  kv-demo/data/sample        yes"));
  CHECK(contains(result.out, "secret db                   database/creds/myapp-role  no "));
  CHECK(contains(result.out, "1 of 2 [secrets] entries are not readable"));
  CHECK_FALSE(contains(result.out + result.err, canary));
  CHECK(vault->count("POST", "/v1/auth/approle/login") == 1);
  CHECK(vault->count("POST", "/v1/sys/capabilities-self") == 1);
  CHECK(vault->count("GET", "/v1/kv-demo/data/sample") == 1);
  CHECK(vault->count("GET", "/v1/database/creds/myapp-role") == 1);
  CHECK(vault->count("POST", "/v1/auth/token/revoke-self") == 1);
}

TEST_CASE("check --online: every [secrets] entry readable exits 0", "[app]") {
  const auto vault = kv_only_vault();
  check_files files;
  const auto result = check_online(files.write(vault->address(), R"(
[proxy]
allow = /v1/kv-demo/*
[secrets]
app = kv-demo/data/sample
)"));
  INFO(result.out << result.err);
  CHECK(result.code == 0);
  CHECK(contains(result.out, "all 1 [secrets] entries are readable"));
  CHECK(vault->count("POST", "/v1/auth/token/revoke-self") == 1);
}

TEST_CASE("check --online: a refused login exits 77 without a table", "[app]") {
  const auto vault = kv_only_vault();
  check_files files;
  std::ofstream{files.dir() / "wrong_secret_id"} << "not-the-secret-id\n";
  const auto result =
      check_online(files.write(vault->address(), "[secrets]\napp = kv-demo/data/sample\n",
                               (files.dir() / "wrong_secret_id").string()));
  CHECK(result.code == 77);
  CHECK(result.out.empty());
  CHECK(contains(result.err, "login failed"));
  CHECK(vault->count("GET", "/v1/kv-demo/") == 0);
}

TEST_CASE("check --online: an unreachable Vault exits 69 at login_timeout", "[app]") {
  std::string address;
  {
    const auto gone = kv_only_vault();
    address = gone->address();
  }  // nothing listens there any more
  check_files files;
  const auto result = check_online(files.write(address, ""));
  CHECK(result.code == 69);
  CHECK(result.out.empty());
}

TEST_CASE("check --online: a bad file exits 78 before contacting Vault", "[app]") {
  const auto vault = kv_only_vault();
  check_files files;
  const auto result = check_online(files.write(vault->address(), "[cache]\nttl = soon\n"));
  CHECK(result.code == 78);
  CHECK(vault->count("", "/v1/") == 0);
}

TEST_CASE("check --online: remove_secret_id_file_after_reading keeps the file", "[app]") {
  const auto vault = kv_only_vault();
  check_files files;
  const auto result =
      check_online(files.write(vault->address(), "remove_secret_id_file_after_reading = true\n"));
  CHECK(result.code == 0);
  CHECK(std::filesystem::exists(files.dir() / "secret_id"));
}
