#pragma once

#include <sidecar/core/asio.hpp>
#include <sidecar/testing/request_handler.hpp>

#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <map>
#include <memory>

namespace sidecar::testing {

/// An HTTP/1.1 listener (plain or TLS) with keep-alive, one coroutine per connection, that can
/// stop listening, cut its open connections, and listen again on the same port - what the
/// "Vault is down" faults need.
///
/// Thread affinity: construct on any thread before the io_context runs; every other member on
/// the io thread. Cancellation: stop_listening() and close_connections() end the coroutines;
/// destroying the io_context destroys any left. Errors: the constructor and listen_again()
/// throw boost::system::system_error when the port cannot be bound; connection errors end
/// that connection only.
class double_server {
 public:
  double_server(net::io_context& io, request_handler& handler, const tcp::endpoint& endpoint,
                std::shared_ptr<net::ssl::context> tls);

  [[nodiscard]] unsigned short port() const noexcept { return endpoint_.port(); }
  [[nodiscard]] bool tls() const noexcept { return tls_ != nullptr; }

  /// Starts accepting (the loop runs once the io_context does).
  void start();
  void stop_listening();
  void close_connections();
  /// New connections use `tls` (a TLS server only); open connections are cut, as a restart of
  /// Vault with a new certificate would.
  void use_tls(std::shared_ptr<net::ssl::context> tls);
  /// Binds the same port again and starts accepting.
  void listen_again();

 private:
  struct registry {
    std::map<std::uint64_t, beast::tcp_stream*> live;
    std::uint64_t next_id = 0;
  };

  void open();
  net::awaitable<void> accept_loop();
  net::awaitable<void> session(tcp::socket socket);

  net::io_context& io_;
  request_handler& handler_;
  std::shared_ptr<net::ssl::context> tls_;
  std::shared_ptr<registry> connections_ = std::make_shared<registry>();
  tcp_acceptor acceptor_;
  tcp::endpoint endpoint_;
};

}  // namespace sidecar::testing
