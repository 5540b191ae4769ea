#pragma once

#include <sidecar/core/asio.hpp>
#include <sidecar/testing/fault_plan.hpp>

#include <string_view>

namespace sidecar::testing {

/// What a double_server asks its owner about each connection and request.
///
/// Thread affinity: called on the server's io thread; implementations lock what they share
/// with other threads. Errors: answer() must not throw.
class request_handler {
 public:
  virtual ~request_handler() = default;

  virtual void accepted() = 0;
  /// Once a request is read: answer it, delay it, or drop the connection.
  virtual fault_decision plan(const string_request& request) = 0;
  /// The request was dropped as planned (for the record).
  virtual void dropped(const string_request& request) = 0;
  /// The answer, after any planned delay. `client_cert` is the PEM certificate the TLS client
  /// presented on this connection (empty without one, and on plain HTTP).
  virtual string_response answer(const string_request& request, fault_decision decision,
                                 std::string_view client_cert) = 0;
};

}  // namespace sidecar::testing
