#pragma once

#include <sidecar/core/clock.hpp>

namespace sidecar::vault {

/// `vault.rate_limit`: a token bucket holding at most `rate` tokens (the burst), refilled at
/// `rate` per second; each request to Vault takes one. Rate 0 is unlimited. A pure state
/// machine over the injected clock's time points, so tests drive it with a manual clock.
///
/// Thread affinity: none (a value type); the vault client uses it on its io thread.
class token_bucket {
 public:
  /// Full at `now`: a sidecar that starts may send a burst of `rate` at once.
  token_bucket(int rate, core::time_point now) noexcept;

  /// Takes a token: zero when one was taken, else how long until one will be there (nothing
  /// is taken then).
  [[nodiscard]] core::duration try_take(core::time_point now) noexcept;

  [[nodiscard]] bool unlimited() const noexcept { return rate_ <= 0; }

 private:
  void refill(core::time_point now) noexcept;

  double rate_;
  double tokens_;
  core::time_point filled_at_;
};

}  // namespace sidecar::vault
