#include <sidecar/app/startup_rules.hpp>

#include <sidecar/app/exit_code.hpp>
#include <sidecar/auth/errc.hpp>

namespace sidecar::app {

bool is_dynamic_path(std::string_view path) noexcept {
  const auto first = path.find('/');
  if (first == std::string_view::npos) return false;
  const auto rest = path.substr(first + 1);
  return rest.starts_with("creds/") && rest.size() > 6 &&
         rest.find('/', 6) == std::string_view::npos;
}

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
