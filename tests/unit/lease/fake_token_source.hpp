#pragma once

#include <sidecar/core/secret_string.hpp>
#include <sidecar/vault/token_source.hpp>

#include <functional>
#include <vector>

namespace sidecar::lease::test {

/// A token source with one fixed token that a test can withdraw and give back, as the auth
/// module does when the token is lost under `serve_cached`; it counts the store's reports of
/// an `invalid token` answer; replace_token() plays a new login.
///
/// Thread affinity: io thread only.
class fake_token_source final : public vault::token_source {
 public:
  [[nodiscard]] const core::secret_string* current_token() const noexcept override {
    return present_ ? &token_ : nullptr;
  }
  void set_present(bool present) noexcept { present_ = present; }
  void report_invalid_token() noexcept override { ++invalid_token_reports_; }
  [[nodiscard]] int invalid_token_reports() const noexcept { return invalid_token_reports_; }
  void on_token_replaced(std::function<void()> handler) override {
    replaced_handlers_.push_back(std::move(handler));
  }
  /// What the token manager does after a new login: tells every subscriber.
  void replace_token() {
    for (const auto& handler : replaced_handlers_) handler();
  }

 private:
  core::secret_string token_{std::string{"hvs.lease-test-token"}};
  bool present_ = true;
  int invalid_token_reports_ = 0;
  std::vector<std::function<void()>> replaced_handlers_;
};

}  // namespace sidecar::lease::test
