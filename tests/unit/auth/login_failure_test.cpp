#include <sidecar/auth/login_failure.hpp>

#include <sidecar/vault/envelope.hpp>
#include <sidecar/vault/errc.hpp>

#include <boost/asio/error.hpp>
#include <catch2/catch.hpp>

using namespace sidecar;
using auth::login_failure;
using vault::errc;

TEST_CASE("login_failure_kind: Vault's no to the credentials is a refusal", "[auth]") {
  for (const auto e :
       {errc::bad_request, errc::permission_denied, errc::invalid_token, errc::not_found}) {
    INFO(make_error_code(e).message());
    CHECK(auth::login_failure_kind(e) == login_failure::refused);
  }
}

TEST_CASE("login_failure_kind: a Vault that cannot answer is retried", "[auth]") {
  for (const auto e : {errc::unreachable, errc::timeout, errc::tls_failure,
                       errc::malformed_response, errc::response_too_large, errc::rate_limited,
                       errc::sealed, errc::server_error, errc::unexpected_status}) {
    INFO(make_error_code(e).message());
    CHECK(auth::login_failure_kind(e) == login_failure::retryable);
  }
}

TEST_CASE("login_failure_kind: AppRole's documented login errors", "[auth]") {
  const auto of = [](unsigned status, const char* message) {
    return auth::login_failure_kind(vault::classify(status, {message}));
  };
  CHECK(of(400, "invalid role or secret ID") == login_failure::refused);
  CHECK(of(400, "missing secret_id") == login_failure::refused);
  CHECK(of(400, R"(source address "10.0.0.9" unauthorized through CIDR restrictions on the )"
                "secret ID") == login_failure::refused);
  CHECK(of(403, "permission denied") == login_failure::refused);
  CHECK(of(404, R"(no handler for route "auth/aprole/login". route entry not found.)") ==
        login_failure::refused);
  CHECK(of(503, "Vault is sealed") == login_failure::retryable);
  CHECK(of(502, "upstream rate limited") == login_failure::retryable);
  CHECK(auth::login_failure_kind(boost::asio::error::connection_refused) ==
        login_failure::retryable);
}
