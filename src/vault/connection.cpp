#include <sidecar/core/log.hpp>
#include <sidecar/vault/connection.hpp>
#include <sidecar/vault/errc.hpp>
#include <sidecar/vault/retry.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <cerrno>
#include <string_view>
#include <sys/socket.h>
#include <vector>

namespace sidecar::vault {
namespace {

using namespace net::experimental::awaitable_operators;
namespace ssl = net::ssl;

constexpr std::size_t header_limit = 64 * 1024;

// Headers a local client may need from Vault's answer: back-off hints, Vault's warnings, and the
// target of a redirect (redirects are returned, never followed). Hop-by-hop and framing headers
// (Connection, Content-Length, Transfer-Encoding) are the relaying server's own business; Date
// and Server describe Vault's host, not the answer.
constexpr std::array<std::string_view, 6> relayed_headers{
    "Retry-After",           "Warning",           "Location", "X-Ratelimit-Limit",
    "X-Ratelimit-Remaining", "X-Ratelimit-Reset",
};

bool relayed(std::string_view name) noexcept {
  for (const auto candidate : relayed_headers) {
    if (beast::iequals(name, candidate)) return true;
  }
  return false;
}

std::variant<beast::tcp_stream, beast::ssl_stream<beast::tcp_stream>> make_stream(
    const net::any_io_executor& executor, const connection_target& target) {
  using tls_stream = beast::ssl_stream<beast::tcp_stream>;
  if (target.tls != nullptr) {
    return std::variant<beast::tcp_stream, tls_stream>{std::in_place_type<tls_stream>, executor,
                                                       *target.tls};
  }
  return std::variant<beast::tcp_stream, tls_stream>{std::in_place_type<beast::tcp_stream>,
                                                     executor};
}

response to_response(http::response<secret_body, secret_fields>& message) {
  response out;
  out.status = message.result_int();
  out.content_type = std::string{message[http::field::content_type]};
  out.body = core::secret_string{std::string{message.body().data(), message.body().size()}};
  for (const auto& field : message) {
    if (relayed(field.name_string())) {
      out.headers.emplace_back(std::string{field.name_string()}, std::string{field.value()});
    }
  }
  return out;
}

// One exchange over either stream type; the deadline lives in the lowest (TCP) layer, which
// also bounds the TLS records underneath. Failures come back raw, for the log.
template <class Stream>
net::awaitable<exchange_outcome> exchange_on(
    Stream& stream, beast::basic_flat_buffer<cleansing_allocator<char>>& buffer,
    const wire_request& wire, connection::deadline until, std::size_t body_limit) {
  exchange_outcome out;
  auto& tcp = beast::get_lowest_layer(stream);
  tcp.expires_at(until);
  const auto [write_ec, written] = co_await http::async_write(stream, wire, use_result);
  if (write_ec) {
    out.failure = write_ec;
    co_return out;
  }

  http::response_parser<secret_body, cleansing_allocator<char>> parser;
  parser.body_limit(body_limit);
  parser.header_limit(header_limit);
  if (wire.method() == http::verb::head) parser.skip(true);  // a HEAD answer has no body
  tcp.expires_at(until);
  const auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, use_result);
  out.answer_started = parser.got_some() || buffer.size() > 0;
  if (read_ec) {
    out.failure = read_ec;
    co_return out;
  }
  tcp.expires_never();  // an idle pooled connection must not time out by itself

  auto& message = parser.get();
  // Bytes already buffered past the answer mean Vault (or something on the way) sent more than
  // its Content-Length said: the next answer read here would start with them, so never reuse.
  out.keep_alive = message.keep_alive() && wire.keep_alive() && buffer.size() == 0;
  out.answer = to_response(message);
  co_return out;
}

}  // namespace

connection::connection(net::any_io_executor executor, const connection_target& target)
    : target_{target}, stream_{make_stream(executor, target)} {}

connection::~connection() = default;

beast::tcp_stream& connection::tcp() noexcept {
  return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); },
                    stream_);
}

bool connection::is_open() const noexcept {
  return const_cast<connection*>(this)->tcp().socket().is_open();
}

bool connection::idle_broken() const noexcept {
  auto& socket = const_cast<connection*>(this)->tcp().socket();
  if (!socket.is_open()) return true;
  char byte = 0;
  const auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
  return true;  // 0: closed by the peer; > 0: bytes nobody asked for (an alert, a stray answer)
}

void connection::close() noexcept { tcp().close(); }

error_code connection::prepare_tls() {
  auto& stream = std::get<tls_stream>(stream_);
  // SNI carries names only (RFC 6066): an IP literal is not sent.
  error_code ip_ec;
  (void)net::ip::make_address(target_.verify_name, ip_ec);
  if (ip_ec && SSL_set_tlsext_host_name(stream.native_handle(), target_.verify_name.c_str()) != 1) {
    return {static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()};
  }
  if (!target_.verify) return {};
  stream.set_verify_callback([this, check = ssl::host_name_verification{target_.verify_name}](
                                 bool preverified, ssl::verify_context& context) {
    const bool ok = check(preverified, context);
    if (!ok && certificate_problem_.empty()) {
      const int error = X509_STORE_CTX_get_error(context.native_handle());
      certificate_problem_ = error != X509_V_OK
                                 ? X509_verify_cert_error_string(error)
                                 : "the certificate does not match " + target_.verify_name;
    }
    return ok;
  });
  return {};
}

void connection::log_tls_failure(const error_code& ec) const {
  const auto log = core::logger("vault");
  if (!certificate_problem_.empty()) {
    log->warn("TLS with {}:{} failed: certificate verify failed: {}", target_.address.host,
              target_.address.port, certificate_problem_);
  } else {
    log->warn("TLS with {}:{} failed: {}", target_.address.host, target_.address.port,
              ec.message());
  }
}

net::awaitable<error_code> connection::async_open(deadline until) {
  // A slot granted just as the deadline passed: Asio would race the expired timer against the
  // connect, so decide here.
  if (std::chrono::steady_clock::now() >= until) co_return make_error_code(errc::timeout);
  // A numeric host needs no lookup. Skipping Asio's resolver then also keeps its private thread
  // from ever starting: in a process with a second thread the kernel reference-counts the file
  // table on every socket call (measured: 1.5 % of a cached hit's time, in fdget alone).
  std::vector<tcp::endpoint> endpoints;
  error_code not_numeric;
  const auto numeric = net::ip::make_address(target_.address.host, not_numeric);
  if (!not_numeric) {
    endpoints.emplace_back(numeric, target_.address.port);
  } else {
    const auto executor = co_await net::this_coro::executor;
    tcp_resolver resolver{executor};
    steady_timer timer{executor, until};
    auto resolved = co_await (
        resolver.async_resolve(target_.address.host, std::to_string(target_.address.port)) ||
        timer.async_wait());
    if (resolved.index() == 1) co_return make_error_code(errc::timeout);
    const auto& [resolve_ec, results] = std::get<0>(resolved);
    if (resolve_ec) co_return classify_transport_error(resolve_ec);
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  }

  tcp().expires_at(until);
  const auto [connect_ec, endpoint] = co_await tcp().async_connect(endpoints, use_result);
  if (connect_ec) co_return classify_transport_error(connect_ec);

  if (auto* stream = std::get_if<tls_stream>(&stream_)) {
    if (const auto ec = prepare_tls()) {
      log_tls_failure(ec);
      co_return make_error_code(errc::tls_failure);
    }
    tcp().expires_at(until);
    const auto [handshake_ec] =
        co_await stream->async_handshake(ssl::stream_base::client, use_result);
    if (handshake_ec) {
      const auto failure = classify_transport_error(handshake_ec);
      if (failure == errc::tls_failure) log_tls_failure(handshake_ec);
      co_return failure;
    }
  }
  tcp().expires_never();
  co_return error_code{};
}

net::awaitable<exchange_outcome> connection::async_exchange(const wire_request& wire,
                                                            deadline until,
                                                            std::size_t body_limit) {
  if (std::chrono::steady_clock::now() >= until) {
    co_return exchange_outcome{.failure = make_error_code(errc::timeout),
                               .answer_started = false,
                               .keep_alive = false,
                               .answer = {}};
  }
  auto out = co_await std::visit(
      [&](auto& stream) { return exchange_on(stream, buffer_, wire, until, body_limit); }, stream_);
  if (out.failure) {
    const auto raw = out.failure;
    out.failure = classify_transport_error(raw);
    // With TLS 1.3 a server that refuses the client certificate says so after the handshake.
    if (out.failure == errc::tls_failure) log_tls_failure(raw);
  } else {
    ++exchanges_;
  }
  co_return out;
}

}  // namespace sidecar::vault
