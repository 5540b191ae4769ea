#include <sidecar/auth/relogin_due.hpp>

#include <chrono>

namespace sidecar::auth {

bool relogin_allowed(config::auth_method method, config::relogin_policy policy) noexcept {
  if (policy != config::relogin_policy::on_expiry) return false;
  return method == config::auth_method::kubernetes || method == config::auth_method::jwt ||
         method == config::auth_method::cert;
}

core::time_point relogin_due(const token_state& token, config::auth_method method,
                             config::relogin_policy policy, double renew_at) noexcept {
  if (!relogin_allowed(method, policy)) return core::time_point::max();
  if (token.ttl <= core::duration::zero() || should_renew(token)) return core::time_point::max();
  return token.issued + std::chrono::duration_cast<core::duration>(token.ttl * renew_at);
}

}  // namespace sidecar::auth
