// The double's database mount backed by a real PostgreSQL: creds minted over HTTP log in,
// renewals move VALID UNTIL, revocation drops the role. The server is named by
// SIDECAR_TEST_POSTGRES (scripts/postgres.sh start DIR prints it); without it the cases that
// need it pass with a WARN, which CTest reports as skipped.

#include "test_client.hpp"

#include <sidecar/testing/memory_database_backend.hpp>
#include <sidecar/testing/postgres_database_backend.hpp>
#include <sidecar/testing/vault_double.hpp>

#include <catch2/catch.hpp>
#include <libpq-fe.h>

#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

using namespace sidecar;
using namespace sidecar::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::optional<std::string> postgres_from_env() {
  const char* conninfo = std::getenv("SIDECAR_TEST_POSTGRES");
  if (conninfo == nullptr || *conninfo == '\0') return std::nullopt;
  return std::string{conninfo};
}

// Every case that needs the server starts with this; the message is what CTest matches.
#define SIDECAR_REQUIRE_POSTGRES(conninfo)                                 \
  const auto conninfo = postgres_from_env();                               \
  if (!conninfo) {                                                         \
    WARN(                                                                  \
        "skipped: SIDECAR_TEST_POSTGRES is not set (export the output of " \
        "scripts/postgres.sh start DIR)");                                 \
    return;                                                                \
  }

// One libpq session: as the admin of the connection string, or with its host, port and
// database but another user and password.
class pg_session {
 public:
  explicit pg_session(const std::string& conninfo, const std::string& user = {},
                      const std::string& password = {}) {
    std::vector<const char*> keywords{"dbname"};
    std::vector<const char*> values{conninfo.c_str()};
    if (!user.empty()) {
      keywords.insert(keywords.end(), {"user", "password"});
      values.insert(values.end(), {user.c_str(), password.c_str()});
    }
    keywords.push_back(nullptr);
    values.push_back(nullptr);
    connection_.reset(PQconnectdbParams(keywords.data(), values.data(), 1));
    // Notices ("drop cascades to ...") are expected here; keep them out of the test output.
    PQsetNoticeProcessor(
        connection_.get(), [](void*, const char*) {}, nullptr);
  }

  [[nodiscard]] bool connected() const { return PQstatus(connection_.get()) == CONNECTION_OK; }
  [[nodiscard]] std::string error() const { return PQerrorMessage(connection_.get()); }

  /// The first column of the first row, or empty when the query failed or found nothing.
  std::optional<std::string> scalar(const std::string& query, const std::string& parameter = {}) {
    const std::array<const char*, 1> values{parameter.c_str()};
    std::unique_ptr<PGresult, decltype(&PQclear)> result{
        PQexecParams(connection_.get(), query.c_str(), parameter.empty() ? 0 : 1, nullptr,
                     values.data(), nullptr, nullptr, 0),
        &PQclear};
    const auto status = PQresultStatus(result.get());
    if (status == PGRES_COMMAND_OK) return std::string{};
    if (status != PGRES_TUPLES_OK || PQntuples(result.get()) == 0) return std::nullopt;
    return std::string{PQgetvalue(result.get(), 0, 0)};
  }

 private:
  std::unique_ptr<PGconn, decltype(&PQfinish)> connection_{nullptr, &PQfinish};
};

bool can_log_in(const std::string& conninfo, const std::string& user, const std::string& password) {
  pg_session session{conninfo, user, password};
  return session.connected() && session.scalar("SELECT 1") == "1";
}

bool role_exists(pg_session& admin, const std::string& name) {
  return admin.scalar("SELECT 1 FROM pg_roles WHERE rolname = $1", name) == "1";
}

// Seconds from now (wall clock) to the role's VALID UNTIL.
long long valid_for(pg_session& admin, const std::string& name) {
  const auto until = admin.scalar(
      "SELECT extract(epoch FROM rolvaliduntil)::bigint FROM pg_roles WHERE rolname = $1", name);
  REQUIRE(until.has_value());
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return std::stoll(*until) - now;
}

struct minted {
  std::string lease_id, username, password;
};

// A double on the system clock (VALID UNTIL is real time) with a `db` role and a token that
// may read creds and renew or revoke leases.
struct double_fixture {
  std::shared_ptr<database_backend> backend;
  vault_double vault;
  std::string token;

  explicit double_fixture(std::shared_ptr<database_backend> database, long long default_ttl = 60)
      : backend{database}, vault{{.database = std::move(database)}} {
    vault.add_database_role({.name = "db", .default_ttl = default_ttl, .max_ttl = 600});
    vault.add_policy("db", {{"database/creds/*", {"read"}}, {"sys/leases/*", {"update"}}});
    token = vault.create_token({"db"}, 3600);
  }

  minted mint() {
    const auto reply = send_once(vault.port(), "GET", "/v1/database/creds/db", {}, token);
    REQUIRE(reply.status == 200);
    const auto body = reply.json();
    return {body["lease_id"].get<std::string>(), body["data"]["username"].get<std::string>(),
            body["data"]["password"].get<std::string>()};
  }

  http_reply lease_call(const std::string& operation, json body) {
    return send_once(vault.port(), "PUT", "/v1/sys/leases/" + operation, body.dump(), token);
  }
};

}  // namespace

TEST_CASE("postgres_timestamp: UTC with an explicit offset, whole seconds", "[postgres]") {
  using namespace std::chrono;
  // A local zone far from UTC: the timestamp must not follow it.
  const char* saved = std::getenv("TZ");
  const std::string previous = saved ? saved : "";
  ::setenv("TZ", "Asia/Tokyo", 1);
  ::tzset();
  const auto time = sys_days{year{2026} / 3 / 4} + 5h + 6min + 7s + 890ms;
  CHECK(postgres_timestamp(time) == "2026-03-04 05:06:07+0000");
  CHECK(postgres_timestamp(sys_days{year{1999} / 12 / 31} + 23h + 59min + 59s) ==
        "1999-12-31 23:59:59+0000");
  if (saved) {
    ::setenv("TZ", previous.c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
}

TEST_CASE("vault_double: renewing a database lease moves the user's expiry in the backend",
          "[postgres]") {
  core::manual_clock clock;
  auto memory = std::make_shared<memory_database_backend>();
  vault_double vault{{.clock = &clock, .database = memory}};
  vault.add_database_role({.name = "db", .default_ttl = 60, .max_ttl = 600});
  const auto token = vault.create_token({"root"}, 3600);
  auto reply = send_once(vault.port(), "GET", "/v1/database/creds/db", {}, token);
  REQUIRE(reply.status == 200);
  const auto lease_id = reply.json()["lease_id"].get<std::string>();
  const auto username = reply.json()["data"]["username"].get<std::string>();
  CHECK(memory->expiration_of(username) == clock.wall_now() + 60s);

  clock.advance(30s);
  reply = send_once(vault.port(), "PUT", "/v1/sys/leases/renew",
                    json{{"lease_id", lease_id}, {"increment", 200}}.dump(), token);
  REQUIRE(reply.status == 200);
  CHECK(reply.json()["lease_duration"] == 200);
  CHECK(memory->expiration_of(username) == clock.wall_now() + 200s);

  // A backend that cannot follow answers 500, like a failing plugin, and the lease keeps its
  // expiry (lookup still reports the earlier renewal's).
  memory->drop_user(username);
  reply = send_once(vault.port(), "PUT", "/v1/sys/leases/renew",
                    json{{"lease_id", lease_id}, {"increment", 400}}.dump(), token);
  CHECK(reply.status == 500);
  CHECK(reply.body.find("does not exist") != std::string::npos);
  reply = send_once(vault.port(), "PUT", "/v1/sys/leases/lookup",
                    json{{"lease_id", lease_id}}.dump(), token);
  REQUIRE(reply.status == 200);
  CHECK(reply.json()["data"]["ttl"] == 200);
}

TEST_CASE("postgres_database_backend: an unreachable server fails at construction", "[postgres]") {
  // Port 1 on loopback: refused at once.
  CHECK_THROWS_WITH(postgres_database_backend{core::secret_string{std::string{
                        "host=127.0.0.1 port=1 user=nobody dbname=postgres connect_timeout=2"}}},
                    Catch::Contains("cannot connect"));
}

TEST_CASE("postgres_database_backend: minted creds log in until revoked", "[postgres]") {
  SIDECAR_REQUIRE_POSTGRES(conninfo);
  double_fixture f{std::make_shared<postgres_database_backend>(core::secret_string{*conninfo})};
  pg_session admin{*conninfo};
  REQUIRE(admin.connected());

  const auto creds = f.mint();
  CHECK(role_exists(admin, creds.username));
  CHECK(can_log_in(*conninfo, creds.username, creds.password));
  CHECK_FALSE(can_log_in(*conninfo, creds.username, creds.password + "x"));
  // VALID UNTIL is the lease's end: 60 s from now, give or take the time this test took.
  const auto valid = valid_for(admin, creds.username);
  CHECK(valid > 50);
  CHECK(valid <= 60);

  const auto reply = f.lease_call("revoke", {{"lease_id", creds.lease_id}});
  CHECK(reply.status == 204);
  CHECK_FALSE(role_exists(admin, creds.username));
  pg_session refused{*conninfo, creds.username, creds.password};
  CHECK_FALSE(refused.connected());
  CHECK(f.vault.live_leases("database/creds/db/") == 0);
}

TEST_CASE("postgres_database_backend: an open session keeps working while other creds come and go",
          "[postgres]") {
  SIDECAR_REQUIRE_POSTGRES(conninfo);
  double_fixture f{std::make_shared<postgres_database_backend>(core::secret_string{*conninfo})};
  const auto first = f.mint();
  pg_session open{*conninfo, first.username, first.password};
  REQUIRE(open.connected());

  const auto second = f.mint();
  CHECK(second.username != first.username);
  CHECK(open.scalar("SELECT 1") == "1");
  CHECK(open.scalar("SELECT current_user") == first.username);
  CHECK(can_log_in(*conninfo, second.username, second.password));

  REQUIRE(f.lease_call("revoke", {{"lease_id", second.lease_id}}).status == 204);
  CHECK_FALSE(can_log_in(*conninfo, second.username, second.password));
  CHECK(open.scalar("SELECT 2") == "2");
  CHECK(can_log_in(*conninfo, first.username, first.password));
  REQUIRE(f.lease_call("revoke", {{"lease_id", first.lease_id}}).status == 204);
}

TEST_CASE("postgres_database_backend: renewal moves VALID UNTIL to the new lease end",
          "[postgres]") {
  SIDECAR_REQUIRE_POSTGRES(conninfo);
  double_fixture f{std::make_shared<postgres_database_backend>(core::secret_string{*conninfo})};
  pg_session admin{*conninfo};
  REQUIRE(admin.connected());
  const auto creds = f.mint();
  CHECK(valid_for(admin, creds.username) <= 60);

  const auto reply = f.lease_call("renew", {{"lease_id", creds.lease_id}, {"increment", 300}});
  REQUIRE(reply.status == 200);
  CHECK(reply.json()["lease_duration"] == 300);
  const auto valid = valid_for(admin, creds.username);
  CHECK(valid > 290);
  CHECK(valid <= 300);
  CHECK(can_log_in(*conninfo, creds.username, creds.password));
  REQUIRE(f.lease_call("revoke", {{"lease_id", creds.lease_id}}).status == 204);
}

TEST_CASE("postgres_database_backend: the server refuses a login once VALID UNTIL has passed",
          "[postgres]") {
  SIDECAR_REQUIRE_POSTGRES(conninfo);
  // A 2 s lease: VALID UNTIL is cut to whole seconds, so it lies 1 to 2 s ahead.
  double_fixture f{std::make_shared<postgres_database_backend>(core::secret_string{*conninfo}), 2};
  pg_session admin{*conninfo};
  REQUIRE(admin.connected());
  const auto creds = f.mint();
  CHECK(can_log_in(*conninfo, creds.username, creds.password));

  // No request reaches the double meanwhile, so it has not swept the lease: the refusal is
  // PostgreSQL's own.
  std::this_thread::sleep_for(3500ms);
  CHECK(role_exists(admin, creds.username));
  CHECK_FALSE(can_log_in(*conninfo, creds.username, creds.password));

  // The next request sweeps the expired lease and drops the role.
  CHECK(f.lease_call("lookup", {{"lease_id", creds.lease_id}}).status == 400);
  CHECK_FALSE(role_exists(admin, creds.username));
}

TEST_CASE("postgres_database_backend: revocation drops a role that was granted privileges",
          "[postgres]") {
  SIDECAR_REQUIRE_POSTGRES(conninfo);
  double_fixture f{std::make_shared<postgres_database_backend>(core::secret_string{*conninfo})};
  pg_session admin{*conninfo};
  REQUIRE(admin.connected());
  REQUIRE(admin.scalar("CREATE SCHEMA IF NOT EXISTS double_grants"));
  REQUIRE(admin.scalar("CREATE TABLE IF NOT EXISTS double_grants.items (id int)"));
  REQUIRE(admin.scalar("CREATE SEQUENCE IF NOT EXISTS double_grants.ids"));
  const auto creds = f.mint();
  const auto role = "\"" + creds.username + "\"";
  REQUIRE(admin.scalar("GRANT USAGE ON SCHEMA double_grants TO " + role));
  REQUIRE(admin.scalar("GRANT SELECT, INSERT ON double_grants.items TO " + role));
  REQUIRE(admin.scalar("GRANT USAGE ON SEQUENCE double_grants.ids TO " + role));
  {
    pg_session user{*conninfo, creds.username, creds.password};
    REQUIRE(user.connected());
    CHECK(user.scalar("SELECT count(*) FROM double_grants.items") == "0");
  }
  // Without the REVOKEs, DROP ROLE would fail: "role ... cannot be dropped because some
  // objects depend on it".
  REQUIRE(f.lease_call("revoke", {{"lease_id", creds.lease_id}}).status == 204);
  CHECK_FALSE(role_exists(admin, creds.username));
  CHECK(admin.scalar("DROP SCHEMA double_grants CASCADE"));
}

TEST_CASE(
    "postgres_database_backend: names and passwords are quoted, and errors never show "
    "the password",
    "[postgres]") {
  SIDECAR_REQUIRE_POSTGRES(conninfo);
  postgres_database_backend backend{core::secret_string{*conninfo}};
  pg_session admin{*conninfo};
  REQUIRE(admin.connected());
  const std::string hostile_name = R"(v-x"; DROP ROLE sidecar_admin; --'\)";
  const std::string hostile_password = R"(p'; ALTER ROLE x SUPERUSER; --\"ü)";
  const database_user user{.username = hostile_name,
                           .password = core::secret_string{hostile_password},
                           .role = "db",
                           .expiration = std::chrono::system_clock::now() + 60s};
  REQUIRE_FALSE(backend.create_user(user));
  CHECK(role_exists(admin, hostile_name));
  CHECK(admin.scalar("SELECT rolsuper::text FROM pg_roles WHERE rolname = $1", hostile_name) ==
        "false");
  CHECK(can_log_in(*conninfo, hostile_name, hostile_password));

  const auto again = backend.create_user(user);
  REQUIRE(again.has_value());
  CHECK(again->find("already exists") != std::string::npos);
  CHECK(again->find(hostile_password) == std::string::npos);
  CHECK(again->find("PASSWORD") == std::string::npos);

  REQUIRE_FALSE(backend.renew_user(hostile_name, std::chrono::system_clock::now() + 120s));
  CHECK(valid_for(admin, hostile_name) > 110);

  backend.drop_user(hostile_name);
  CHECK_FALSE(role_exists(admin, hostile_name));
  backend.drop_user(hostile_name);  // already gone: nothing to do, as in Vault
  CHECK(backend.renew_user(hostile_name, std::chrono::system_clock::now() + 60s).has_value());
  pg_session still_admin{*conninfo};
  CHECK(still_admin.connected());
}

TEST_CASE("postgres_database_backend: a connection the server closed is re-established once",
          "[postgres]") {
  SIDECAR_REQUIRE_POSTGRES(conninfo);
  // Its own application_name, so terminating its session touches no other test's.
  const auto name = "reconnect-" + std::to_string(::getpid());
  double_fixture f{std::make_shared<postgres_database_backend>(
      core::secret_string{*conninfo + " application_name=" + name})};
  pg_session admin{*conninfo};
  REQUIRE(admin.connected());
  REQUIRE(admin.scalar("SELECT count(pg_terminate_backend(pid))::text FROM pg_stat_activity "
                       "WHERE application_name = $1",
                       name) == "1");

  const auto creds = f.mint();
  CHECK(can_log_in(*conninfo, creds.username, creds.password));
  REQUIRE(f.lease_call("revoke", {{"lease_id", creds.lease_id}}).status == 204);
  CHECK_FALSE(role_exists(admin, creds.username));
}

namespace {

// vault-dev-double as a child process, seeded with the demo seed, a PostgreSQL behind its
// database mount.
class double_process {
 public:
  double_process(const std::filesystem::path& dir, std::vector<std::string> postgres_args)
      : dir_{dir} {
    std::vector<std::string> args{SIDECAR_VAULT_DEV_DOUBLE,
                                  "--seed",
                                  SIDECAR_DEMO_SEED,
                                  "--port-file",
                                  (dir / "port").string(),
                                  "--log-level",
                                  "warn"};
    args.insert(args.end(), postgres_args.begin(), postgres_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    REQUIRE(::posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
  }
  ~double_process() {
    if (pid_ > 0) (void)stop();
  }
  double_process(const double_process&) = delete;
  double_process& operator=(const double_process&) = delete;

  /// The port once the double has written it; 0 when the process ended first.
  unsigned short port() {
    const auto file = dir_ / "port";
    for (int i = 0; i < 500 && !std::filesystem::exists(file); ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_status_ = status;
        return 0;
      }
      std::this_thread::sleep_for(20ms);
    }
    std::ifstream in{file};
    unsigned short port = 0;
    in >> port;
    return port;
  }

  int stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, &exit_status_, 0);
      pid_ = -1;
    }
    return exit_status_;
  }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int exit_status_ = 0;
};

struct temp_dir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("postgres-double-" + std::to_string(::getpid()) + "-" +
       std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  temp_dir() { std::filesystem::create_directories(path); }
  ~temp_dir() { std::filesystem::remove_all(path); }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

}  // namespace

TEST_CASE("vault-dev-double: --postgres-file mints real roles", "[postgres]") {
  SIDECAR_REQUIRE_POSTGRES(conninfo);
  temp_dir dir;
  const auto conninfo_file = (dir.path / "conninfo").string();
  std::ofstream{conninfo_file} << *conninfo << "\n";
  pg_session admin{*conninfo};
  REQUIRE(admin.connected());

  double_process process{dir.path, {"--postgres-file", conninfo_file}};
  const auto port = process.port();
  REQUIRE(port != 0);
  auto reply = send_once(port, "POST", "/v1/auth/approle/login",
                         json{{"role_id", "6e3d9c1a-5f0b-4c7e-9a2d-demo00role01"},
                              {"secret_id", "b7f4e2c9-1d8a-4e6b-8c3f-demo0secret1"}}
                             .dump());
  REQUIRE(reply.status == 200);
  const auto token = reply.json()["auth"]["client_token"].get<std::string>();
  reply = send_once(port, "GET", "/v1/database/creds/myapp-role", {}, token);
  REQUIRE(reply.status == 200);
  const auto username = reply.json()["data"]["username"].get<std::string>();
  const auto password = reply.json()["data"]["password"].get<std::string>();
  CHECK(can_log_in(*conninfo, username, password));

  // Revoking the token revokes its leases, and with them the role.
  REQUIRE(send_once(port, "POST", "/v1/auth/token/revoke-self", {}, token).status == 204);
  CHECK_FALSE(role_exists(admin, username));
  CHECK(process.stop() == 0);
}

TEST_CASE("vault-dev-double: an unreachable --postgres fails at start-up", "[postgres]") {
  temp_dir dir;
  double_process process{dir.path, {"--postgres", "host=127.0.0.1 port=1 connect_timeout=2"}};
  CHECK(process.port() == 0);
  const auto status = process.stop();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
}
