#include <sidecar/app/entry.hpp>
#include <sidecar/core/version.hpp>

#include <catch2/catch.hpp>

#include <sstream>
#include <vector>

using namespace sidecar;

namespace {

struct outcome {
  int code;
  std::string out;
  std::string err;
};

outcome run(std::vector<std::string_view> arguments) {
  std::ostringstream out;
  std::ostringstream err;
  const config::env_lookup no_env = [](std::string_view) { return std::optional<std::string>{}; };
  const int code = app::run_program(arguments, no_env, out, err);
  return {code, out.str(), err.str()};
}

}  // namespace

TEST_CASE("run_program: --version prints the project version", "[app]") {
  const auto result = run({"--version"});
  CHECK(result.code == 0);
  CHECK(result.out == "vault-sidecar " + std::string{core::version} + "\n");
}

TEST_CASE("run_program: --help prints the usage to stdout", "[app]") {
  const auto result = run({"--help"});
  CHECK(result.code == 0);
  CHECK(result.out.starts_with("usage: vault-sidecar"));
  CHECK(result.err.empty());
}

TEST_CASE("run_program: bad usage prints the reason and the usage, exit 64", "[app]") {
  const auto result = run({"--bogus"});
  CHECK(result.code == 64);
  CHECK(result.out.empty());
  CHECK(result.err.starts_with("vault-sidecar: unknown option --bogus\nusage: vault-sidecar"));
}

TEST_CASE("run_program: the daemon does not start on a bad configuration, exit 78", "[app]") {
  const auto result = run({"--config", "/nonexistent/sidecar.ini"});
  CHECK(result.code == 78);
  CHECK(result.err.find("/nonexistent/sidecar.ini: cannot read:") != std::string::npos);
}

TEST_CASE("run_program: check of a missing file exits 78", "[app]") {
  const auto result = run({"check", "--config=/nonexistent/sidecar.ini"});
  CHECK(result.code == 78);
  CHECK(result.out.empty());
}
