#include <sidecar/testing/postgres_database_backend.hpp>

#include <sidecar/core/log.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <libpq-fe.h>

#include <array>
#include <chrono>
#include <stdexcept>
#include <vector>

namespace sidecar::testing {
namespace {

struct result_deleter {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

// libpq's messages end in a newline and may span lines; one line reads better in a Vault
// error body and a log.
std::string one_line(const char* message) {
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (auto& c : text) {
    if (c == '\n') c = ' ';
  }
  return text.empty() ? "unknown PostgreSQL error" : text;
}

// The primary message only: PQresultErrorMessage may quote the statement ("LINE 1: CREATE
// ROLE ... PASSWORD '...'"), and the statement holds the password.
std::string failure_of(const PGresult* result, PGconn* connection) {
  if (result != nullptr) {
    if (const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)) {
      return one_line(primary);
    }
  }
  return one_line(PQerrorMessage(connection));
}

// Runs one statement; empty on success, else the reason.
std::optional<std::string> execute(PGconn* connection, const std::string& statement) {
  const result_ptr result{PQexec(connection, statement.c_str())};
  const auto status = PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return std::nullopt;
  return failure_of(result.get(), connection);
}

// A query with one text parameter; the rows' first column, or the reason it failed.
std::optional<std::string> query_column(PGconn* connection, const char* query,
                                        const std::string& parameter,
                                        std::vector<std::string>& rows) {
  const std::array<const char*, 1> values{parameter.c_str()};
  const result_ptr result{
      PQexecParams(connection, query, 1, nullptr, values.data(), nullptr, nullptr, 0)};
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) return failure_of(result.get(), connection);
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    rows.emplace_back(PQgetvalue(result.get(), row, 0));
  }
  return std::nullopt;
}

// libpq quotes by the connection's client encoding; it refuses only invalidly encoded text,
// and says why in the connection's error message.
std::optional<std::string> quote_identifier(PGconn* connection, const std::string& name,
                                            std::string& quoted) {
  char* text = PQescapeIdentifier(connection, name.data(), name.size());
  if (text == nullptr) return one_line(PQerrorMessage(connection));
  quoted = text;
  PQfreemem(text);
  return std::nullopt;
}

// Like quote_identifier, for a literal that may be a password: libpq's copy is cleansed
// before it goes back to the allocator.
std::optional<std::string> quote_literal(PGconn* connection, std::string_view value,
                                         std::string& quoted) {
  char* text = PQescapeLiteral(connection, value.data(), value.size());
  if (text == nullptr) return one_line(PQerrorMessage(connection));
  quoted = text;
  OPENSSL_cleanse(text, quoted.size());
  PQfreemem(text);
  return std::nullopt;
}

// Server notices (REVOKE of a privilege the role never had warns) are expected; they go to
// the debug log instead of libpq's default of stderr.
void log_notice(void* /*unused*/, const char* message) {
  core::logger("postgres")->debug("{}", one_line(message));
}

}  // namespace

std::string postgres_timestamp(core::wall_time time) {
  // fmt 9 formats a system_clock time_point in local time; gmtime keeps it UTC whatever TZ is.
  const auto seconds = std::chrono::system_clock::to_time_t(time);
  return fmt::format("{:%Y-%m-%d %H:%M:%S}+0000", fmt::gmtime(seconds));
}

void postgres_database_backend::connection_deleter::operator()(pg_conn* connection) const noexcept {
  PQfinish(connection);
}

postgres_database_backend::postgres_database_backend(const core::secret_string& conninfo) {
  // Defaults first: with expand_dbname, later keywords win, so the caller's connection string
  // can still set its own connect_timeout or options.
  std::string dbname{conninfo.reveal()};
  const std::array<const char*, 6> keywords{"connect_timeout",  "tcp_user_timeout", "options",
                                            "application_name", "dbname",           nullptr};
  const std::array<const char*, 6> values{"5",
                                          "5000",
                                          "-c statement_timeout=5000 -c lock_timeout=5000",
                                          "vault-dev-double",
                                          dbname.c_str(),
                                          nullptr};
  connection_.reset(PQconnectdbParams(keywords.data(), values.data(), 1));
  core::cleanse(dbname);
  if (!connection_) throw std::runtime_error{"postgres: out of memory"};
  if (PQstatus(connection_.get()) != CONNECTION_OK) {
    throw std::runtime_error{"postgres: cannot connect: " +
                             one_line(PQerrorMessage(connection_.get()))};
  }
  PQsetNoticeProcessor(connection_.get(), log_notice, nullptr);
}

postgres_database_backend::~postgres_database_backend() = default;

std::optional<std::string> postgres_database_backend::ensure_connected() {
  if (PQstatus(connection_.get()) == CONNECTION_OK) return std::nullopt;
  // PQreset keeps the connection's parameters (and its notice processor).
  PQreset(connection_.get());
  if (PQstatus(connection_.get()) == CONNECTION_OK) return std::nullopt;
  return "cannot reconnect: " + one_line(PQerrorMessage(connection_.get()));
}

std::optional<std::string> postgres_database_backend::create_user(const database_user& user) {
  std::lock_guard lock{mutex_};
  // A server restart shows only when a statement fails on the dead connection: one retry on
  // a fresh connection. CREATE ROLE is not repeated after a success (a lost answer then
  // surfaces as "already exists").
  std::optional<std::string> failure;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if ((failure = ensure_connected())) return failure;
    std::string name, password, valid_until;
    if ((failure = quote_identifier(connection_.get(), user.username, name)) ||
        (failure = quote_literal(connection_.get(), user.password.reveal(), password)) ||
        (failure =
             quote_literal(connection_.get(), postgres_timestamp(user.expiration), valid_until))) {
      core::cleanse(password);
      return failure;
    }
    auto statement = fmt::format("CREATE ROLE {} WITH LOGIN PASSWORD {} VALID UNTIL {}", name,
                                 password, valid_until);
    failure = execute(connection_.get(), statement);
    core::cleanse(statement);
    core::cleanse(password);
    if (!failure || PQstatus(connection_.get()) == CONNECTION_OK) break;
  }
  return failure;
}

std::optional<std::string> postgres_database_backend::renew_user(const std::string& username,
                                                                 core::wall_time expiration) {
  std::lock_guard lock{mutex_};
  std::optional<std::string> failure;
  for (int attempt = 0; attempt < 2; ++attempt) {  // ALTER ROLE is idempotent
    if ((failure = ensure_connected())) return failure;
    std::string name, valid_until;
    if ((failure = quote_identifier(connection_.get(), username, name)) ||
        (failure = quote_literal(connection_.get(), postgres_timestamp(expiration), valid_until))) {
      return failure;
    }
    failure =
        execute(connection_.get(), fmt::format("ALTER ROLE {} VALID UNTIL {}", name, valid_until));
    if (!failure || PQstatus(connection_.get()) == CONNECTION_OK) break;
  }
  return failure;
}

void postgres_database_backend::drop_user(const std::string& username) {
  std::lock_guard lock{mutex_};
  auto failure = drop_user_locked(username);
  if (failure && PQstatus(connection_.get()) != CONNECTION_OK) {
    failure = drop_user_locked(username);  // every step is idempotent
  }
  if (failure) {
    // Vault keeps retrying a failed revocation; the double's lease has ended regardless, so
    // the role stays behind and the log says so.
    core::logger("postgres")->warn("dropping role {} failed: {}", username, *failure);
  }
}

// Vault's default revocation for PostgreSQL: nothing to do for a role that is gone; else
// revoke what the role may hold in every schema and the database's CONNECT (DROP ROLE fails
// while privileges remain), carrying on past a failing REVOKE to remove as much access as
// possible, then drop the role.
std::optional<std::string> postgres_database_backend::drop_user_locked(
    const std::string& username) {
  if (auto failure = ensure_connected()) return failure;
  PGconn* connection = connection_.get();
  std::vector<std::string> found;
  if (auto failure = query_column(connection, "SELECT rolname FROM pg_roles WHERE rolname = $1",
                                  username, found)) {
    return failure;
  }
  if (found.empty()) return std::nullopt;

  std::vector<std::string> schemas;
  if (auto failure = query_column(connection,
                                  "SELECT nspname FROM pg_namespace WHERE nspname !~ $1 "
                                  "AND nspname <> 'information_schema'",
                                  "^pg_", schemas)) {
    return failure;
  }
  std::string role;
  if (auto failure = quote_identifier(connection, username, role)) return failure;
  std::vector<std::string> revocations;
  for (const auto& schema_name : schemas) {
    std::string schema;
    if (auto failure = quote_identifier(connection, schema_name, schema)) return failure;
    revocations.push_back(
        fmt::format("REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA {} FROM {}", schema, role));
    revocations.push_back(
        fmt::format("REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA {} FROM {}", schema, role));
    revocations.push_back(fmt::format("REVOKE USAGE ON SCHEMA {} FROM {}", schema, role));
  }
  const std::string database_name = PQdb(connection);
  std::string database;
  if (auto failure = quote_identifier(connection, database_name, database)) return failure;
  revocations.push_back(fmt::format("REVOKE CONNECT ON DATABASE {} FROM {}", database, role));

  std::optional<std::string> last_failure;
  for (const auto& statement : revocations) {
    if (auto failure = execute(connection, statement)) last_failure = std::move(failure);
  }
  if (auto failure = execute(connection, fmt::format("DROP ROLE IF EXISTS {}", role))) {
    return last_failure ? *failure + " (after: " + *last_failure + ")" : *failure;
  }
  return std::nullopt;
}

}  // namespace sidecar::testing
