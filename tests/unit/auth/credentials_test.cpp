#include <sidecar/auth/credentials.hpp>

#include <sidecar/auth/errc.hpp>

#include <catch2/catch.hpp>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

using namespace sidecar;
namespace fs = std::filesystem;

namespace {

// A private temp dir with files, removed afterwards.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "auth-credentials-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~temp_dir() { fs::remove_all(path); }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  std::string write(const std::string& name, const std::string& content) const {
    const auto file = path / name;
    std::ofstream{file} << content;
    return file.string();
  }
};

// The environment as a map, so tests never touch the process environment.
struct fake_env {
  std::map<std::string, std::string> values;
  auth::env_lookup lookup() const {
    return [this](const char* name) -> const char* {
      const auto it = values.find(name);
      return it == values.end() ? nullptr : it->second.c_str();
    };
  }
};

}  // namespace

TEST_CASE("load_credentials: files named in the config are read and trimmed", "[auth]") {
  temp_dir dir;
  config::auth_config config;
  config.role_id_file = dir.write("role_id", "  59d6d1ca-47bb\n");
  config.secret_id_file = dir.write("secret_id", "84896a0c-1347\r\n\n");
  const fake_env env{{{"VAULT_ROLE_ID", "from-env"}, {"VAULT_SECRET_ID", "from-env"}}};

  const auto loaded = auth::load_credentials(config, env.lookup());
  REQUIRE(loaded.has_value());
  CHECK(loaded->role_id.reveal() == "59d6d1ca-47bb");
  CHECK(loaded->secret_id.reveal() == "84896a0c-1347");
  CHECK(loaded->role_id_source == "file " + config.role_id_file);
  CHECK(loaded->secret_id_source == "file " + config.secret_id_file);
  CHECK(fs::exists(config.secret_id_file));  // kept: removal is off by default
}

TEST_CASE("load_credentials: environment variables stand in for unset files", "[auth]") {
  temp_dir dir;
  dir.write("secret_id", "from-credentials-dir");
  const fake_env env{{{"VAULT_ROLE_ID", " role-from-env\n"},
                      {"VAULT_SECRET_ID", "secret-from-env"},
                      {"CREDENTIALS_DIRECTORY", dir.path.string()}}};

  const auto loaded = auth::load_credentials({}, env.lookup());
  REQUIRE(loaded.has_value());
  CHECK(loaded->role_id.reveal() == "role-from-env");
  CHECK(loaded->secret_id.reveal() == "secret-from-env");
  CHECK(loaded->secret_id_source == "$VAULT_SECRET_ID");
}

TEST_CASE("load_credentials: the systemd credential is the last source for the secret_id",
          "[auth]") {
  temp_dir dir;
  const auto credential = dir.write("secret_id", "from-credentials-dir\n");
  const fake_env env{{{"VAULT_ROLE_ID", "role"}, {"CREDENTIALS_DIRECTORY", dir.path.string()}}};
  config::auth_config config;
  config.remove_secret_id_file_after_reading = true;

  const auto loaded = auth::load_credentials(config, env.lookup());
  REQUIRE(loaded.has_value());
  CHECK(loaded->secret_id.reveal() == "from-credentials-dir");
  CHECK(loaded->secret_id_source == "systemd credential " + credential);
  CHECK(fs::exists(credential));  // systemd's, never removed
}

TEST_CASE("load_credentials: remove_secret_id_file_after_reading deletes the file", "[auth]") {
  temp_dir dir;
  config::auth_config config;
  config.role_id_file = dir.write("role_id", "role\n");
  config.secret_id_file = dir.write("secret_id", "secret\n");
  config.remove_secret_id_file_after_reading = true;

  const auto loaded = auth::load_credentials(config, fake_env{}.lookup());
  REQUIRE(loaded.has_value());
  CHECK(loaded->secret_id.reveal() == "secret");
  CHECK_FALSE(fs::exists(config.secret_id_file));
  CHECK(fs::exists(config.role_id_file));
}

TEST_CASE("load_credentials: a file holding a wrapping token stays until it is unwrapped",
          "[auth]") {
  temp_dir dir;
  config::auth_config config;
  config.role_id_file = dir.write("role_id", "role\n");
  config.secret_id_file = dir.write("secret_id", "hvs.wrapping-token\n");
  config.secret_id_response_wrapping_path = "auth/approle/role/app/secret-id";
  config.remove_secret_id_file_after_reading = true;

  const auto loaded = auth::load_credentials(config, fake_env{}.lookup());
  REQUIRE(loaded.has_value());
  CHECK(fs::exists(config.secret_id_file));
  REQUIRE(auth::remove_secret_id_file(config).has_value());  // what the token manager calls
  CHECK_FALSE(fs::exists(config.secret_id_file));
}

TEST_CASE("load_credentials: a secret_id file that cannot be removed is an error", "[auth]") {
  // procfs files are readable and cannot be unlinked, by root either (tests may run as root,
  // which ignores directory permissions).
  temp_dir dir;
  config::auth_config config;
  config.role_id_file = dir.write("role_id", "role\n");
  config.secret_id_file = "/proc/self/comm";
  config.remove_secret_id_file_after_reading = true;

  const auto loaded = auth::load_credentials(config, fake_env{}.lookup());
  REQUIRE_FALSE(loaded.has_value());
  CHECK(loaded.error() == auth::errc::credential_not_removed);
}

TEST_CASE("load_credentials: missing sources are reported per credential", "[auth]") {
  temp_dir dir;
  SECTION("no role_id anywhere") {
    const fake_env env{{{"VAULT_SECRET_ID", "secret"}}};
    const auto loaded = auth::load_credentials({}, env.lookup());
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error() == auth::errc::role_id_missing);
  }
  SECTION("no secret_id anywhere") {
    const fake_env env{{{"VAULT_ROLE_ID", "role"}, {"CREDENTIALS_DIRECTORY", ""}}};
    const auto loaded = auth::load_credentials({}, env.lookup());
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error() == auth::errc::secret_id_missing);
  }
  SECTION("a systemd credentials directory without a secret_id") {
    const fake_env env{{{"VAULT_ROLE_ID", "role"}, {"CREDENTIALS_DIRECTORY", dir.path.string()}}};
    const auto loaded = auth::load_credentials({}, env.lookup());
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error() == auth::errc::credential_unreadable);
  }
}

TEST_CASE("load_credentials: a configured file that is missing does not fall back", "[auth]") {
  temp_dir dir;
  config::auth_config config;
  config.role_id_file = (dir.path / "absent").string();
  const fake_env env{{{"VAULT_ROLE_ID", "role"}, {"VAULT_SECRET_ID", "secret"}}};

  const auto loaded = auth::load_credentials(config, env.lookup());
  REQUIRE_FALSE(loaded.has_value());
  CHECK(loaded.error() == auth::errc::credential_unreadable);
}

TEST_CASE("load_credentials: whitespace-only and oversized values are refused", "[auth]") {
  temp_dir dir;
  config::auth_config config;
  config.role_id_file = dir.write("role_id", "role");
  SECTION("a secret_id file of blanks") {
    config.secret_id_file = dir.write("secret_id", " \n\t\n");
    const auto loaded = auth::load_credentials(config, fake_env{}.lookup());
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error() == auth::errc::credential_empty);
  }
  SECTION("an empty VAULT_SECRET_ID") {
    const fake_env env{{{"VAULT_SECRET_ID", ""}}};
    const auto loaded = auth::load_credentials(config, env.lookup());
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error() == auth::errc::credential_empty);
  }
  SECTION("a secret_id file far larger than a credential") {
    config.secret_id_file = dir.write("secret_id", std::string(64 * 1024, 'x'));
    const auto loaded = auth::load_credentials(config, fake_env{}.lookup());
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error() == auth::errc::credential_unreadable);
  }
}

TEST_CASE("process_environment: reads the real environment", "[auth]") {
  ::setenv("SIDECAR_AUTH_TEST_VARIABLE", "value", 1);
  const auto env = auth::process_environment();
  CHECK(std::string{env("SIDECAR_AUTH_TEST_VARIABLE")} == "value");
  ::unsetenv("SIDECAR_AUTH_TEST_VARIABLE");
  CHECK(env("SIDECAR_AUTH_TEST_VARIABLE") == nullptr);
}

// Issue 20: the methods other than AppRole.

TEST_CASE("load_credentials: kubernetes and jwt read the JWT file, not the AppRole sources",
          "[auth]") {
  temp_dir dir;
  for (const auto method : {config::auth_method::kubernetes, config::auth_method::jwt}) {
    config::auth_config config;
    config.kind = method;
    config.jwt_file = dir.write("token", "eyJhbGciOi.payload.sig\n");
    const fake_env env{{{"VAULT_ROLE_ID", "r"}, {"VAULT_SECRET_ID", "s"}}};
    const auto loaded = auth::load_credentials(config, env.lookup());
    REQUIRE(loaded.has_value());
    CHECK(loaded->jwt.reveal() == "eyJhbGciOi.payload.sig");
    CHECK(loaded->role_id.empty());
    CHECK(loaded->secret_id.empty());
  }
}

TEST_CASE("read_jwt: reads the file afresh each time, so a rotated token is seen", "[auth]") {
  temp_dir dir;
  config::auth_config config;
  config.kind = config::auth_method::kubernetes;
  config.jwt_file = dir.write("token", "first.jwt.x");
  CHECK(auth::read_jwt(config)->reveal() == "first.jwt.x");
  dir.write("token", "second.jwt.y\n");
  CHECK(auth::read_jwt(config)->reveal() == "second.jwt.y");
}

TEST_CASE("load_credentials: a missing or empty JWT or token file is an error", "[auth]") {
  temp_dir dir;
  const fake_env env;
  config::auth_config k8s;
  k8s.kind = config::auth_method::kubernetes;
  k8s.jwt_file = (dir.path / "absent").string();
  CHECK(auth::load_credentials(k8s, env.lookup()).error() == auth::errc::credential_unreadable);
  k8s.jwt_file = dir.write("empty", " \n");
  CHECK(auth::load_credentials(k8s, env.lookup()).error() == auth::errc::credential_empty);

  config::auth_config file;
  file.kind = config::auth_method::token_file;
  file.token_file = (dir.path / "absent").string();
  CHECK(auth::load_credentials(file, env.lookup()).error() == auth::errc::credential_unreadable);
  file.token_file = dir.write("token", "hvs.CAESI\n");
  const auto loaded = auth::load_credentials(file, env.lookup());
  REQUIRE(loaded.has_value());
  CHECK(loaded->token.reveal() == "hvs.CAESI");
}

TEST_CASE("load_credentials: cert needs no file (the certificate is the credential)", "[auth]") {
  config::auth_config config;
  config.kind = config::auth_method::cert;
  const fake_env env;  // no AppRole sources at all: not an error for cert
  const auto loaded = auth::load_credentials(config, env.lookup());
  REQUIRE(loaded.has_value());
  CHECK(loaded->jwt.empty());
}
