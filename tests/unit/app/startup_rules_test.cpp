#include <sidecar/app/startup_rules.hpp>

#include <sidecar/app/exit_code.hpp>
#include <sidecar/auth/errc.hpp>
#include <sidecar/vault/errc.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;

TEST_CASE("login_exit_code: refused 77, unreachable 69, anything else 70", "[app]") {
  CHECK(app::login_exit_code(auth::errc::login_refused) == app::exit_code::login_refused);
  CHECK(app::login_exit_code(auth::errc::vault_unavailable) == app::exit_code::unavailable);
  CHECK(app::login_exit_code(vault::errc::malformed_response) == app::exit_code::internal);
}

TEST_CASE("login_exit_code: a JWT file unreadable or empty at login is a config error (78)",
          "[app]") {
  CHECK(app::login_exit_code(auth::errc::credential_unreadable) == app::exit_code::bad_config);
  CHECK(app::login_exit_code(auth::errc::credential_empty) == app::exit_code::bad_config);
  CHECK(app::login_exit_code(auth::errc::token_lost) == app::exit_code::internal);
}
