#include <sidecar/auth/renewal_due.hpp>

#include <chrono>

namespace sidecar::auth {

core::time_point renewal_due(const token_state& token, double renew_at) noexcept {
  if (!should_renew(token)) return core::time_point::max();
  return token.issued + std::chrono::duration_cast<core::duration>(token.ttl * renew_at);
}

}  // namespace sidecar::auth
