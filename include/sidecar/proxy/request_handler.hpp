#pragma once

#include <sidecar/core/asio.hpp>
#include <sidecar/proxy/ready_answer.hpp>
#include <sidecar/proxy/router.hpp>

#include <optional>
#include <variant>

namespace sidecar::proxy {

/// The seam between the listener and what answers requests: forwarding to Vault through the
/// cache and lease store, and the local /sidecar/v1/* endpoints. The listener owns parsing,
/// limits, routing and refusals; a handler only ever sees an allowed decision.
///
/// Thread affinity: called on the connection's strand. With `listener.threads` > 1, calls for
/// different connections run concurrently, so an implementation must be safe for that.
/// Cancellation: the call is cancelled (terminal) when stop()'s grace period ends. Errors: a
/// handler answers every failure with an HTTP response (502, 504, ... in Vault's shape; see
/// error_response.hpp); it does not throw for anything the network can cause.
/// What a handler answers: a Beast response the session finishes and serialises, or, for the hot
/// path, an answer whose bytes are already held in memory (ready_answer.hpp).
using handler_answer = std::variant<string_response, ready_answer>;

class request_handler {
 public:
  virtual ~request_handler() = default;

  /// The answer to `request`, routed as `decision`. The session sets the version, keep-alive
  /// and Content-Length, writes no body for HEAD, and cleanses the request body and a
  /// string_response's body once written (a ready_answer's bytes belong to its owner).
  virtual net::awaitable<handler_answer> async_handle(const string_request& request,
                                                      const route_decision& decision) = 0;

  /// The answer when it is at hand without waiting (a fresh cached secret), else nullopt and
  /// the session calls async_handle(). Saves a hit the coroutine frames of async_handle().
  virtual std::optional<handler_answer> try_answer_at_once(const string_request& /*request*/,
                                                           const route_decision& /*decision*/) {
    return std::nullopt;
  }
};

}  // namespace sidecar::proxy
