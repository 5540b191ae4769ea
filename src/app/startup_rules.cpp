#include <sidecar/app/startup_rules.hpp>

#include <sidecar/app/exit_code.hpp>
#include <sidecar/auth/errc.hpp>

namespace sidecar::app {

int login_exit_code(const error_code& ec) noexcept {
  if (ec == auth::errc::login_refused) return exit_code::login_refused;
  if (ec == auth::errc::vault_unavailable) return exit_code::unavailable;
  // A JWT file re-read before a login (kubernetes, jwt) that vanished or emptied: the operator's
  // file is wrong, as at start-up.
  if (ec == auth::errc::credential_unreadable || ec == auth::errc::credential_empty) {
    return exit_code::bad_config;
  }
  return exit_code::internal;
}

}  // namespace sidecar::app
