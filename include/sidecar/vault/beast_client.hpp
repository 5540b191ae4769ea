#pragma once

#include <sidecar/config/config.hpp>
#include <sidecar/core/asio.hpp>
#include <sidecar/core/backoff.hpp>
#include <sidecar/core/clock.hpp>
#include <sidecar/vault/address.hpp>
#include <sidecar/vault/client.hpp>
#include <sidecar/vault/connection.hpp>
#include <sidecar/vault/connection_pool.hpp>

#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
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

 private:
  beast_client(net::any_io_executor executor, const config::vault_config& vault,
               upstream_address address, core::clock& clock, core::uniform_source random,
               client_limits limits);

  /// One attempt: a slot, a connection (pooled or new), one exchange.
  net::awaitable<result<response>> async_attempt(const wire_request& wire);
  [[nodiscard]] wire_request make_wire(const request& req) const;

  net::any_io_executor executor_;
  config::vault_config config_;
  core::uniform_source random_;
  client_limits limits_;
  std::optional<boost::asio::ssl::context> tls_;
  connection_target target_;
  connection_pool pool_;
  client_stats stats_;
};

}  // namespace sidecar::vault
