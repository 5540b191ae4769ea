#pragma once

#include <sidecar/core/secret_string.hpp>
#include <sidecar/vault/token_source.hpp>

#include <optional>
#include <string>

namespace sidecar::cache::testing {

/// A token source holding a fixed token, or none after lose().
class fake_token_source final : public vault::token_source {
 public:
  explicit fake_token_source(std::string token) : token_{core::secret_string{std::move(token)}} {}
  [[nodiscard]] const core::secret_string* current_token() const noexcept override {
    return token_ ? &*token_ : nullptr;
  }
  void lose() { token_.reset(); }
  void restore(std::string token) { token_ = core::secret_string{std::move(token)}; }

 private:
  std::optional<core::secret_string> token_;
};

}  // namespace sidecar::cache::testing
