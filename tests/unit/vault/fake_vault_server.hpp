#pragma once

#include <sidecar/core/asio.hpp>

#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sidecar::vault_test {

/// What the server does with the next request it reads.
struct scripted_reply {
  enum class kind {
    answer,   ///< an HTTP answer
    close,    ///< close the connection without answering
    garbage,  ///< bytes that are not HTTP, then close
  };
  kind action = kind::answer;
  unsigned status = 200;
  std::string body = R"({"data":{"value":"s3cr3t"}})";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  ///< before acting
  bool keep_alive = true;
};

/// A request as the server read it; header names lower-cased, repeated ones joined by ", ".
struct seen_request {
  http::verb method = http::verb::unknown;
  std::string target;
  std::map<std::string, std::string> headers;
  std::size_t token_fields = 0;  ///< how many X-Vault-Token fields arrived
  std::string body;
};

struct server_tls {
  std::string cert;
  std::string key;
  std::string client_ca;  ///< when set, a client certificate signed by it is required
};

/// Vault as the client sees it: an HTTP/1.1 server on 127.0.0.1 port 0 that answers from a
/// script, for testing the client's connection handling: it counts accepted connections and
/// connections the peer closed, records every request, and can delay, close without answering or
/// send garbage. Runs on the test's io_context; stop() closes everything so io_context::run()
/// returns.
class fake_vault_server {
 public:
  explicit fake_vault_server(net::io_context& io, std::optional<server_tls> tls = std::nullopt);
  ~fake_vault_server();

  [[nodiscard]] std::string address() const;  ///< "http://127.0.0.1:<port>" or https
  [[nodiscard]] unsigned short port() const noexcept { return port_; }

  /// Queues a reply; requests beyond the script get the default 200 answer.
  void script(scripted_reply reply) { script_.push_back(std::move(reply)); }
  void script(unsigned status, std::size_t times = 1);

  [[nodiscard]] std::size_t accepted() const noexcept { return accepted_; }
  [[nodiscard]] std::size_t closed_by_peer() const noexcept { return closed_by_peer_; }
  [[nodiscard]] std::size_t handshake_failures() const noexcept { return handshake_failures_; }
  [[nodiscard]] const std::vector<seen_request>& requests() const noexcept { return requests_; }

  void stop();

 private:
  struct session;

  net::awaitable<void> accept_loop();
  net::awaitable<void> serve(std::shared_ptr<session> self);
  template <class Stream>
  net::awaitable<void> exchange_loop(Stream& stream, session& self);
  scripted_reply next_reply();

  net::io_context& io_;
  std::optional<net::ssl::context> tls_;
  tcp_acceptor acceptor_;
  unsigned short port_ = 0;
  std::deque<scripted_reply> script_;
  std::vector<std::weak_ptr<session>> sessions_;
  std::vector<seen_request> requests_;
  std::size_t accepted_ = 0;
  std::size_t closed_by_peer_ = 0;
  std::size_t handshake_failures_ = 0;
  bool stopped_ = false;
};

}  // namespace sidecar::vault_test
