#pragma once

#include <sidecar/core/secret_string.hpp>
#include <sidecar/vault/token_source.hpp>

namespace sidecar::lease::test {

/// A token source with one fixed token that a test can withdraw and give back, as the auth
/// module does when the token is lost under `serve_cached`; it counts the store's reports of
/// an `invalid token` answer.
///
/// Thread affinity: io thread only.
class fixed_token_source final : public vault::token_source {
 public:
  [[nodiscard]] const core::secret_string* current_token() const noexcept override {
    return present_ ? &token_ : nullptr;
  }
  void set_present(bool present) noexcept { present_ = present; }
  void report_invalid_token() noexcept override { ++invalid_token_reports_; }
  [[nodiscard]] int invalid_token_reports() const noexcept { return invalid_token_reports_; }

 private:
  core::secret_string token_{std::string{"hvs.lease-test-token"}};
  bool present_ = true;
  int invalid_token_reports_ = 0;
};

}  // namespace sidecar::lease::test
