#pragma once

#include <sidecar/core/secret_string.hpp>
#include <sidecar/vault/token_source.hpp>

namespace sidecar::lease::test {

/// A token source with one fixed token that a test can withdraw and give back, as the auth
/// module does when the token is lost under `serve_cached`.
///
/// Thread affinity: io thread only.
class fixed_token_source final : public vault::token_source {
 public:
  [[nodiscard]] const core::secret_string* current_token() const noexcept override {
    return present_ ? &token_ : nullptr;
  }
  void set_present(bool present) noexcept { present_ = present; }

 private:
  core::secret_string token_{std::string{"hvs.lease-test-token"}};
  bool present_ = true;
};

}  // namespace sidecar::lease::test
