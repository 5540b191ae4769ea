#include "fake_vault_server.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <cctype>
#include <variant>

namespace sidecar::vault_test {

namespace ssl = net::ssl;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

struct fake_vault_server::session {
  session(tcp::socket socket, ssl::context* tls)
      : stream{tls != nullptr
                   ? std::variant<beast::tcp_stream, tls_stream>{std::in_place_type<tls_stream>,
                                                                 std::move(socket), *tls}
                   : std::variant<beast::tcp_stream,
                                  tls_stream>{std::in_place_type<beast::tcp_stream>,
                                              std::move(socket)}},
        delay{stream_executor()} {}

  net::any_io_executor stream_executor() {
    return std::visit([](auto& s) { return beast::get_lowest_layer(s).get_executor(); }, stream);
  }
  beast::tcp_stream& lowest() {
    return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); },
                      stream);
  }

  std::variant<beast::tcp_stream, tls_stream> stream;
  steady_timer delay;
};

namespace {

std::optional<ssl::context> make_context(const std::optional<server_tls>& tls) {
  if (!tls) return std::nullopt;
  ssl::context context{ssl::context::tls_server};
  context.use_certificate_chain_file(tls->cert);
  context.use_private_key_file(tls->key, ssl::context::pem);
  if (!tls->client_ca.empty()) {
    context.load_verify_file(tls->client_ca);
    context.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return context;
}

std::string lower(std::string_view text) {
  std::string out{text};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

fake_vault_server::fake_vault_server(net::io_context& io, std::optional<server_tls> tls)
    : io_{io}, tls_{make_context(tls)}, acceptor_{io, {net::ip::make_address("127.0.0.1"), 0}} {
  port_ = acceptor_.local_endpoint().port();
  net::co_spawn(io_, accept_loop(), net::detached);
}

fake_vault_server::~fake_vault_server() = default;

std::string fake_vault_server::address() const {
  return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_);
}

void fake_vault_server::script(unsigned status, std::size_t times) {
  for (std::size_t i = 0; i < times; ++i) {
    script_.push_back({.action = scripted_reply::kind::answer,
                       .status = status,
                       .body = R"({"errors":["scripted"]})",
                       .headers = {},
                       .delay = {},
                       .keep_alive = true});
  }
}

void fake_vault_server::stop() {
  stopped_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  for (auto& weak : sessions_) {
    if (auto live = weak.lock()) {
      live->lowest().close();
      live->delay.cancel();
    }
  }
}

scripted_reply fake_vault_server::next_reply() {
  if (script_.empty()) return {};
  auto reply = std::move(script_.front());
  script_.pop_front();
  return reply;
}

net::awaitable<void> fake_vault_server::accept_loop() {
  while (!stopped_) {
    auto [ec, socket] = co_await acceptor_.async_accept();
    if (ec) co_return;
    ++accepted_;
    auto self = std::make_shared<session>(std::move(socket), tls_ ? &*tls_ : nullptr);
    sessions_.push_back(self);
    net::co_spawn(io_, serve(std::move(self)), net::detached);
  }
}

net::awaitable<void> fake_vault_server::serve(std::shared_ptr<session> self) {
  if (auto* stream = std::get_if<tls_stream>(&self->stream)) {
    const auto [ec] = co_await stream->async_handshake(ssl::stream_base::server, use_result);
    if (ec) {
      ++handshake_failures_;
      self->lowest().close();
      co_return;
    }
    co_await exchange_loop(*stream, *self);
  } else {
    co_await exchange_loop(std::get<beast::tcp_stream>(self->stream), *self);
  }
}

template <class Stream>
net::awaitable<void> fake_vault_server::exchange_loop(Stream& stream, session& self) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> request;
    const auto [read_ec, read] = co_await http::async_read(stream, buffer, request, use_result);
    if (read_ec) {
      if (!stopped_) ++closed_by_peer_;
      co_return;
    }
    seen_request seen{.method = request.method(),
                      .target = std::string{request.target()},
                      .headers = {},
                      .token_fields = 0,
                      .body = request.body()};
    for (const auto& field : request) {
      auto name = lower(field.name_string());
      if (name == "x-vault-token") ++seen.token_fields;
      auto& value = seen.headers[name];
      if (!value.empty()) value += ", ";
      value += std::string{field.value()};
    }
    requests_.push_back(std::move(seen));

    const auto reply = next_reply();
    if (reply.delay.count() > 0) {
      self.delay.expires_after(reply.delay);
      const auto [wait_ec] = co_await self.delay.async_wait();
      if (wait_ec || stopped_) co_return;
    }
    if (reply.action == scripted_reply::kind::close) {
      self.lowest().close();
      co_return;
    }
    if (reply.action == scripted_reply::kind::garbage) {
      const std::string junk = "SSH-2.0-OpenSSH_9.2 this is not HTTP\r\n\r\n";
      (void)co_await net::async_write(stream, net::buffer(junk), use_result);
      self.lowest().close();
      co_return;
    }

    http::response<http::string_body> answer{static_cast<http::status>(reply.status), 11};
    answer.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : reply.headers) answer.insert(name, value);
    answer.body() = reply.body;
    answer.keep_alive(reply.keep_alive && request.keep_alive());
    answer.prepare_payload();
    const auto [write_ec, written] = co_await http::async_write(stream, answer, use_result);
    if (write_ec || !answer.keep_alive()) {
      self.lowest().close();
      co_return;
    }
  }
}

}  // namespace sidecar::vault_test
