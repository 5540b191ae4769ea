#include <sidecar/core/backoff.hpp>

#include <algorithm>
#include <memory>

namespace sidecar::core {

uniform_source make_random_source() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>{0.0, 1.0}(*engine); };
}

backoff::backoff(duration initial, duration max, double jitter, uniform_source random)
    : initial_{initial},
      max_{std::max(initial, max)},
      jitter_{jitter},
      random_{std::move(random)} {}

duration backoff::next() {
  auto base = initial_;
  for (int i = 0; i < attempt_ && base < max_; ++i) base *= 2;
  base = std::min(base, max_);
  ++attempt_;
  const double keep = 1.0 - jitter_ * random_();
  return std::chrono::duration_cast<duration>(base * keep);
}

}  // namespace sidecar::core
