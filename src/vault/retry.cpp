#include <sidecar/vault/errc.hpp>
#include <sidecar/vault/failing_status.hpp>
#include <sidecar/vault/retry.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

namespace sidecar::vault {
namespace {

bool is_read(http::verb method) noexcept {
  return method == http::verb::get || method == http::verb::head;
}

}  // namespace

bool should_retry(http::verb method, const attempt_outcome& outcome, int retries_done,
                  int max_retries) noexcept {
  if (retries_done >= max_retries || !is_read(method)) return false;
  if (outcome.failure) return outcome.failure == errc::unreachable;
  return is_failing_status(outcome.status);
}

bool retry_on_fresh_connection(bool reused, bool answer_started,
                               const error_code& failure) noexcept {
  return reused && !answer_started && failure == errc::unreachable;
}

error_code classify_transport_error(const error_code& ec) noexcept {
  if (!ec || ec.category() == error_category()) return ec;
  if (ec == net::error::operation_aborted) return ec;
  if (ec == beast::error::timeout || ec == net::error::timed_out) return errc::timeout;

  const auto& http_category = make_error_code(http::error::end_of_stream).category();
  if (ec.category() == http_category) {
    if (ec == http::error::end_of_stream) return errc::unreachable;  // closed before any answer
    if (ec == http::error::body_limit || ec == http::error::header_limit ||
        ec == http::error::buffer_overflow) {
      return errc::response_too_large;
    }
    return errc::malformed_response;  // partial_message (truncated) and every parse error
  }
  // A TCP close without TLS close_notify is a plain close; anything else OpenSSL reports is a
  // handshake, certificate or record failure.
  if (ec == net::ssl::error::stream_truncated) return errc::unreachable;
  if (ec.category() == net::error::get_ssl_category()) return errc::tls_failure;
  return errc::unreachable;  // refused, reset, eof, host not found, network unreachable, ...
}

}  // namespace sidecar::vault
