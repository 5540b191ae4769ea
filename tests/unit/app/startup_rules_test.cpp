#include <sidecar/app/startup_rules.hpp>

#include <sidecar/app/exit_code.hpp>
#include <sidecar/auth/errc.hpp>
#include <sidecar/vault/errc.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;

TEST_CASE("is_dynamic_path: only mount/creds/role is dynamic", "[app]") {
  CHECK(app::is_dynamic_path("database/creds/myapp-role"));
  CHECK(app::is_dynamic_path("pg-prod/creds/reader"));
  CHECK_FALSE(app::is_dynamic_path("kv-demo/data/sample"));
  CHECK_FALSE(app::is_dynamic_path("database/creds/"));
  CHECK_FALSE(app::is_dynamic_path("database/creds/role/extra"));
  CHECK_FALSE(app::is_dynamic_path("creds/role"));
  CHECK_FALSE(app::is_dynamic_path("database"));
}

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
