#pragma once

// Why this is not the four-line Beast session loop (read, handle, write) that STYLE.md shows:
// that loop builds and serialises a beast::http::response for every answer, which a cached hit
// cannot afford if it is to cost what nginx costs serving the same bytes from memory. Here the
// cached-hit fast path (request_handler::try_answer_at_once, returning a ready_answer) answers
// straight from the bytes the cache holds: the head serialised into a reused string, one
// gathered non-blocking send of head and body, no Beast message, no body copy, no suspension
// unless the socket is full. That is what brings a cached read to parity with nginx (README.md,
// "Performance"): CPU time per cached KV GET 14.0 us against nginx's 13.6 us (ratio 0.99; user
// CPU 1.26-1.30 us against 1.18-1.34 us), and 124,772 req/s against nginx's 124,638 (1.01x,
// wrk -t1 -c32). Other answers are Beast responses and take the general path; a unit test
// checks that both paths put the same bytes on the wire.

#include <sidecar/config/config.hpp>
#include <sidecar/core/asio.hpp>
#include <sidecar/proxy/audit_log.hpp>
#include <sidecar/proxy/lazy_deadline.hpp>
#include <sidecar/proxy/listener_limits.hpp>
#include <sidecar/proxy/peer_identity.hpp>
#include <sidecar/proxy/request_handler.hpp>
#include <sidecar/proxy/request_policy.hpp>
#include <sidecar/proxy/server_stats.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/beast/http/parser.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace sidecar::proxy {

/// What a session needs from its server; every member outlives the session.
struct session_context {
  const listener_limits& limits;
  /// Loaded once per request: a reload swaps it while sessions run on other threads.
  const std::atomic<std::shared_ptr<const request_policy>>& policy;
  request_handler& handler;
  server_stats& stats;
  audit_log* audit;  ///< nullptr: [audit] destination = off
};

/// One accepted connection, TCP or unix: reads requests one at a time (HTTP/1.1 keep-alive or
/// HTTP/1.0), routes each, answers refusals itself and passes the rest to the request_handler.
///
/// Every read and write has a deadline from listener_limits, kept by one lazy_deadline per
/// connection. A request already whole in the buffer is parsed without suspending, and an
/// answer is first offered to the socket with one non-blocking send, so a cached hit on a
/// keep-alive connection suspends once, waiting for the request. A header over the limit gets 431,
/// a body over the limit 413, malformed HTTP 400, each followed by closing the connection; a
/// timeout, EOF or reset closes it silently.
///
/// Thread affinity: everything runs on the strand that is the socket's executor; stop() and
/// close_now() may be called from any thread and post there. Cancellation: close_now() emits
/// terminal cancellation into async_run() through cancellation_slot().
template <class Protocol>
class session final : public std::enable_shared_from_this<session<Protocol>> {
 public:
  using socket_type = typename Protocol::socket;

  session(socket_type socket, const session_context& context);

  /// The connection's loop; spawn it on executor() bound to cancellation_slot().
  net::awaitable<void> async_run();

  [[nodiscard]] net::any_io_executor executor() { return socket_.get_executor(); }
  [[nodiscard]] net::cancellation_slot cancellation_slot() { return cancel_.slot(); }

  /// The caller, asked of the kernel on first use and kept for the connection's life (a peer's
  /// credentials cannot change under an open socket). Before async_run(): the server's thread;
  /// after: the session's strand only.
  const peer_identity& peer();

  /// Graceful: an idle connection closes now, a busy one after its current answer.
  void stop();
  /// Terminal: cancels the handler and closes the connection.
  void close_now();

 private:
  net::awaitable<bool> async_read_request(string_request& request, bool first);
  /// Feeds the parser what is already buffered; true when that completed the header.
  bool parse_buffered(http::request_parser<http::string_body>& parser, error_code& ec);
  net::awaitable<bool> async_write(string_response& response, bool head);
  using head_and_body = std::array<net::const_buffer, 2>;
  /// Writes what a non-blocking send left of a ready answer, under the write deadline.
  net::awaitable<bool> async_write_rest(const head_and_body& buffers, std::size_t sent);
  /// Finishes and writes one answer; true when the connection stays open for the next request.
  net::awaitable<bool> async_write_answer(handler_answer& answer, const string_request& request,
                                          const route_decision& decision,
                                          std::chrono::steady_clock::time_point started);
  /// The debug line and the audit line of a written answer, from either path.
  void record_written(const string_request& request, const route_decision& decision,
                      unsigned status, std::string_view cache,
                      std::chrono::steady_clock::time_point started);
  net::awaitable<void> async_refuse_and_close(unsigned status, std::string_view message);
  /// One audit line for an answered request, when the audit trail is on.
  void audit(std::string_view method, const route_decision* decision, unsigned status,
             std::string_view cache);
  void shutdown_send();
  void close_socket();
  /// The request's route decision under the current policy, browser guards and client checks
  /// included; valid until the next request.
  const route_decision& route(const string_request& request);
  /// The [client.*] this connection belongs to under `policy`, matched again when a reload
  /// published a new policy; also picks the client's counters.
  void match_client_of(const std::shared_ptr<const request_policy>& policy);

  /// The last request's routing and what it was computed from (see route()).
  struct last_route {
    std::shared_ptr<const request_policy> policy;
    std::string method;
    std::string target;
    std::string request_header;  ///< X-Vault-Request, which require_request_header looks at
    route_decision decision;
  };

  socket_type socket_;
  session_context context_;
  lazy_deadline deadline_;
  beast::flat_buffer buffer_;
  std::string head_;  // a ready_answer's status line and headers; its capacity is reused
  last_route last_route_;
  std::optional<peer_identity> peer_;
  std::chrono::nanoseconds waited_{};  // the last request's wait for its handler (audit)
  std::shared_ptr<const request_policy> client_policy_;  // what client_ was matched under
  std::optional<std::size_t> client_;
  server_stats::client_counters client_counters_{nullptr, nullptr};
  net::cancellation_signal cancel_;
  bool idle_ = true;             // waiting for a request: stop() may close at once
  bool stop_requested_ = false;  // strand only
};

}  // namespace sidecar::proxy
