#include <sidecar/auth/login_request.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <stdexcept>

using namespace sidecar;

namespace {

config::auth_config with(config::auth_method method, std::string mount, std::string role = {}) {
  config::auth_config config;
  config.kind = method;
  config.mount = std::move(mount);
  config.role = std::move(role);
  return config;
}

nlohmann::json body_of(const auth::login_request& request) {
  return nlohmann::json::parse(request.body.reveal());
}

}  // namespace

TEST_CASE("make_login_request: approle sends role_id and secret_id", "[auth]") {
  auth::credentials login;
  login.role_id = core::secret_string{std::string{"role-1"}};
  login.secret_id = core::secret_string{std::string{"secret-\"1\"\n"}};
  const auto request =
      auth::make_login_request(with(config::auth_method::approle, "approle"), login);
  CHECK(request.target == "/v1/auth/approle/login");
  CHECK(body_of(request) == nlohmann::json{{"role_id", "role-1"}, {"secret_id", "secret-\"1\"\n"}});
}

TEST_CASE("make_login_request: kubernetes and jwt send role and jwt to their mount", "[auth]") {
  auth::credentials login;
  login.jwt = core::secret_string{std::string{"eyJ.a.b"}};
  const auto k8s =
      auth::make_login_request(with(config::auth_method::kubernetes, "kubernetes", "app"), login);
  CHECK(k8s.target == "/v1/auth/kubernetes/login");
  CHECK(body_of(k8s) == nlohmann::json{{"role", "app"}, {"jwt", "eyJ.a.b"}});
  const auto jwt = auth::make_login_request(with(config::auth_method::jwt, "spiffe", "ci"), login);
  CHECK(jwt.target == "/v1/auth/spiffe/login");
  CHECK(body_of(jwt) == nlohmann::json{{"role", "ci"}, {"jwt", "eyJ.a.b"}});
}

TEST_CASE("make_login_request: cert sends the role as name, or an empty object", "[auth]") {
  const auth::credentials none;
  const auto named = auth::make_login_request(with(config::auth_method::cert, "cert", "web"), none);
  CHECK(named.target == "/v1/auth/cert/login");
  CHECK(body_of(named) == nlohmann::json{{"name", "web"}});
  const auto any = auth::make_login_request(with(config::auth_method::cert, "tls"), none);
  CHECK(any.target == "/v1/auth/tls/login");
  CHECK(body_of(any) == nlohmann::json::object());
}

TEST_CASE("make_login_request: token_file has no login", "[auth]") {
  CHECK_THROWS_AS(auth::make_login_request(with(config::auth_method::token_file, "token_file"), {}),
                  std::logic_error);
}

TEST_CASE("method_title: names each method for log lines", "[auth]") {
  CHECK(std::string{auth::method_title(config::auth_method::approle)} == "AppRole");
  CHECK(std::string{auth::method_title(config::auth_method::kubernetes)} == "Kubernetes");
  CHECK(std::string{auth::method_title(config::auth_method::jwt)} == "JWT");
  CHECK(std::string{auth::method_title(config::auth_method::cert)} == "TLS certificate");
  CHECK(std::string{auth::method_title(config::auth_method::token_file)} == "token file");
}
