#include "test_client.hpp"

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <optional>

namespace sidecar::testing {

struct test_client::impl {
  net::io_context io;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  template <class Stream>
  http_reply exchange(Stream& stream, const string_request& request) {
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds{20});
    http::write(stream, request);
    string_response response;
    http::read(stream, buffer, response);
    return {response.result_int(), response.body(),
            std::string{response[http::field::content_type]}, response.keep_alive()};
  }
};

test_client::test_client(unsigned short port, net::ssl::context* tls)
    : impl_{std::make_unique<impl>()} {
  const tcp::endpoint endpoint{net::ip::make_address("127.0.0.1"), port};
  if (tls == nullptr) {
    impl_->plain.emplace(impl_->io);
    impl_->plain->expires_after(std::chrono::seconds{20});
    impl_->plain->connect(endpoint);
    return;
  }
  impl_->secure.emplace(impl_->io, *tls);
  beast::get_lowest_layer(*impl_->secure).expires_after(std::chrono::seconds{20});
  beast::get_lowest_layer(*impl_->secure).connect(endpoint);
  impl_->secure->handshake(net::ssl::stream_base::client);
}

test_client::~test_client() = default;

http_reply test_client::send(const std::string& method, const std::string& target,
                             const std::string& body, const std::string& token) {
  string_request request{http::verb::get, target, 11};
  request.method_string(method);
  request.set(http::field::host, "127.0.0.1");
  if (!token.empty()) request.set("X-Vault-Token", token);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
  }
  request.keep_alive(true);
  request.prepare_payload();
  return impl_->secure ? impl_->exchange(*impl_->secure, request)
                       : impl_->exchange(*impl_->plain, request);
}

http_reply send_once(unsigned short port, const std::string& method, const std::string& target,
                     const std::string& body, const std::string& token) {
  test_client client{port};
  return client.send(method, target, body, token);
}

}  // namespace sidecar::testing
