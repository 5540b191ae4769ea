#include <sidecar/supervisor/supervisor.hpp>

#include <sidecar/config/values.hpp>
#include <sidecar/core/log.hpp>
#include <sidecar/supervisor/errc.hpp>

#include "run_until.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <sstream>

using namespace sidecar;
using namespace std::chrono_literals;
using supervisor::supervisor_options;
using testing::read_file;
using testing::temp_dir;

namespace {

using steady = std::chrono::steady_clock;

struct captured_log {
  std::ostringstream out;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  captured_log() {
    core::configure_logging(spdlog::level::debug, core::log_format::text);
    core::add_log_sink(sink);
  }
  ~captured_log() { core::remove_log_sink(sink); }
  [[nodiscard]] std::string text() const { return out.str(); }
};

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in{read_file(path)};
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// A supervisor over a temp dir, run on this thread. The app scripts record each start as a
/// line "<pid> <DB_PASSWORD> <API_KEY>" in `starts`.
struct fixture {
  temp_dir dir;
  net::io_context io;
  config::config cfg;
  std::unique_ptr<supervisor::supervisor> sup;
  bool finished = false;
  std::optional<result<int>> outcome;
  const std::string starts = dir.file("starts");
  const std::string ready = dir.file("ready");

  fixture() {
    cfg.secrets = {{"app", "kv-demo/data/sample"}, {"db", "database/creds/myapp-role"}};
    cfg.env = {{"DB_PASSWORD", "{{db.password}}"}, {"API_KEY", "{{app.api_key}}"}};
    cfg.exec.restart_grace = 5s;
  }

  ~fixture() {
    if (sup && !finished) {
      sup->stop(SIGKILL);
      (void)run_until([this] { return finished; }, 10s);
    }
  }
  fixture(const fixture&) = delete;
  fixture& operator=(const fixture&) = delete;

  /// `body` runs after the start is recorded and a `ready` file is created.
  void app(const std::string& body) {
    cfg.exec.command = {
        "/bin/sh", "-c",
        "echo \"$$ $DB_PASSWORD $API_KEY\" >> '" + starts + "'; : > '" + ready + "'; " + body};
  }
  /// An app that runs until a signal ends it.
  void long_running_app(const std::string& traps = "") {
    app(traps + " while :; do sleep 0.05; done");
  }

  std::string add_template(const std::string& name, const std::string& text,
                           const std::string& command = "") {
    const auto source = dir.file(name + ".tmpl");
    testing::write_plain_file(source, text);
    const auto destination = dir.file(name + ".ini");
    cfg.templates.push_back({.name = name,
                             .source = source,
                             .destination = destination,
                             .perms = 0600,
                             .command = command});
    return destination;
  }

  void start(supervisor_options options = {.debounce = 100ms}) {
    sup = std::make_unique<supervisor::supervisor>(io.get_executor(), cfg, options);
    sup->secret_changed("app", {{"api_key", "key-1"}, {"password", "app-pw-1"}});
    sup->secret_changed("db", {{"username", "user-1"}, {"password", "pw-1"}});
    net::co_spawn(io, sup->async_run(),
                  [this](const std::exception_ptr& failure, result<int> code) {
                    finished = true;
                    if (!failure) outcome = code;
                  });
  }

  template <class Predicate>
  bool run_until(Predicate done, std::chrono::milliseconds limit) {
    return testing::run_until(io, done, limit);
  }
  void run_for(std::chrono::milliseconds span) {
    (void)testing::run_until(
        io, [] { return false; }, span);
  }
  bool wait_for_file(const std::string& path) {
    return run_until([&] { return std::filesystem::exists(path); }, 10s);
  }
  bool wait_for_starts(std::size_t count) {
    return run_until([&] { return lines_of(starts).size() >= count; }, 10s);
  }
  int exit_code() {
    REQUIRE(run_until([this] { return finished; }, 10s));
    REQUIRE(outcome.has_value());
    REQUIRE(outcome->has_value());
    return **outcome;
  }
};

}  // namespace

TEST_CASE("supervisor: the app starts after the files, sees [env] and its exit code is returned",
          "[supervisor]") {
  fixture f;
  const auto file = f.add_template("app-config", "[api]\nkey = {{app.api_key}}\n");
  f.app("cat '" + file + "' > '" + f.dir.file("seen") + "'; exit 3");
  f.start();
  CHECK(f.exit_code() == 3);
  const auto starts = lines_of(f.starts);
  REQUIRE(starts.size() == 1);
  CHECK_THAT(starts[0], Catch::EndsWith(" pw-1 key-1"));
  CHECK(read_file(f.dir.file("seen")) == "[api]\nkey = key-1\n");
  struct stat status {};
  REQUIRE(::stat(file.c_str(), &status) == 0);
  CHECK((status.st_mode & 07777) == 0600);
}

TEST_CASE("supervisor: an app ended by a signal gives 128 plus the signal", "[supervisor]") {
  fixture f;
  f.app("kill -TERM $$");
  f.start();
  CHECK(f.exit_code() == 128 + SIGTERM);
}

TEST_CASE("supervisor: stop forwards the signal and returns the app's own code", "[supervisor]") {
  fixture f;
  f.long_running_app("trap 'exit 42' TERM;");
  f.start();
  REQUIRE(f.wait_for_file(f.ready));
  f.sup->stop(SIGTERM);
  CHECK(f.exit_code() == 42);
  CHECK(f.sup->restarts() == 0);
}

TEST_CASE("supervisor: forwarded signals reach the app, which keeps running", "[supervisor]") {
  fixture f;
  const auto got = f.dir.file("got");
  f.long_running_app("trap 'echo usr1 >> \"" + got + "\"' USR1; trap 'echo hup >> \"" + got +
                     "\"' HUP; trap 'echo usr2 >> \"" + got + "\"' USR2;");
  f.start();
  REQUIRE(f.wait_for_file(f.ready));
  const auto pid = f.sup->child_pid();
  REQUIRE(pid);
  for (const int number : {SIGUSR1, SIGHUP, SIGUSR2}) {
    const auto before = lines_of(got).size();
    f.sup->forward_signal(number);
    REQUIRE(f.run_until([&] { return lines_of(got).size() > before; }, 10s));
  }
  CHECK(lines_of(got) == std::vector<std::string>{"usr1", "hup", "usr2"});
  CHECK(f.sup->child_pid() == pid);
  f.sup->stop(SIGINT);
  CHECK(f.exit_code() == 128 + SIGINT);
}

TEST_CASE("supervisor: an app ignoring the stop signal is killed after restart_grace",
          "[supervisor]") {
  fixture f;
  f.cfg.exec.restart_grace = 300ms;
  f.long_running_app("trap '' TERM;");
  f.start();
  REQUIRE(f.wait_for_file(f.ready));
  const auto stopped_at = steady::now();
  f.sup->stop(SIGTERM);
  CHECK(f.exit_code() == 128 + SIGKILL);
  const auto took = steady::now() - stopped_at;
  CHECK(took >= 300ms);
  CHECK(took < 5s);
}

TEST_CASE("supervisor: a restart kills an app ignoring restart_stop_signal after restart_grace",
          "[supervisor]") {
  fixture f;
  f.cfg.exec.restart_grace = 300ms;
  f.long_running_app("trap '' TERM;");
  f.start();
  REQUIRE(f.wait_for_starts(1));
  const auto changed_at = steady::now();
  f.sup->secret_changed("db", {{"username", "user-1"}, {"password", "pw-2"}});
  REQUIRE(f.wait_for_starts(2));
  CHECK(steady::now() - changed_at >= 300ms);
  CHECK_THAT(lines_of(f.starts)[1], Catch::EndsWith(" pw-2 key-1"));
  CHECK(f.sup->restarts() == 1);
}

TEST_CASE("supervisor: three changes within one second cause one restart", "[supervisor]") {
  fixture f;
  f.long_running_app("trap 'exit 0' TERM;");
  f.start(supervisor_options{});  // the real one-second window
  REQUIRE(f.wait_for_starts(1));
  for (const auto* password : {"pw-2", "pw-3", "pw-4"}) {
    f.sup->secret_changed("db", {{"username", "user-1"}, {"password", password}});
    f.run_for(150ms);  // all three well inside the window, even on a loaded machine
  }
  REQUIRE(f.wait_for_starts(2));
  f.run_for(1500ms);  // a second restart, had there been one, would have happened by now
  const auto starts = lines_of(f.starts);
  REQUIRE(starts.size() == 2);
  CHECK_THAT(starts[1], Catch::EndsWith(" pw-4 key-1"));
  CHECK(f.sup->restarts() == 1);
}

TEST_CASE("supervisor: an [env] change restarts the app; a template-only change does not",
          "[supervisor]") {
  captured_log log;
  fixture f;
  f.cfg.env = {{"DB_PASSWORD", "{{db.password}}"}};
  const auto hook = f.dir.file("hook");
  const auto file =
      f.add_template("app-config", "key = {{app.api_key}}\npassword = {{app.password}}\n",
                     config::join_command({"/bin/sh", "-c", "echo ran >> '" + hook + "'"}));
  f.long_running_app("trap 'exit 0' TERM;");
  f.start();
  REQUIRE(f.wait_for_starts(1));
  CHECK(lines_of(hook).size() == 1);  // the first rendering ran the command too
  const auto first_pid = f.sup->child_pid();

  // Only the file sees `app`: rewritten, its command run, the app left alone. Called the way
  // the KV cache's on_change handler calls it.
  f.sup->path_changed("/v1/kv-demo/data/sample", {{"api_key", "key-2"}, {"password", "app-pw-1"}});
  REQUIRE(f.run_until([&] { return lines_of(hook).size() == 2; }, 10s));
  CHECK(read_file(file) == "key = key-2\npassword = app-pw-1\n");
  CHECK(f.sup->restarts() == 0);
  CHECK(f.sup->child_pid() == first_pid);

  // A value nothing renders: no rewrite, no command, no restart.
  f.sup->secret_changed("db", {{"username", "user-2"}, {"password", "pw-1"}});
  f.run_for(400ms);
  CHECK(lines_of(hook).size() == 2);
  CHECK(f.sup->restarts() == 0);

  // [env] sees `db`: restart with the new value. Called the way the lease store's does.
  f.sup->path_changed("database/creds/myapp-role", {{"username", "user-3"}, {"password", "pw-3"}});
  REQUIRE(f.wait_for_starts(2));
  CHECK_THAT(lines_of(f.starts)[1], Catch::Contains(" pw-3"));
  CHECK(f.sup->restarts() == 1);
  REQUIRE(f.run_until([&] { return f.sup->child_pid().has_value(); }, 10s));
  CHECK(f.sup->child_pid() != first_pid);
  CHECK(lines_of(hook).size() == 2);

  const auto text = log.text();
  CHECK_THAT(text,
             Catch::Contains("template app-config: rewrote " + file + " (secret app changed)"));
  CHECK_THAT(text, Catch::Contains("[env] DB_PASSWORD changed (secret db changed)"));
  for (const auto* value : {"pw-1", "pw-3", "key-1", "key-2", "app-pw-1"}) {
    INFO(value);
    CHECK_THAT(text, !Catch::Contains(value));
  }
}

TEST_CASE("supervisor: restart_on_secret_changes = never keeps the app running", "[supervisor]") {
  fixture f;
  f.cfg.exec.restart_on_secret_changes = config::restart_policy::never;
  f.long_running_app("trap 'exit 0' TERM;");
  f.start();
  REQUIRE(f.wait_for_starts(1));
  const auto pid = f.sup->child_pid();
  f.sup->secret_changed("db", {{"username", "user-1"}, {"password", "pw-2"}});
  f.run_for(600ms);
  CHECK(lines_of(f.starts).size() == 1);
  CHECK(f.sup->restarts() == 0);
  CHECK(f.sup->child_pid() == pid);
}

TEST_CASE("supervisor: a missing key at start names it and starts nothing", "[supervisor]") {
  captured_log log;
  fixture f;
  f.cfg.env = {{"DB_PASSWORD", "{{db.pasword}}"}};
  f.long_running_app();
  f.start();
  REQUIRE(f.run_until([&] { return f.finished; }, 10s));
  REQUIRE(f.outcome.has_value());
  REQUIRE_FALSE(f.outcome->has_value());
  CHECK(f.outcome->error() == supervisor::errc::render_failed);
  CHECK_THAT(log.text(), Catch::Contains("env DB_PASSWORD: secret db has no key pasword"));
  CHECK_FALSE(std::filesystem::exists(f.starts));
}

TEST_CASE("supervisor: a secret never given names it at start", "[supervisor]") {
  captured_log log;
  fixture f;
  f.cfg.secrets.emplace_back("cache", "kv-demo/data/cache");
  f.add_template("app-config", "password = {{cache.password}}\n");
  f.long_running_app();
  f.start();
  REQUIRE(f.run_until([&] { return f.finished; }, 10s));
  REQUIRE(f.outcome.has_value());
  CHECK(f.outcome->error() == supervisor::errc::render_failed);
  CHECK_THAT(log.text(), Catch::Contains("template app-config: no secret cache"));
  CHECK_FALSE(std::filesystem::exists(f.starts));
}

TEST_CASE("supervisor: a command that cannot start fails with spawn_failed", "[supervisor]") {
  fixture f;
  f.cfg.exec.command = {"no-such-program-for-sidecar-tests"};
  f.start();
  REQUIRE(f.run_until([&] { return f.finished; }, 10s));
  REQUIRE(f.outcome.has_value());
  CHECK(f.outcome->error() == supervisor::errc::spawn_failed);
}

TEST_CASE("supervisor: a later render failure keeps the file and the app as they are",
          "[supervisor]") {
  captured_log log;
  fixture f;
  const auto file = f.add_template("app-config", "key = {{app.api_key}}\n");
  f.long_running_app("trap 'exit 0' TERM;");
  f.start();
  REQUIRE(f.wait_for_starts(1));
  f.sup->secret_changed("app", {{"password", "app-pw-2"}});  // api_key is gone
  REQUIRE(
      f.run_until([&] { return log.text().find("has no key api_key") != std::string::npos; }, 10s));
  CHECK(read_file(file) == "key = key-1\n");
  CHECK(f.sup->restarts() == 0);
  CHECK(f.sup->child_pid().has_value());
}

TEST_CASE("supervisor: without [exec] the files are kept up to date until stop", "[supervisor]") {
  fixture f;
  f.cfg.env.clear();
  const auto file = f.add_template("app-config", "key = {{app.api_key}}\n");
  f.start();
  REQUIRE(f.run_until([&] { return read_file(file) == "key = key-1\n"; }, 10s));
  CHECK_FALSE(f.sup->child_pid());
  f.sup->secret_changed("app", {{"api_key", "key-2"}, {"password", "app-pw-1"}});
  REQUIRE(f.run_until([&] { return read_file(file) == "key = key-2\n"; }, 10s));
  CHECK_FALSE(f.finished);
  f.sup->stop(SIGTERM);
  CHECK(f.exit_code() == 0);
}
