#include <sidecar/auth/relogin_due.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;
using namespace std::chrono_literals;
using config::auth_method;
using config::relogin_policy;

namespace {
const core::time_point t0{100s};
}

TEST_CASE("relogin_allowed: on_expiry for kubernetes, jwt and cert only", "[auth]") {
  for (const auto method : {auth_method::kubernetes, auth_method::jwt, auth_method::cert}) {
    CHECK(auth::relogin_allowed(method, relogin_policy::on_expiry));
    CHECK_FALSE(auth::relogin_allowed(method, relogin_policy::never));
  }
  // The brief's rule holds even if a configuration got past the parser.
  CHECK_FALSE(auth::relogin_allowed(auth_method::approle, relogin_policy::on_expiry));
  CHECK_FALSE(auth::relogin_allowed(auth_method::token_file, relogin_policy::on_expiry));
}

TEST_CASE("relogin_due: a token at its max TTL is replaced at 4/5 of its last TTL", "[auth]") {
  const auth::token_state capped{
      .issued = t0, .ttl = 10s, .renewable = true, .max_ttl_reached = true};
  CHECK(auth::relogin_due(capped, auth_method::kubernetes, relogin_policy::on_expiry, 0.8) ==
        t0 + 8s);
  const auth::token_state fixed{
      .issued = t0, .ttl = 60s, .renewable = false, .max_ttl_reached = false};
  CHECK(auth::relogin_due(fixed, auth_method::jwt, relogin_policy::on_expiry, 0.5) == t0 + 30s);
}

TEST_CASE("relogin_due: nothing planned while renewing works, without a TTL, or when not allowed",
          "[auth]") {
  constexpr auto never = core::time_point::max();
  const auth::token_state renewable{
      .issued = t0, .ttl = 10s, .renewable = true, .max_ttl_reached = false};
  CHECK(auth::relogin_due(renewable, auth_method::cert, relogin_policy::on_expiry, 0.8) == never);
  const auth::token_state no_ttl{
      .issued = t0, .ttl = 0s, .renewable = false, .max_ttl_reached = false};
  CHECK(auth::relogin_due(no_ttl, auth_method::kubernetes, relogin_policy::on_expiry, 0.8) ==
        never);
  const auth::token_state capped{
      .issued = t0, .ttl = 10s, .renewable = true, .max_ttl_reached = true};
  CHECK(auth::relogin_due(capped, auth_method::approle, relogin_policy::on_expiry, 0.8) == never);
  CHECK(auth::relogin_due(capped, auth_method::kubernetes, relogin_policy::never, 0.8) == never);
}
