#pragma once

#include <sidecar/testing/request_handler.hpp>
#include <sidecar/testing/wire.hpp>

namespace sidecar::testing {

class vault_double;

/// The control API of the standalone double (tests/support/README.md), served on its own
/// listener so it stays reachable while the Vault listener is down: faults, seal, down/up,
/// secrets, tokens, and the request counters.
///
/// Thread affinity: the server's io thread; it calls vault_double's thread-safe members.
/// Errors: bad input is a 400 `{"errors":[...]}`; unknown paths 404; never throws.
class control_handler final : public request_handler {
 public:
  explicit control_handler(vault_double& target) : target_{target} {}

  void accepted() override {}
  fault_decision plan(const string_request&) override { return {}; }
  void dropped(const string_request&) override {}
  string_response answer(const string_request& request, fault_decision decision,
                         std::string_view client_cert) override;

  /// The control operation for a method, path and JSON body.
  vault_reply handle(std::string_view method, std::string_view path, const nlohmann::json& body);

 private:
  vault_double& target_;
};

}  // namespace sidecar::testing
