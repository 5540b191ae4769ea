#pragma once

#include <sidecar/core/clock.hpp>
#include <sidecar/testing/corruption.hpp>
#include <sidecar/testing/database_backend.hpp>
#include <sidecar/testing/specs.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sidecar::testing {

struct double_options {
  std::string listen = "127.0.0.1:0";
  const core::clock* clock = nullptr;  ///< nullptr: the system clock; a manual_clock lets tests
                                       ///< expire tokens and leases without sleeping
  std::optional<tls_files> tls{};
  nlohmann::json seed{};  ///< same format as the --seed file (tests/support/README.md); may be null
  std::shared_ptr<database_backend> database{};  ///< nullptr: users kept in memory
  std::string control_listen{};  ///< non-empty: also serve the control API (plain HTTP) here
};

/// A faithful stand-in for HashiCorp Vault's HTTP API (vault-api.md): AppRole, Kubernetes, JWT
/// and cert login, response wrapping, token
/// lookup/renew/revoke with TTL capping, KV v1 and v2, database credentials with leases,
/// sys/leases, sys/health, path policies, exact error bodies; plus fault injection and request
/// observation for tests.
///
/// Thread affinity: serves on its own thread with its own io_context; every public member is
/// thread-safe and may be called from any thread, including from the control API's handler.
/// Cancellation: the destructor stops serving and joins. Errors: the constructor throws when
/// it cannot bind or when the seed is malformed; set-up calls with unknown names throw
/// std::invalid_argument.
class vault_double {
 public:
  explicit vault_double(double_options options = {});
  ~vault_double();
  vault_double(const vault_double&) = delete;
  vault_double& operator=(const vault_double&) = delete;

  [[nodiscard]] unsigned short port() const;
  /// "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT".
  [[nodiscard]] std::string address() const;
  /// The control API's port, 0 when not enabled.
  [[nodiscard]] unsigned short control_port() const;

  // ---- set-up ----
  /// Creates the role and one secret_id (both random).
  approle_credentials add_approle(const approle_spec& spec);
  /// Creates the role with the given ids (empty: random), as the seed file does.
  approle_credentials add_approle(const approle_spec& spec, std::string role_id,
                                  std::string secret_id);
  /// Another secret_id for the role (random when `secret_id` is empty).
  std::string add_secret_id(const std::string& role_name, std::string secret_id = {});
  void add_policy(const std::string& name, policy_rules rules);
  /// A Kubernetes or JWT role (its mount enabled with it).
  void add_jwt_role(const jwt_role_spec& spec);
  /// `role` at `mount` accepts `jwt` for `ttl` seconds from now (0: no expiry); `subject` names
  /// it in logins().
  void add_jwt(const std::string& mount, const std::string& role, std::string jwt,
               std::string subject, long long ttl = 0);
  /// A role of the cert auth method (the `cert` mount enabled with it).
  void add_cert_role(const cert_role_spec& spec);
  void add_kv_mount(const std::string& mount, int version);
  /// Writes a secret; on KV v2 a new version.
  void put_kv(const std::string& mount, const std::string& path, nlohmann::json data);
  /// A role on the `database` mount (mounted with the first role).
  void add_database_role(const database_role_spec& spec);
  std::string create_token(std::vector<std::string> policies, long long ttl, bool renewable = true);
  /// Applies a seed document (format in tests/support/README.md).
  void apply_seed(const nlohmann::json& seed);

  // ---- faults; prefixes are HTTP paths such as "/v1/kv-demo" ----
  /// The next `count` matching requests answer `status` with `{"errors":[error_message]}`
  /// (`{"errors":[]}` when the message is empty).
  void fail_next(const std::string& path_prefix, int count, unsigned status,
                 std::string error_message = "");
  /// Every matching request waits this long before its answer; zero removes the delay.
  void set_delay(const std::string& path_prefix, std::chrono::milliseconds delay);
  /// The next `count` matching requests are read, then their connection is closed unanswered.
  void drop_next(const std::string& path_prefix, int count);
  /// The next `count` matching requests are answered garbled on the wire (corruption.hpp).
  void corrupt_next(const std::string& path_prefix, int count, corruption mode);
  /// For `window` from now, every matching request answers `status` with
  /// `{"errors":[error_message]}` and `headers` (fault_plan::fail_for).
  void fail_for(const std::string& path_prefix, std::chrono::milliseconds window, unsigned status,
                std::string error_message,
                std::vector<std::pair<std::string, std::string>> headers);
  void clear_faults();
  /// Sealed: 503 `{"errors":["Vault is sealed"]}` on everything but sys/health.
  void seal();
  void unseal();
  /// Down: the listener closes (connections refused) and open connections are cut.
  void go_down();
  /// Listens again on the same port.
  void come_up();
  /// Down now, up again after `outage` (the control API's `/control/down {"seconds":N}`).
  void go_down_for(std::chrono::milliseconds outage);
  /// Serves a new certificate and key (PEM files) on new connections and cuts the open ones,
  /// as Vault restarted with another certificate would. Throws std::logic_error when the
  /// double serves plain HTTP, and what make_tls throws for unreadable files.
  void use_certificate(const std::string& cert_file, const std::string& key_file);
  /// Revokes every token (and, as in Vault, the leases they created).
  void revoke_all_tokens();

  // ---- observation ----
  /// Requests seen with this method ("" = any) whose HTTP path starts with `path_prefix`.
  [[nodiscard]] std::size_t count(const std::string& method, const std::string& path_prefix) const;
  [[nodiscard]] std::vector<request_record> requests() const;
  /// Kubernetes and JWT login attempts, with the subject of the JWT each one used.
  [[nodiscard]] std::vector<login_record> logins() const;
  [[nodiscard]] std::size_t connections_accepted() const;
  /// Requests the double is working on (read, not yet answered, and the client still there).
  [[nodiscard]] std::size_t in_flight() const;
  /// The most requests ever in flight at once: the client's upstream concurrency.
  [[nodiscard]] std::size_t peak_in_flight() const;
  /// Unexpired leases whose id starts with `prefix`.
  [[nodiscard]] std::size_t live_leases(const std::string& prefix = "") const;
  /// Their ids, in id order.
  [[nodiscard]] std::vector<std::string> live_lease_ids(const std::string& prefix = "") const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sidecar::testing
