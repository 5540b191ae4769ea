#pragma once

#include <sidecar/config/config.hpp>
#include <sidecar/core/asio.hpp>
#include <sidecar/core/result.hpp>
#include <sidecar/metrics/registry.hpp>
#include <sidecar/proxy/audit_log.hpp>
#include <sidecar/proxy/health.hpp>
#include <sidecar/proxy/listener_limits.hpp>
#include <sidecar/proxy/request_handler.hpp>
#include <sidecar/proxy/request_policy.hpp>
#include <sidecar/proxy/server_stats.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>

namespace sidecar::proxy {

/// The local HTTP listener(s): `listener.address` (TCP, loopback only) and/or
/// `listener.unix_socket`. Each accepted connection is a session coroutine on its own strand;
/// requests are routed (router.hpp) and allowed ones passed to the request_handler.
///
/// The unix socket gets `socket_mode` without a window of a wider mode: it is bound under a
/// private temporary name, chmod-ed and listened on, then renamed over the configured path
/// (replacing a stale socket file; a live one, or a non-socket file, is an error). It is
/// removed at stop() if it is still ours. Connections over `max_connections` (per listener),
/// or over the own max_connections of the [client.*] the caller matches, are accepted and
/// closed at once, so a flood neither queues in the kernel nor starves the others.
///
/// The request policy (allow list, forward_writes, require_request_header) can be replaced
/// while serving (apply_policy, on SIGHUP): the next request on every connection, open
/// keep-alive ones included, is routed by the new one; no connection is dropped.
///
/// Thread affinity: the server runs on `executor` (an io_context served by `listener.threads`
/// threads); acceptors and the session table live on the server's strand, each session on its
/// own strand when `threads` > 1 and straight on `executor` with one thread, where a strand
/// only adds a queue and a post to every completion (measured: callgrind). start() before running
/// the io_context; stop() and apply_policy() from any thread. Destroy the server only once the
/// io_context has run out of work after stop(). Cancellation: stop() closes the acceptors, lets
/// in-flight requests finish within `shutdown_grace`, then cancels what is left. Errors: start()
/// returns proxy::errc or the system error of socket(), bind() or listen().
class server final {
 public:
  server(net::any_io_executor executor, config::listener_config listener,
         config::proxy_config proxy, listener_limits limits, request_handler& handler,
         metrics::registry& registry, std::vector<config::client_config> clients = {},
         audit_log* audit = nullptr);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  result<void> start();
  void stop();

  /// Publishes a new request policy: `proxy` whole, `require_request_header` and the
  /// [client.*] sections; the other listener settings (addresses, enable_quit, threads) stay as
  /// constructed. Open connections are matched to the new clients on their next request; a
  /// connection keeps counting toward the max_connections of the client it was accepted as.
  /// Any thread.
  void apply_policy(config::proxy_config proxy, bool require_request_header,
                    std::vector<config::client_config> clients = {});

  /// Requests and refusals of every [client.NAME] of the current policy, then of callers
  /// matching none ("-"); empty without clients. Any thread.
  [[nodiscard]] std::vector<client_requests> client_counts();

  /// The bound TCP endpoint (the real port when configured with port 0).
  [[nodiscard]] std::optional<tcp::endpoint> tcp_endpoint() const { return tcp_endpoint_; }

 private:
  using unix_protocol = net::local::stream_protocol;
  using unix_acceptor = net::as_tuple_t<net::use_awaitable_t<>>::as_default_on_t<
      net::basic_socket_acceptor<unix_protocol>>;

  struct session_handle {
    std::function<void()> stop;
    std::function<void()> close_now;
    std::size_t listener = 0;  ///< index into open_connections_
    std::string client;        ///< counted in client_connections_ when not empty
  };

  result<void> open_tcp();
  result<void> open_unix();
  /// Accepts until stop(); defined (and only instantiated) in server.cpp.
  template <class Protocol, class Acceptor>
  net::awaitable<void> accept_loop(Acceptor& acceptor);
  template <class Protocol>
  void launch(typename Protocol::socket socket);
  void session_ended(std::uint64_t id);
  void stop_on_strand();
  void remove_socket_file();

  /// Whether `connection`'s client, under the current policy, has its max_connections open
  /// already; otherwise counts it there and returns its name in `counted` (sessions_mutex_).
  template <class Session>
  bool client_full(Session& connection, std::string& counted);

  /// Where a new session runs: its own strand with several io threads, `executor_` with one.
  [[nodiscard]] net::any_io_executor session_executor() const;

  net::any_io_executor executor_;
  net::strand<net::any_io_executor> strand_;
  config::listener_config listener_;
  // Sessions on several io threads read this per request while apply_policy() may replace it
  // from another thread: an atomic shared_ptr to an immutable policy, so a reader gets either
  // the old or the new policy whole and keeps it alive for its request. No lock on the request
  // path beyond the atomic's own.
  std::atomic<std::shared_ptr<const request_policy>> policy_;
  listener_limits limits_;
  request_handler& handler_;
  server_stats stats_;
  audit_log* audit_;  // nullptr: off; outlives the server

  tcp_acceptor tcp_acceptor_;
  unix_acceptor unix_acceptor_;
  std::optional<tcp::endpoint> tcp_endpoint_;
  std::optional<std::pair<dev_t, ino_t>> socket_file_;  // the unix socket we created
  steady_timer grace_timer_;

  // Sessions run on their own strands and may end on any io thread, so the table and counter
  // are shared across threads: a mutex held only to insert, erase or copy handles.
  std::mutex sessions_mutex_;
  std::map<std::uint64_t, session_handle> sessions_;
  std::uint64_t next_session_id_ = 0;
  // Per listener (0 TCP, 1 unix): limits_.max_connections applies to each, so a flood on one
  // cannot lock the other out.
  std::array<std::atomic<std::size_t>, 2> open_connections_{};
  std::map<std::string, std::size_t, std::less<>> client_connections_;  // sessions_mutex_
  std::atomic<bool> stopping_{false};
};

}  // namespace sidecar::proxy
