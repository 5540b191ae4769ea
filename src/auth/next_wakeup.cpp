#include <sidecar/auth/next_wakeup.hpp>

#include <algorithm>

namespace sidecar::auth {

core::time_point next_wakeup(core::time_point now, core::duration check_interval,
                             core::time_point renewal_due, core::time_point expiry) noexcept {
  auto wake = now + check_interval;
  for (const auto point : {renewal_due, expiry}) {
    if (point > now) wake = std::min(wake, point);
  }
  return wake;
}

}  // namespace sidecar::auth
