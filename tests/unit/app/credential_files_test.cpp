#include <sidecar/app/credential_files.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using sidecar::app::loose_credential_file;

TEST_CASE("loose_credential_file: group- or world-writable files are refused", "[app]") {
  CHECK(loose_credential_file("secret_id_file", "/etc/s", 0100666, 0, 0) ==
        "auth.secret_id_file /etc/s is writable by everyone (mode 0666): anyone who can write "
        "it chooses the sidecar's credentials; fix with: chmod go-w /etc/s");
  CHECK(loose_credential_file("role_id_file", "/etc/r", 0100620, 0, 0) ==
        "auth.role_id_file /etc/r is writable by its group (mode 0620): anyone who can write it "
        "chooses the sidecar's credentials; fix with: chmod go-w /etc/r");
  CHECK(loose_credential_file("secret_id_file", "/s", 0100602, 998, 998).has_value());
}

TEST_CASE("loose_credential_file: owned by root or the sidecar's user is fine", "[app]") {
  CHECK_FALSE(loose_credential_file("secret_id_file", "/s", 0100600, 0, 998));
  CHECK_FALSE(loose_credential_file("secret_id_file", "/s", 0100640, 998, 998));
  CHECK_FALSE(loose_credential_file("secret_id_file", "/s", 0100444, 0, 0));
  CHECK(loose_credential_file("secret_id_file", "/s", 0100600, 1000, 998) ==
        "auth.secret_id_file /s is owned by uid 1000, neither root nor the sidecar's user (uid "
        "998); fix with: chown 998 /s");
}

TEST_CASE("check_credential_files: reads the files' real mode", "[app]") {
  const auto path =
      std::filesystem::temp_directory_path() / ("sidecar-cred-" + std::to_string(::getpid()));
  std::ofstream{path} << "secret\n";
  sidecar::config::auth_config auth;
  auth.secret_id_file = path.string();
  ::chmod(path.c_str(), 0600);
  CHECK_FALSE(sidecar::app::check_credential_files(auth));
  ::chmod(path.c_str(), 0666);
  const auto problem = sidecar::app::check_credential_files(auth);
  REQUIRE(problem);
  CHECK(problem->find("auth.secret_id_file " + path.string() + " is writable by everyone") == 0);
  auth.secret_id_file = "/nonexistent/secret_id";  // the read reports a missing file
  CHECK_FALSE(sidecar::app::check_credential_files(auth));
  std::filesystem::remove(path);
}
