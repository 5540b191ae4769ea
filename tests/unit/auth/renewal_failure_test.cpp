#include <sidecar/auth/renewal_failure.hpp>

#include <sidecar/auth/errc.hpp>
#include <sidecar/vault/envelope.hpp>
#include <sidecar/vault/errc.hpp>

#include <boost/asio/error.hpp>
#include <catch2/catch.hpp>

using namespace sidecar;
using auth::renewal_failure;
using vault::errc;

TEST_CASE("classify_renewal_failure: Vault's verdicts on the token are permanent", "[auth]") {
  for (const auto e : {errc::bad_request, errc::permission_denied, errc::invalid_token}) {
    INFO(make_error_code(e).message());
    CHECK(auth::classify_renewal_failure(e) == renewal_failure::permanent);
  }
}

TEST_CASE("classify_renewal_failure: a Vault that cannot answer now is transient", "[auth]") {
  for (const auto e :
       {errc::unreachable, errc::timeout, errc::tls_failure, errc::malformed_response,
        errc::response_too_large, errc::not_found, errc::rate_limited, errc::sealed,
        errc::server_error, errc::unexpected_status}) {
    INFO(make_error_code(e).message());
    CHECK(auth::classify_renewal_failure(e) == renewal_failure::transient);
  }
}

TEST_CASE("classify_renewal_failure: Vault's documented renewal errors", "[auth]") {
  const auto of = [](unsigned status, const char* message) {
    return auth::classify_renewal_failure(vault::classify(status, {message}));
  };
  CHECK(of(400, "past the max TTL, cannot renew") == renewal_failure::permanent);
  CHECK(of(400, "lease is not renewable") == renewal_failure::permanent);
  CHECK(of(403, "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n") ==
        renewal_failure::permanent);
  CHECK(of(403, "1 error occurred:\n\t* permission denied\n\n") == renewal_failure::permanent);
  CHECK(of(503, "Vault is sealed") == renewal_failure::transient);
  CHECK(of(500, "internal error") == renewal_failure::transient);
  CHECK(of(429, R"(request path "auth/token/renew-self": rate limit quota exceeded)") ==
        renewal_failure::transient);
}

TEST_CASE("classify_renewal_failure: errors from outside the vault module are transient",
          "[auth]") {
  CHECK(auth::classify_renewal_failure(boost::asio::error::connection_reset) ==
        renewal_failure::transient);
  CHECK(auth::classify_renewal_failure(auth::errc::token_lost) == renewal_failure::transient);
}
