#pragma once

#include <sidecar/core/asio.hpp>
#include <sidecar/vault/address.hpp>
#include <sidecar/vault/cleansing_allocator.hpp>
#include <sidecar/vault/client.hpp>

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <variant>

namespace sidecar::vault {

/// Bodies, header fields and read buffers that may carry tokens or secrets are freed cleansed.
using secret_body =
    http::basic_string_body<char, std::char_traits<char>, cleansing_allocator<char>>;
using secret_fields = http::basic_fields<cleansing_allocator<char>>;
using wire_request = http::request<secret_body, secret_fields>;

/// How to reach Vault, shared by every connection of one client.
struct connection_target {
  upstream_address address;
  boost::asio::ssl::context* tls = nullptr;  ///< null for http://
  std::string verify_name;                   ///< tls_server_name, else the address's host
  bool verify = true;                        ///< false only with tls_skip_verify
};

/// What one request/response exchange on a connection came to.
struct exchange_outcome {
  error_code failure;           ///< a vault::errc (or operation_aborted); the answer is empty then
  bool answer_started = false;  ///< some bytes of an answer arrived (so the request was seen)
  bool keep_alive = false;      ///< complete answer and both sides keep the connection open
  response answer;
};

/// One TCP connection to Vault, TLS or not (the stream type is hidden in here): resolve,
/// connect, handshake, then request/response exchanges while the server keeps it alive.
///
/// Thread affinity: io thread only; one operation at a time. Cancellation: a cancelled operation
/// returns operation_aborted and leaves the connection unusable. Errors: vault::errc values from
/// classify_transport_error; a certificate problem is also logged (warn) with OpenSSL's words.
class connection {
 public:
  using deadline = std::chrono::steady_clock::time_point;

  connection(net::any_io_executor executor, const connection_target& target);
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  /// Resolves the host, connects and, for https, handshakes and verifies the certificate.
  net::awaitable<error_code> async_open(deadline until);

  /// Writes `wire` and reads the whole answer (at most `body_limit` bytes of body). A HEAD answer
  /// has no body.
  net::awaitable<exchange_outcome> async_exchange(const wire_request& wire, deadline until,
                                                  std::size_t body_limit);

  [[nodiscard]] bool is_open() const noexcept;
  /// Served at least one complete exchange, so it came back from the pool.
  [[nodiscard]] bool reused() const noexcept { return exchanges_ > 0; }
  /// An idle connection whose peer closed it, reset it or sent unsolicited bytes is useless.
  /// Looks at the socket without blocking or consuming anything.
  [[nodiscard]] bool idle_broken() const noexcept;
  /// Closes the socket at once; idle or failed connections need no TLS close_notify.
  void close() noexcept;

 private:
  using tls_stream = beast::ssl_stream<beast::tcp_stream>;

  [[nodiscard]] beast::tcp_stream& tcp() noexcept;
  error_code prepare_tls();
  void log_tls_failure(const error_code& ec) const;

  const connection_target& target_;
  std::variant<beast::tcp_stream, tls_stream> stream_;
  beast::basic_flat_buffer<cleansing_allocator<char>> buffer_;
  std::string certificate_problem_;  ///< set by the verify callback, logged on failure
  unsigned exchanges_ = 0;
};

}  // namespace sidecar::vault
