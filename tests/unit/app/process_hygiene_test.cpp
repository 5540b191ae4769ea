#include <sidecar/app/process_hygiene.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string_view>
#include <sys/resource.h>

using namespace sidecar;

TEST_CASE("open_file_limit_suffices: each connection plus the fds besides them", "[app]") {
  const auto extra = app::fds_besides_connections;
  CHECK(app::open_file_limit_suffices(1024 + extra, 1024));
  CHECK_FALSE(app::open_file_limit_suffices(1024 + extra - 1, 1024));
  CHECK(app::open_file_limit_suffices(1024, 1024 - extra));
  CHECK_FALSE(app::open_file_limit_suffices(1024, 1024));
  CHECK_FALSE(app::open_file_limit_suffices(0, 1));
  CHECK_FALSE(app::open_file_limit_suffices(extra - 1, 1));
  CHECK(app::open_file_limit_suffices(RLIM_INFINITY, 1'000'000));
}

TEST_CASE("raise_open_file_limit: the soft limit goes up to the hard limit", "[app]") {
  rlimit before{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &before) == 0);
  if (before.rlim_max < 512) {
    WARN("hard RLIMIT_NOFILE " << before.rlim_max << " leaves no room to lower the soft one");
    return;
  }
  rlimit lowered{256, before.rlim_max};
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
  const auto now = app::raise_open_file_limit(100);
  rlimit after{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &after) == 0);
  CHECK(now == before.rlim_max);
  CHECK(after.rlim_cur == before.rlim_max);
  CHECK(after.rlim_max == before.rlim_max);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &before) == 0);
}

TEST_CASE("scrub_environment: the variable is gone and its bytes are zeroed in place", "[app]") {
  // putenv keeps this very buffer as the environment entry, as the initial environment block
  // /proc/<pid>/environ shows is kept.
  static char entry[] = "SIDECAR_SCRUB_TEST=canary-value-42";
  REQUIRE(::putenv(entry) == 0);
  REQUIRE(std::getenv("SIDECAR_SCRUB_TEST") != nullptr);
  app::scrub_environment({"SIDECAR_SCRUB_TEST", "SIDECAR_NOT_SET_AT_ALL"});
  CHECK(std::getenv("SIDECAR_SCRUB_TEST") == nullptr);
  const std::string_view value{entry + sizeof("SIDECAR_SCRUB_TEST"), sizeof("canary-value-42") - 1};
  CHECK(value.find_first_not_of('\0') == std::string_view::npos);
  CHECK(std::string_view{entry}.starts_with("SIDECAR_SCRUB_TEST="));
}
