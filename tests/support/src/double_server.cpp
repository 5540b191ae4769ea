#include <sidecar/testing/double_server.hpp>

#include <sidecar/core/log.hpp>
#include <sidecar/testing/corruption.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

// GCC 12 at -O1 and above reports Asio's awaitable frame operator delete as mismatched with its
// operator new when it inlines a coroutine's frame destruction; the pair is Asio's own
// (awaitable_frame_base's recycling allocator), so the warning is a false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace sidecar::testing {
namespace {

using namespace std::chrono_literals;
using namespace net::experimental::awaitable_operators;

constexpr auto idle_timeout = 60s;  // a keep-alive connection may sit idle this long
constexpr auto io_timeout = 30s;    // one handshake, write or shutdown
constexpr std::uint64_t body_limit = 1U << 20U;

// Keeps a connection's lowest layer findable by close_connections() while it is alive.
class registration {
 public:
  template <class Registry>
  registration(std::shared_ptr<Registry> registry, beast::tcp_stream& stream)
      : erase_{[registry, id = registry->next_id] { registry->live.erase(id); }} {
    registry->live.emplace(registry->next_id++, &stream);
  }
  registration(const registration&) = delete;
  registration& operator=(const registration&) = delete;
  ~registration() { erase_(); }

 private:
  std::function<void()> erase_;
};

// Waits out a planned delay. False when the client went away first (closed, or timed out and
// closed): a real Vault would go on working, but the test wants to see how many requests the
// client is actually waiting on, so an abandoned request stops counting.
template <class Stream>
net::awaitable<bool> delay_answer(Stream& stream, std::chrono::milliseconds delay) {
  steady_timer timer{co_await net::this_coro::executor, delay};
  auto& socket = beast::get_lowest_layer(stream).socket();
  const auto waited =
      co_await (timer.async_wait() || socket.async_wait(tcp::socket::wait_read, use_result));
  co_return waited.index() == 0;
}

// Writes `answer` garbled as planned. False when the connection must end (closed or reset).
template <class Stream>
net::awaitable<bool> write_corrupted(Stream& stream, string_response& answer, corruption mode) {
  answer.prepare_payload();
  const auto garbled = corrupt(answer, mode);
  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_after(io_timeout);
  const auto [ec, written] =
      co_await net::async_write(stream, net::buffer(garbled.bytes), use_result);
  if (ec) co_return false;
  if (garbled.then == after_corruption::reset) {
    error_code ignored;
    lowest.socket().set_option(net::socket_base::linger{true, 0}, ignored);  // close sends RST
    lowest.socket().close(ignored);
  }
  co_return garbled.then == after_corruption::keep_open;
}

// One linear loop per connection: read, plan, wait, answer. Ends on a read error (including
// the peer closing), a write error, a planned drop or close, or Connection: close.
template <class Stream>
net::awaitable<void> serve(Stream& stream, request_handler& handler, std::string_view client_cert) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    beast::get_lowest_layer(stream).expires_after(idle_timeout);
    auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, parser, use_result);
    if (read_error) co_return;
    auto request = parser.release();
    auto decision = handler.plan(request);
    if (decision.drop) {
      handler.dropped(request);
      co_return;  // the stream's destructor closes the socket without an answer
    }
    if (decision.delay.count() > 0) {
      beast::get_lowest_layer(stream).expires_never();
      if (!co_await delay_answer(stream, decision.delay)) {
        handler.dropped(request);
        co_return;
      }
    }
    const auto garble = decision.corrupt;
    auto response = handler.answer(request, std::move(decision), client_cert);
    response.keep_alive(request.keep_alive());
    if (garble) {
      if (!co_await write_corrupted(stream, response, *garble)) co_return;
      continue;
    }
    response.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(io_timeout);
    auto [write_error, written] = co_await http::async_write(stream, response, use_result);
    if (write_error || !response.keep_alive()) co_return;
  }
}

// The certificate the client presented (PEM), for the cert auth method; empty without one.
std::string peer_certificate(SSL* ssl) {
  std::unique_ptr<X509, decltype(&X509_free)> cert{SSL_get1_peer_certificate(ssl), X509_free};
  if (!cert) return {};
  std::unique_ptr<BIO, decltype(&BIO_free)> out{BIO_new(BIO_s_mem()), BIO_free};
  if (!out || PEM_write_bio_X509(out.get(), cert.get()) != 1) return {};
  char* data = nullptr;
  const auto size = BIO_get_mem_data(out.get(), &data);
  return size > 0 ? std::string{data, static_cast<std::size_t>(size)} : std::string{};
}

void log_failure(std::exception_ptr failure) {
  if (!failure) return;
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    core::logger("vault-double")->error("connection failed: {}", e.what());
  }
}

}  // namespace

double_server::double_server(net::io_context& io, request_handler& handler,
                             const tcp::endpoint& endpoint, std::shared_ptr<net::ssl::context> tls)
    : io_{io}, handler_{handler}, tls_{std::move(tls)}, acceptor_{io}, endpoint_{endpoint} {
  open();
  endpoint_ = acceptor_.local_endpoint();  // the real port when asked for port 0
}

void double_server::open() {
  acceptor_.open(endpoint_.protocol());
  acceptor_.set_option(net::socket_base::reuse_address{true});
  acceptor_.bind(endpoint_);
  acceptor_.listen();
}

void double_server::start() { net::co_spawn(io_, accept_loop(), log_failure); }

void double_server::stop_listening() {
  error_code ignored;
  acceptor_.close(ignored);
}

void double_server::close_connections() {
  const auto live = connections_->live;  // closing completes later, but copy to be safe
  for (const auto& [id, stream] : live) {
    error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream->close();
  }
}

void double_server::use_tls(std::shared_ptr<net::ssl::context> tls) {
  tls_ = std::move(tls);
  close_connections();
}

void double_server::listen_again() {
  if (acceptor_.is_open()) return;
  open();
  start();
}

net::awaitable<void> double_server::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept();
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) continue;  // a failed accept (e.g. out of descriptors) affects only that peer
    handler_.accepted();
    net::co_spawn(io_, session(std::move(socket)), log_failure);
  }
}

net::awaitable<void> double_server::session(tcp::socket socket) {
  if (!tls_) {
    beast::tcp_stream stream{std::move(socket)};
    registration guard{connections_, stream};
    co_await serve(stream, handler_, {});
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    co_return;
  }
  const auto tls = tls_;  // use_tls() may replace tls_ while this session runs
  beast::ssl_stream<beast::tcp_stream> stream{std::move(socket), *tls};
  registration guard{connections_, beast::get_lowest_layer(stream)};
  beast::get_lowest_layer(stream).expires_after(io_timeout);
  auto [handshake_error] =
      co_await stream.async_handshake(net::ssl::stream_base::server, use_result);
  if (handshake_error) co_return;  // e.g. a client without the required certificate
  co_await serve(stream, handler_, peer_certificate(stream.native_handle()));
  beast::get_lowest_layer(stream).expires_after(io_timeout);
  co_await stream.async_shutdown(use_result);
}

}  // namespace sidecar::testing
