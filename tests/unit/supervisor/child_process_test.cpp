#include <sidecar/supervisor/child_process.hpp>

#include "run_until.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>

using namespace sidecar;
using namespace std::chrono_literals;
using namespace net::experimental::awaitable_operators;
using supervisor::child_process;
using testing::read_file;
using testing::run_until;
using testing::temp_dir;

namespace {

std::vector<core::secret_string> environment(std::initializer_list<std::string_view> entries) {
  std::vector<core::secret_string> out;
  for (const auto entry : entries) out.emplace_back(entry);
  return out;
}

std::unique_ptr<child_process> start(net::io_context& io, const std::string& script,
                                     const std::vector<core::secret_string>& env) {
  auto child = child_process::spawn(io.get_executor(), {"/bin/sh", "-c", script}, env);
  REQUIRE(child.has_value());
  return std::move(*child);
}

/// Waits for the child's exit within `limit`; its code.
std::optional<int> exit_of(net::io_context& io, child_process& child,
                           std::chrono::milliseconds limit) {
  std::optional<int> code;
  bool done = false;
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        code = co_await child.async_wait_exit();
        done = true;
      },
      net::detached);
  REQUIRE(run_until(
      io, [&] { return done; }, limit));
  return code;
}

}  // namespace

TEST_CASE("child_process: the exit code and exactly the given environment", "[supervisor]") {
  temp_dir dir;
  net::io_context io;
  const auto out = dir.file("env");
  auto child = start(io, R"(echo "$FOO|${HOME-unset}" > "$OUT"; exit 7)",
                     environment({"FOO=bar baz", "OUT=" + out}));
  CHECK(child->running());
  CHECK(exit_of(io, *child, 5s) == 7);
  CHECK_FALSE(child->running());
  CHECK(read_file(out) == "bar baz|unset\n");
  CHECK(exit_of(io, *child, 1s) == 7);  // asked again: at once, the same
}

TEST_CASE("child_process: a signal's end is 128 plus the signal", "[supervisor]") {
  net::io_context io;
  auto child = start(io, "kill -KILL $$", {});
  CHECK(exit_of(io, *child, 5s) == 137);
}

TEST_CASE("child_process: a program not on PATH fails to spawn with ENOENT", "[supervisor]") {
  net::io_context io;
  auto child = child_process::spawn(io.get_executor(), {"no-such-program-for-sidecar-tests"}, {});
  REQUIRE_FALSE(child.has_value());
  CHECK(child.error() == boost::system::errc::no_such_file_or_directory);
}

TEST_CASE("child_process: a signal reaches the program in its own process group", "[supervisor]") {
  temp_dir dir;
  net::io_context io;
  const auto out = dir.file("got");
  const auto ready = dir.file("ready");
  auto child = start(io,
                     R"(trap 'echo usr1 > "$OUT"; exit 0' USR1; : > "$READY"; )"
                     R"(while :; do sleep 0.05; done)",
                     environment({"OUT=" + out, "READY=" + ready, "PATH=/usr/bin:/bin"}));
  CHECK(::getpgid(child->pid()) == child->pid());
  REQUIRE(run_until(
      io, [&] { return std::filesystem::exists(ready); }, 5s));
  child->signal(SIGUSR1);
  CHECK(exit_of(io, *child, 5s) == 0);
  CHECK(read_file(out) == "usr1\n");
}

TEST_CASE("child_process: no ignored signal and no other descriptor is inherited", "[supervisor]") {
  temp_dir dir;
  net::io_context io;
  const auto out = dir.file("status");
  const auto previous = ::signal(SIGPIPE, SIG_IGN);   // as the daemon does
  const int null_fd = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC: it would be inherited
  const int leaked = ::dup2(null_fd, 100);
  ::close(null_fd);
  REQUIRE(leaked == 100);
  auto child = start(io, R"(grep SigIgn /proc/$$/status > "$OUT"; ls /proc/$$/fd >> "$OUT")",
                     environment({"OUT=" + out, "PATH=/usr/bin:/bin"}));
  const auto code = exit_of(io, *child, 5s);
  ::signal(SIGPIPE, previous);
  ::close(leaked);
  CHECK(code == 0);
  const auto status = read_file(out);
  // Signals 1-31 (SIGPIPE among them) are at their defaults; glibc keeps its own real-time
  // signals (32, 33) as it likes and posix_spawn does not touch them.
  REQUIRE_THAT(status, Catch::StartsWith("SigIgn:\t"));
  const auto ignored = std::stoull(status.substr(8, 16), nullptr, 16);
  CHECK((ignored & 0x7fffffffULL) == 0);
  CHECK_THAT(status, !Catch::Contains("\n100\n"));
}

TEST_CASE("child_process: a cancelled wait leaves the program running", "[supervisor]") {
  net::io_context io;
  auto child = start(io, "exec sleep 30", environment({"PATH=/usr/bin:/bin"}));
  std::optional<std::size_t> winner;
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        steady_timer timer{io, 50ms};
        auto outcome = co_await (child->async_wait_exit() || timer.async_wait());
        winner = outcome.index();
      },
      net::detached);
  REQUIRE(run_until(
      io, [&] { return winner.has_value(); }, 5s));
  CHECK(winner == 1u);
  CHECK(child->running());
  CHECK(::kill(child->pid(), 0) == 0);
  child->signal(SIGTERM);
  CHECK(exit_of(io, *child, 5s) == 128 + SIGTERM);
}

TEST_CASE("child_process: destroying a running child kills and reaps it", "[supervisor]") {
  net::io_context io;
  auto child = start(io, "exec sleep 30", environment({"PATH=/usr/bin:/bin"}));
  const auto pid = child->pid();
  REQUIRE(::kill(pid, 0) == 0);
  child.reset();
  CHECK(::kill(pid, 0) == -1);
  CHECK(errno == ESRCH);
}
