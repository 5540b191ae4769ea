#pragma once

#include <sidecar/core/secret_string.hpp>
#include <sidecar/vault/token_source.hpp>

#include <optional>
#include <string>

namespace sidecar::cache::testing {

/// A token source holding a fixed token, or none after lose(); counts invalid-token reports.
class fake_token_source final : public vault::token_source {
 public:
  explicit fake_token_source(std::string token) : token_{core::secret_string{std::move(token)}} {}
  [[nodiscard]] const core::secret_string* current_token() const noexcept override {
    return token_ ? &*token_ : nullptr;
  }
  void report_invalid_token() noexcept override { ++invalid_reports_; }
  [[nodiscard]] int invalid_reports() const noexcept { return invalid_reports_; }
  void lose() { token_.reset(); }
  void restore(std::string token) { token_ = core::secret_string{std::move(token)}; }

 private:
  std::optional<core::secret_string> token_;
  int invalid_reports_ = 0;
};

}  // namespace sidecar::cache::testing
