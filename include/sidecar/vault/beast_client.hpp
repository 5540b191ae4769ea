#pragma once

#include <sidecar/config/config.hpp>
#include <sidecar/core/asio.hpp>
#include <sidecar/core/backoff.hpp>
#include <sidecar/core/clock.hpp>
#include <sidecar/vault/address.hpp>
#include <sidecar/vault/client.hpp>
#include <sidecar/vault/connection.hpp>
#include <sidecar/vault/connection_pool.hpp>
#include <sidecar/vault/upstream_gate.hpp>

#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <optional>

namespace sidecar::vault {

/// Limits that are not user configuration; the defaults suit a sidecar talking to one Vault.
struct client_limits {
  std::size_t max_connections = 32;  ///< open at once; more requests wait for a slot
  core::duration idle_timeout = std::chrono::seconds{30};  ///< an idle pooled connection is closed
  std::size_t max_body = 16 * 1024 * 1024;  ///< bytes of answer body, else response_too_large
  core::duration retry_initial = std::chrono::milliseconds{250};  ///< first backoff of a read
  core::duration retry_max = std::chrono::seconds{2};             ///< backoff ceiling
};

/// Counters for tests and metrics.
struct client_stats {
  std::uint64_t connections_opened = 0;  ///< connected (and handshaken, for https)
  std::uint64_t requests_sent = 0;       ///< requests written, every retry included
  std::uint64_t retries = 0;             ///< reads repeated after a retryable outcome
  std::uint64_t stale_retries = 0;       ///< requests repeated because a pooled connection was dead
};

/// The real vault::client: HTTP/1.1 over TCP or TLS (OpenSSL) to `vault.address`, keep-alive
/// connection pool, a deadline per attempt, bounded retries of reads with jittered backoff.
///
/// Every request carries Host, `User-Agent: vault-sidecar/<version>`, `X-Vault-Request: true`,
/// `X-Vault-Namespace` when configured, `X-Vault-Token` from request.token,
/// `Content-Type: application/json` with a body, then request.headers (minus any X-Vault-Token,
/// Host, Content-Length, Transfer-Encoding or Connection, which only this client sets). The
/// answer carries status, Content-Type, body and the headers a local client may need:
/// Retry-After, Warning, Location and X-Ratelimit-*. Redirects are returned, never followed.
///
/// Each attempt has `request_timeout` for waiting for a slot, connecting, the TLS handshake,
/// writing and reading; expiry is errc::timeout and is never retried. Deadlines and backoff run
/// on real (steady) time, as Asio's timers do; the injected clock ages idle pooled connections. A
/// read (GET, HEAD) is retried up to `max_retries` times as should_retry() decides; a write never
/// is, except that any request whose pooled connection turns out closed before an answer began is
/// sent once more on a fresh connection (retry_on_fresh_connection()).
///
/// Protecting Vault (the upstream_gate decides, this client waits): a 429 or 503 with a
/// Retry-After is never retried; it pauses every read until the time it names (capped at
/// retry_after_cap), and a read asked for meanwhile (first attempt or retry) is answered at once
/// with a local 429 carrying `Retry-After: <seconds left>` in Vault's error shape, marked
/// response::local. The token's renewal waits for the pause when it can afford to
/// (renewal_may_wait(), against set_token_expiry()), else goes at once; logins never wait.
/// Every other attempt, retries included, first takes budget (`vault.rate_limit`,
/// `vault.max_concurrent_requests`), waiting for it up to `request_timeout`, after which it is
/// answered with a local 429 and `Retry-After: 1`.
///
/// Thread affinity: io thread only (the executor's). Cancellation: a cancelled caller stops
/// waiting (operation_aborted); the connection it was using is closed and its slot freed. Errors:
/// vault::errc for transport failures; every HTTP answer is a response. Construction throws
/// std::invalid_argument for a bad address or an unreadable CA, certificate or key file (start-up
/// only). Must outlive its requests.
class beast_client final : public client {
 public:
  beast_client(net::any_io_executor executor, const config::vault_config& vault, core::clock& clock,
               core::uniform_source random, client_limits limits = {});
  beast_client(const beast_client&) = delete;
  beast_client& operator=(const beast_client&) = delete;
  ~beast_client() override;

  net::awaitable<result<response>> async_send(request req) override;

  [[nodiscard]] const client_stats& stats() const noexcept { return stats_; }
  /// Upstream state and protection counters, for health and metrics.
  [[nodiscard]] const upstream_gate& gate() const noexcept { return gate_; }
  /// Where the token's expiry comes from, for renewal_may_wait(); without one a renewal is
  /// never held back by a pause.
  void set_token_expiry(std::function<core::time_point()> source) {
    token_expiry_ = std::move(source);
  }

 private:
  beast_client(net::any_io_executor executor, const config::vault_config& vault,
               upstream_address address, core::clock& clock, core::uniform_source random,
               client_limits limits);

  /// Releases the budget an admitted attempt holds, and wakes the first request waiting for it.
  class budget_hold {
   public:
    budget_hold() = default;
    budget_hold(const budget_hold&) = delete;
    budget_hold& operator=(const budget_hold&) = delete;
    ~budget_hold() { release(); }
    void hold(beast_client& owner) noexcept { owner_ = &owner; }
    void release() noexcept;

   private:
    beast_client* owner_ = nullptr;
  };
  struct slot_waiter;

  /// What the gate allows for one attempt of `kind`: nullopt to go ahead (`hold` then holds
  /// its budget), a local answer when refused, operation_aborted when the caller gave up.
  net::awaitable<result<std::optional<response>>> async_admit(request_kind kind, budget_hold& hold);
  net::awaitable<result<std::optional<response>>> async_take_budget(budget_hold& hold);
  void release_budget() noexcept;
  /// Tells the gate what an attempt came to; the Retry-After it carried, if any.
  std::optional<core::duration> note_outcome(const result<response>& answer);

  /// One attempt: a slot, a connection (pooled or new), one exchange.
  net::awaitable<result<response>> async_attempt(const wire_request& wire);
  [[nodiscard]] wire_request make_wire(const request& req) const;

  net::any_io_executor executor_;
  config::vault_config config_;
  core::clock& clock_;
  core::uniform_source random_;
  client_limits limits_;
  std::optional<boost::asio::ssl::context> tls_;
  connection_target target_;
  connection_pool pool_;
  client_stats stats_;
  upstream_gate gate_;
  std::list<slot_waiter*> slot_waiters_;  ///< waiting for a concurrent slot, first come first
  std::function<core::time_point()> token_expiry_;
};

}  // namespace sidecar::vault
