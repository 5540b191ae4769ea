#pragma once

#include <sidecar/core/secret_string.hpp>
#include <sidecar/testing/database_backend.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <string>

struct pg_conn;  // libpq's PGconn; kept out of this header so users need not see libpq

namespace sidecar::testing {

/// A database backend that mints real PostgreSQL roles, with the statements Vault's
/// PostgreSQL plugin runs by default: `CREATE ROLE "<name>" WITH LOGIN PASSWORD '<password>'
/// VALID UNTIL '<lease end>'` on issue, `ALTER ROLE ... VALID UNTIL` on renewal, and on
/// revocation or expiry Vault's default revocation (revoke table, sequence, schema and
/// connect privileges, then `DROP ROLE IF EXISTS`). Sessions already open under a dropped
/// role keep running, as with Vault.
///
/// One admin connection (a superuser, or a role with CREATEROLE) is opened by the
/// constructor and re-established when the server dropped it. Calls block on the database:
/// every connection attempt has a connect_timeout and every statement a statement_timeout
/// (5 s each unless the connection string sets its own connect_timeout), which keeps the
/// double's io thread from hanging on a dead server.
///
/// Thread affinity: any thread; calls are serialised on an own mutex (a PGconn is not
/// thread-safe). Errors: the constructor throws std::runtime_error when it cannot connect;
/// create_user and renew_user return PostgreSQL's primary message (never the statement,
/// which holds the password); drop_user logs failures, since a lease ends regardless.
class postgres_database_backend final : public database_backend {
 public:
  /// `conninfo`: a libpq connection string or URI, e.g. scripts/postgres.sh's output.
  explicit postgres_database_backend(const core::secret_string& conninfo);
  ~postgres_database_backend() override;
  postgres_database_backend(const postgres_database_backend&) = delete;
  postgres_database_backend& operator=(const postgres_database_backend&) = delete;

  [[nodiscard]] std::optional<std::string> create_user(const database_user& user) override;
  [[nodiscard]] std::optional<std::string> renew_user(const std::string& username,
                                                      core::wall_time expiration) override;
  void drop_user(const std::string& username) override;

 private:
  struct connection_deleter {
    void operator()(pg_conn* connection) const noexcept;
  };

  /// The admin connection, re-established if the server closed it; empty (with the reason)
  /// when it cannot be.
  std::optional<std::string> ensure_connected();
  std::optional<std::string> drop_user_locked(const std::string& username);

  std::mutex mutex_;
  std::unique_ptr<pg_conn, connection_deleter> connection_;
};

/// A `VALID UNTIL` value for the expiry: UTC with an explicit offset and whole seconds, the
/// layout Vault's plugins use (`2006-01-02 15:04:05+0000`), so the server's TimeZone setting
/// cannot shift it.
[[nodiscard]] std::string postgres_timestamp(core::wall_time time);

}  // namespace sidecar::testing
