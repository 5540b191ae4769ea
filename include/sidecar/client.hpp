#pragma once

#include <sidecar/auth/token_manager.hpp>
#include <sidecar/config/config.hpp>
#include <sidecar/core/asio.hpp>
#include <sidecar/core/clock.hpp>

#include <boost/system/result.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace sidecar::engine {
class engine;
}

namespace sidecar {

/// Failures of the client itself; Vault's and the login's failures keep their own categories
/// (vault::errc, auth::errc).
enum class client_errc {
  bad_config = 1,  ///< the INI file, the credentials or the [vault] section cannot be used
  not_started,     ///< a read before a successful start()
  stopped,         ///< a read after stop()
  wrong_thread,    ///< a blocking call on the client's own io thread, or without one
};

[[nodiscard]] const boost::system::error_category& client_category() noexcept;
[[nodiscard]] inline error_code make_error_code(client_errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

/// Why a call failed: the error code (vault::errc for Vault's statuses and the transport,
/// auth::errc for the login, client_errc for misuse) with Vault's HTTP status and its
/// `errors[]` when Vault answered, or the configuration problems. Never holds a secret.
struct client_error {
  error_code code;
  unsigned status = 0;                ///< Vault's HTTP status; 0 when Vault did not answer
  std::vector<std::string> messages;  ///< Vault's errors[], or what went wrong

  /// "permission denied (403: 1 error occurred: ...)" style, for logs and exceptions.
  [[nodiscard]] std::string message() const;
};

/// `.value()` on a failed client_result throws boost::system::system_error with message().
[[noreturn]] void throw_exception_from_error(const client_error& error,
                                             const boost::source_location& location);

template <class T>
using client_result = boost::system::result<T, client_error>;

/// Dynamic credentials as the lease store holds them, with the whole seconds their lease has
/// left. `data` holds the secret values (username, password): never log it.
struct dynamic_creds {
  nlohmann::json data;
  long long seconds_left = 0;
};

/// The sidecar's engine in-process (pattern 1 of the brief): one AppRole login, token renewal
/// at auth.renew_at of the TTL, a KV cache refreshed every cache.refresh_interval, and database
/// creds rotated at database.renew_at of their lease, all configured by the same structs (or
/// INI file) as the daemon, without a listener or a supervisor.
///
/// Two ways to run it. Own thread: construct with the config alone (or from_file()), then
/// start(); the blocking kv(), dynamic(), token_status() may be called from any other thread.
/// Caller's io_context: construct with an executor, `co_await async_start()`, then use
/// async_kv() / async_dynamic() from coroutines on that io_context.
///
/// Thread affinity: the engine (token manager, cache, lease store) lives on one strand; every
/// async_ call hops onto it and back. on_change() callbacks run on that strand, one at a time,
/// never concurrently with each other: keep them short (post heavy work elsewhere).
/// Cancellation: stop() ends renewal, refresh and rotation (idempotent). With its own thread,
/// stop() (and the destructor) also joins the thread; on a caller's io_context, stop() and let
/// the io_context drain before destroying the client, since its coroutines refer to it.
/// Errors: client_result carrying a client_error (see there). Logs go to spdlog loggers
/// ("auth", "cache", "lease", "client") and never carry a token, a secret_id or a secret value.
class client {
 public:
  using change_callback = std::function<void(const std::string& name, const nlohmann::json& data)>;

  /// Runs on its own io thread, started by start().
  explicit client(config::config cfg);
  /// Runs on the caller's io_context (through a strand of `executor`); start with async_start().
  client(config::config cfg, net::any_io_executor executor);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Reads the INI file (as `vault-sidecar --config`) and builds an own-thread client.
  [[nodiscard]] static client_result<std::unique_ptr<client>> from_file(const std::string& path);

  /// Reads the AppRole credentials (auth.role_id_file, $VAULT_ROLE_ID, ...) and logs in once;
  /// then keeps the token renewed, the cache refreshed and the subscribed paths current.
  /// Errors: client_errc::bad_config, auth::errc::login_refused / vault_unavailable.
  net::awaitable<client_result<void>> async_start();
  /// Own-thread mode: starts the io thread, then async_start(), waiting for it.
  client_result<void> start();

  /// A KV secret's map: `data.data` of KV v2 ("kv/data/app"), `data` of KV v1 ("kv1/app");
  /// `path` without "/v1/". Served from the cache while fresh.
  net::awaitable<client_result<nlohmann::json>> async_kv(std::string path);
  /// Dynamic creds ("database/creds/myapp-role"), the same creds while their lease lasts.
  net::awaitable<client_result<dynamic_creds>> async_dynamic(std::string path);
  /// Blocking forms, for own-thread mode from any thread but the client's own.
  client_result<nlohmann::json> kv(const std::string& path);
  client_result<dynamic_creds> dynamic(const std::string& path);

  /// Calls `callback(name_or_path, data)` whenever a refresh brings a KV secret different from
  /// what was held, or creds become current (the first creds of a path, then each rotation).
  /// `name_or_path` is a [secrets] name or a Vault path without "/v1/"; a subscribed path is kept
  /// read (and its creds fetched) so the change is noticed without a caller reading it. May be
  /// called before or after start().
  void on_change(std::string name_or_path, change_callback callback);

  /// The token's state (status ok / degraded / lost, TTL left, renewal counters, last error).
  /// Own-thread mode: from any thread; caller's io_context: from that io_context's thread.
  [[nodiscard]] auth::token_stats token_status();

  /// Stops renewal, refresh and rotation; reads then fail with client_errc::stopped. Idempotent.
  void stop();

 private:
  struct subscription {
    std::string name;  ///< as given to on_change()
    std::string path;  ///< Vault path without /v1/
    bool dynamic = false;
    change_callback callback;
  };

  net::awaitable<client_result<void>> start_on_engine();
  net::awaitable<client_result<nlohmann::json>> kv_on_engine(std::string path);
  net::awaitable<client_result<dynamic_creds>> dynamic_on_engine(std::string path);
  void token_ended(const result<void>& outcome);
  void notify(bool dynamic, const std::string& path, const nlohmann::json& data);
  void stop_on_engine();
  void run_thread();
  [[nodiscard]] client_result<void> usable() const;
  template <class T>
  T wait_on_engine(net::awaitable<T> task);

  config::config config_;
  std::unique_ptr<net::io_context> own_io_;  ///< own-thread mode only
  net::strand<net::any_io_executor> strand_;
  core::system_clock clock_;
  /// Connection, token manager, cache, lease store and their loops; built by the first start.
  std::unique_ptr<engine::engine> engine_;
  std::vector<subscription> subscriptions_;  ///< each also kept warm by engine_ once started
  bool started_ = false;
  bool stopped_ = false;
  std::thread thread_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
};

}  // namespace sidecar

template <>
struct boost::system::is_error_code_enum<sidecar::client_errc> : std::true_type {};
