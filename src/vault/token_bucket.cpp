#include <sidecar/vault/token_bucket.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace sidecar::vault {

token_bucket::token_bucket(int rate, core::time_point now) noexcept
    : rate_{static_cast<double>(std::max(rate, 0))}, tokens_{rate_}, filled_at_{now} {}

void token_bucket::refill(core::time_point now) noexcept {
  if (now <= filled_at_) return;  // the clock never goes back; a stale `now` adds nothing
  const std::chrono::duration<double> elapsed = now - filled_at_;
  tokens_ = std::min(rate_, tokens_ + elapsed.count() * rate_);
  filled_at_ = now;
}

core::duration token_bucket::try_take(core::time_point now) noexcept {
  if (unlimited()) return core::duration::zero();
  refill(now);
  if (tokens_ >= 1.0 - 1e-9) {  // a hair under 1 after a wait rounded up is a whole token
    tokens_ -= 1.0;
    return core::duration::zero();
  }
  // Rounded up so that waiting that long is always enough.
  const std::chrono::duration<double> missing{(1.0 - tokens_) / rate_};
  return std::max(core::duration{1}, std::chrono::ceil<core::duration>(missing));
}

}  // namespace sidecar::vault
