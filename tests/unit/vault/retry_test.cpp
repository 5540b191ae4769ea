#include <sidecar/vault/errc.hpp>
#include <sidecar/vault/retry.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <catch2/catch.hpp>

#include <vector>

using namespace sidecar;
using vault::errc;

namespace {

const std::vector<http::verb> reads{http::verb::get, http::verb::head};
const std::vector<http::verb> writes{http::verb::post, http::verb::put, http::verb::patch,
                                     http::verb::delete_};

vault::attempt_outcome status(unsigned code) { return {.failure = {}, .status = code}; }
vault::attempt_outcome failed(errc e) { return {.failure = make_error_code(e), .status = 0}; }

bool retryable_status(unsigned code) {
  return code == 412 || code == 429 || (code >= 500 && code <= 599 && code != 501);
}

}  // namespace

TEST_CASE("should_retry: reads are retried on 412, 429 and 5xx except 501, nothing else",
          "[vault]") {
  for (const auto method : reads) {
    for (unsigned code = 100; code <= 599; ++code) {
      INFO("status " << code);
      CHECK(vault::should_retry(method, status(code), 0, 3) == retryable_status(code));
    }
  }
  CHECK_FALSE(vault::should_retry(http::verb::get, status(501), 0, 3));
  CHECK(vault::should_retry(http::verb::get, status(503), 0, 3));
  CHECK_FALSE(vault::should_retry(http::verb::get, status(307), 0, 3));  // returned, not followed
}

TEST_CASE("should_retry: writes are never retried, whatever the outcome", "[vault]") {
  for (const auto method : writes) {
    for (unsigned code = 100; code <= 599; ++code) {
      CHECK_FALSE(vault::should_retry(method, status(code), 0, 3));
    }
    for (int e = static_cast<int>(errc::unreachable);
         e <= static_cast<int>(errc::unexpected_status); ++e) {
      CHECK_FALSE(vault::should_retry(method, failed(static_cast<errc>(e)), 0, 3));
    }
  }
}

TEST_CASE("should_retry: of the transport failures only unreachable is retried", "[vault]") {
  for (const auto method : reads) {
    CHECK(vault::should_retry(method, failed(errc::unreachable), 0, 3));
    CHECK_FALSE(vault::should_retry(method, failed(errc::timeout), 0, 3));
    CHECK_FALSE(vault::should_retry(method, failed(errc::tls_failure), 0, 3));
    CHECK_FALSE(vault::should_retry(method, failed(errc::malformed_response), 0, 3));
    CHECK_FALSE(vault::should_retry(method, failed(errc::response_too_large), 0, 3));
    const vault::attempt_outcome cancelled{.failure = net::error::operation_aborted, .status = 0};
    CHECK_FALSE(vault::should_retry(method, cancelled, 0, 3));
  }
}

TEST_CASE("should_retry: stops after max_retries repeats", "[vault]") {
  CHECK(vault::should_retry(http::verb::get, status(503), 0, 3));
  CHECK(vault::should_retry(http::verb::get, status(503), 2, 3));
  CHECK_FALSE(vault::should_retry(http::verb::get, status(503), 3, 3));
  CHECK_FALSE(vault::should_retry(http::verb::get, failed(errc::unreachable), 3, 3));
  CHECK_FALSE(vault::should_retry(http::verb::get, status(503), 0, 0));
  CHECK_FALSE(vault::should_retry(http::verb::get, status(503), 0, -1));
}

TEST_CASE("retry_on_fresh_connection: only a pooled connection closed before any answer",
          "[vault]") {
  const error_code unreachable = errc::unreachable;
  CHECK(vault::retry_on_fresh_connection(true, false, unreachable));
  CHECK_FALSE(vault::retry_on_fresh_connection(false, false, unreachable));  // a new connection
  CHECK_FALSE(vault::retry_on_fresh_connection(true, true, unreachable));    // the request was seen
  CHECK_FALSE(vault::retry_on_fresh_connection(true, false, errc::timeout));
  CHECK_FALSE(vault::retry_on_fresh_connection(true, false, errc::tls_failure));
  CHECK_FALSE(vault::retry_on_fresh_connection(true, false, errc::malformed_response));
}

TEST_CASE("classify_transport_error: maps Asio, Beast and OpenSSL errors to vault errc",
          "[vault]") {
  using vault::classify_transport_error;
  CHECK(classify_transport_error({}) == error_code{});
  CHECK(classify_transport_error(beast::error::timeout) == errc::timeout);
  CHECK(classify_transport_error(net::error::timed_out) == errc::timeout);
  CHECK(classify_transport_error(net::error::connection_refused) == errc::unreachable);
  CHECK(classify_transport_error(net::error::connection_reset) == errc::unreachable);
  CHECK(classify_transport_error(net::error::broken_pipe) == errc::unreachable);
  CHECK(classify_transport_error(net::error::eof) == errc::unreachable);
  CHECK(classify_transport_error(net::error::host_not_found) == errc::unreachable);
  CHECK(classify_transport_error(net::error::network_unreachable) == errc::unreachable);
  CHECK(classify_transport_error(http::error::end_of_stream) == errc::unreachable);
  CHECK(classify_transport_error(http::error::partial_message) == errc::malformed_response);
  CHECK(classify_transport_error(http::error::bad_version) == errc::malformed_response);
  CHECK(classify_transport_error(http::error::bad_status) == errc::malformed_response);
  CHECK(classify_transport_error(http::error::body_limit) == errc::response_too_large);
  CHECK(classify_transport_error(http::error::header_limit) == errc::response_too_large);
  CHECK(classify_transport_error(net::ssl::error::stream_truncated) == errc::unreachable);
  const error_code verify_failed{0x0A000086, net::error::get_ssl_category()};
  CHECK(classify_transport_error(verify_failed) == errc::tls_failure);
  CHECK(classify_transport_error(net::error::operation_aborted) == net::error::operation_aborted);
  CHECK(classify_transport_error(errc::sealed) == errc::sealed);  // already ours
}
