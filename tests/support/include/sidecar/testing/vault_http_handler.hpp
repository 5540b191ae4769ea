#pragma once

#include <sidecar/testing/double_state.hpp>
#include <sidecar/testing/request_handler.hpp>

#include <optional>

namespace sidecar::testing {

/// The HTTP face of the Vault double: turns an HTTP request into a vault_request (path under
/// /v1/, query, token header, JSON body), applies injected faults, runs the vault_api under the
/// state lock, records and logs the request (method, path, status; never the token), and
/// writes Vault's JSON answer.
///
/// Thread affinity: the server's io thread; takes `state.mutex` per call. Errors: malformed
/// JSON is Vault's 400; an unexpected exception is a 500, logged, never thrown.
class vault_http_handler final : public request_handler {
 public:
  explicit vault_http_handler(double_state& state) : state_{state} {}

  void accepted() override;
  fault_decision plan(const string_request& request) override;
  void dropped(const string_request& request) override;
  string_response answer(const string_request& request, fault_decision decision,
                         std::string_view client_cert) override;

  /// The vault_request for an HTTP request, or the error reply that answers it instead.
  [[nodiscard]] static std::optional<vault_request> parse(const string_request& request,
                                                          vault_reply& error);

 private:
  void record(const string_request& request, unsigned status);

  double_state& state_;
};

}  // namespace sidecar::testing
