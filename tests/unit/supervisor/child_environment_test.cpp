#include <sidecar/supervisor/child_environment.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;
using supervisor::child_environment;

namespace {

std::vector<std::string> texts(const std::vector<core::secret_string>& entries) {
  std::vector<std::string> out;
  for (const auto& entry : entries) out.emplace_back(entry.reveal());
  return out;
}

}  // namespace

TEST_CASE("child_environment: the sidecar's environment plus [env], [env] winning",
          "[supervisor]") {
  const char* base[] = {"PATH=/usr/bin:/bin", "HOME=/root", "DB_PASSWORD=stale", "EMPTY=", nullptr};
  supervisor::environment_values added;
  added.emplace_back("DB_PASSWORD", core::secret_string{std::string{"fresh"}});
  added.emplace_back("API_KEY", core::secret_string{std::string{"key=with=equals"}});
  CHECK(texts(child_environment(base, added)) ==
        std::vector<std::string>{"PATH=/usr/bin:/bin", "HOME=/root", "EMPTY=", "DB_PASSWORD=fresh",
                                 "API_KEY=key=with=equals"});
}

TEST_CASE("child_environment: the sidecar's AppRole credentials never reach the app",
          "[supervisor]") {
  const char* base[] = {"VAULT_ROLE_ID=role", "VAULT_SECRET_ID=secret", "VAULT_ADDR=http://x",
                        "VAULT_SECRET_ID_FILE=/keep", nullptr};
  CHECK(texts(child_environment(base, {})) ==
        std::vector<std::string>{"VAULT_ADDR=http://x", "VAULT_SECRET_ID_FILE=/keep"});
}

TEST_CASE("child_environment: no base environment gives [env] alone", "[supervisor]") {
  supervisor::environment_values added;
  added.emplace_back("A", core::secret_string{std::string{"1"}});
  CHECK(texts(child_environment(nullptr, added)) == std::vector<std::string>{"A=1"});
}
