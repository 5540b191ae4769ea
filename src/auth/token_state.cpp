#include <sidecar/auth/token_state.hpp>

namespace sidecar::auth {

core::time_point expiry(const token_state& token) noexcept {
  if (token.ttl <= core::duration::zero()) return core::time_point::max();
  return token.issued + token.ttl;
}

bool should_renew(const token_state& token) noexcept {
  return token.renewable && token.ttl > core::duration::zero() && !token.max_ttl_reached;
}

}  // namespace sidecar::auth
