#pragma once

#include <sidecar/core/clock.hpp>

#include <functional>
#include <random>

namespace sidecar::core {

/// A source of uniform numbers in [0, 1), injected so tests can fix the jitter.
using uniform_source = std::function<double()>;

/// A uniform_source backed by a per-instance Mersenne Twister seeded from std::random_device.
[[nodiscard]] uniform_source make_random_source();

/// Jittered exponential backoff: the n-th wait is min(initial * 2^n, max) shortened by up to
/// `jitter` of itself (Vault's auto-auth trims 0-25 %), so a fleet of sidecars does not retry in
/// lockstep. A pure value; reset() after a success.
///
/// Thread affinity: none (a value type).
class backoff {
 public:
  backoff(duration initial, duration max, double jitter, uniform_source random);

  /// The wait before the next attempt; each call doubles the base up to `max`.
  [[nodiscard]] duration next();
  void reset() noexcept { attempt_ = 0; }
  [[nodiscard]] int attempts() const noexcept { return attempt_; }

 private:
  duration initial_;
  duration max_;
  double jitter_;
  uniform_source random_;
  int attempt_ = 0;
};

}  // namespace sidecar::core
