#pragma once

// A small synchronous HTTP client for the double's own tests: real sockets, plain or TLS,
// one connection per call unless a test keeps one open.

#include <sidecar/core/asio.hpp>

#include <boost/asio/ssl/context.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace sidecar::testing {

struct http_reply {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  bool keep_alive = false;
  /// The body as JSON (null when empty).
  [[nodiscard]] nlohmann::json json() const {
    return body.empty() ? nlohmann::json{} : nlohmann::json::parse(body);
  }
};

/// One connection to 127.0.0.1:port; requests reuse it (keep-alive). Throws
/// boost::system::system_error on any transport failure (refused, reset, closed unanswered).
class test_client {
 public:
  explicit test_client(unsigned short port, net::ssl::context* tls = nullptr);
  ~test_client();
  test_client(const test_client&) = delete;
  test_client& operator=(const test_client&) = delete;

  http_reply send(const std::string& method, const std::string& target,
                  const std::string& body = {}, const std::string& token = {});

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// One request on a fresh connection.
http_reply send_once(unsigned short port, const std::string& method, const std::string& target,
                     const std::string& body = {}, const std::string& token = {});

}  // namespace sidecar::testing
