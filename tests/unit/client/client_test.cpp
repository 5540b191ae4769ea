#include <sidecar/auth/errc.hpp>
#include <sidecar/client.hpp>
#include <sidecar/core/asio.hpp>
#include <sidecar/testing/vault_double.hpp>
#include <sidecar/vault/errc.hpp>

#include <catch2/catch.hpp>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sidecar {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

/// Polls `done` every 50 ms for up to `limit`: honest margins on a loaded machine.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 20s) {
  const auto deadline = steady::now() + limit;
  while (steady::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

/// A Vault double with a KV v2 and a KV v1 mount, a database role and an AppRole allowed to
/// read them, plus the credential files, removed at the end.
class fixture {
 public:
  explicit fixture(long long token_ttl = 3600, long long creds_ttl = 3600) {
    vault.add_kv_mount("kv", 2);
    vault.add_kv_mount("kv1", 1);
    vault.put_kv("kv", "app", {{"password", "first"}});
    vault.put_kv("kv1", "app", {{"api_key", "v1-value"}});
    vault.add_policy(
        "app", {{"kv/*", {"read", "list"}}, {"kv1/*", {"read"}}, {"database/creds/*", {"read"}}});
    vault.add_database_role({.name = "app-role", .default_ttl = creds_ttl, .max_ttl = 86400});
    const auto creds = vault.add_approle(
        {.name = "app", .policies = {"app"}, .token_ttl = token_ttl, .token_max_ttl = 86400});
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("sidecar-client-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    std::ofstream{dir_ / "role_id"} << creds.role_id << '\n';
    std::ofstream{dir_ / "secret_id"} << creds.secret_id << '\n';
  }
  ~fixture() { std::filesystem::remove_all(dir_); }
  fixture(const fixture&) = delete;
  fixture& operator=(const fixture&) = delete;

  [[nodiscard]] config::config settings() const {
    config::config cfg;
    cfg.vault.address = vault.address();
    cfg.vault.request_timeout = 5s;
    cfg.auth.role_id_file = (dir_ / "role_id").string();
    cfg.auth.secret_id_file = (dir_ / "secret_id").string();
    cfg.auth.check_interval = 1s;
    cfg.auth.login_timeout = 5s;
    cfg.cache.refresh_interval = 1s;
    cfg.cache.ttl = 1min;
    return cfg;
  }

  void write_secret_id(const std::string& value) {
    std::ofstream{dir_ / "secret_id"} << value << '\n';
  }

  testing::vault_double vault;

 private:
  std::filesystem::path dir_;
};

/// What on_change delivered, from the engine's thread to the test's.
class recorder {
 public:
  client::change_callback callback() {
    return [this](const std::string& name, const nlohmann::json& data) {
      // Callbacks never overlap: a second one entering while one runs would be counted here.
      if (inside_.exchange(true)) overlapped_ = true;
      std::this_thread::sleep_for(20ms);
      {
        const std::scoped_lock lock{mutex_};
        seen_.emplace_back(name, data);
      }
      inside_ = false;
    };
  }
  [[nodiscard]] std::vector<std::pair<std::string, nlohmann::json>> seen() const {
    const std::scoped_lock lock{mutex_};
    return seen_;
  }
  [[nodiscard]] bool overlapped() const { return overlapped_; }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, nlohmann::json>> seen_;
  std::atomic<bool> inside_{false};
  std::atomic<bool> overlapped_{false};
};

/// Whether `r` holds a value; the error's message goes to the report when it does not.
template <class T>
bool ok(const client_result<T>& r) {
  if (!r) UNSCOPED_INFO(r.error().message());
  return r.has_value();
}

}  // namespace

TEST_CASE("client: logs in and reads a KV v2 and a KV v1 secret's map", "[client]") {
  fixture f;
  client vault_client{f.settings()};
  REQUIRE(ok(vault_client.start()));

  const auto v2 = vault_client.kv("kv/data/app");
  REQUIRE(ok(v2));
  CHECK(*v2 == nlohmann::json{{"password", "first"}});
  const auto v1 = vault_client.kv("kv1/app");
  REQUIRE(ok(v1));
  CHECK(*v1 == nlohmann::json{{"api_key", "v1-value"}});
  // The second read of the same secret comes from the cache.
  REQUIRE(ok(vault_client.kv("kv/data/app")));
  CHECK(f.vault.count("GET", "/v1/kv/data/app") == 1);

  const auto token = vault_client.token_status();
  CHECK(token.status == auth::token_status::ok);
  CHECK(token.logins == 1);
  vault_client.stop();
}

TEST_CASE("client: Vault's error answer comes back with its status and messages", "[client]") {
  fixture f;
  client vault_client{f.settings()};
  REQUIRE(ok(vault_client.start()));

  const auto missing = vault_client.kv("kv/data/absent");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == vault::errc::not_found);
  CHECK(missing.error().status == 404);

  const auto denied = vault_client.kv("secret/data/other");
  REQUIRE_FALSE(denied.has_value());
  CHECK(denied.error().status == 403);
  CHECK(denied.error().code == vault::errc::permission_denied);
  REQUIRE_FALSE(denied.error().messages.empty());
  CHECK(denied.error().message().find("permission denied") != std::string::npos);
}

TEST_CASE("client: a refused login is login_refused after one attempt", "[client]") {
  fixture f;
  f.write_secret_id("not-the-secret-id");
  client vault_client{f.settings()};
  const auto started = vault_client.start();
  REQUIRE_FALSE(started.has_value());
  CHECK(started.error().code == auth::errc::login_refused);
  CHECK(f.vault.count("POST", "/v1/auth/approle/login") == 1);
  // Reads before a successful login are refused without calling Vault.
  const auto read = vault_client.kv("kv/data/app");
  REQUIRE_FALSE(read.has_value());
  CHECK(read.error().code == client_errc::not_started);
  CHECK(f.vault.count("GET", "/v1/kv/") == 0);
}

TEST_CASE("client: from_file reports every configuration problem", "[client]") {
  const auto path = std::filesystem::temp_directory_path() /
                    ("sidecar-client-bad-" + std::to_string(::getpid()) + ".ini");
  std::ofstream{path} << "[cache]\nttl = soon\n";
  const auto made = client::from_file(path.string());
  std::filesystem::remove(path);
  REQUIRE_FALSE(made.has_value());
  CHECK(made.error().code == client_errc::bad_config);
  REQUIRE_FALSE(made.error().messages.empty());
  CHECK(made.error().messages.front().find("cache.ttl") != std::string::npos);
}

TEST_CASE("client: a changed KV secret reaches on_change after a refresh", "[client]") {
  fixture f;
  client vault_client{f.settings()};
  recorder changes;
  vault_client.on_change("kv/data/app", changes.callback());
  REQUIRE(ok(vault_client.start()));
  REQUIRE(ok(vault_client.kv("kv/data/app")));

  f.vault.put_kv("kv", "app", {{"password", "second"}});
  // refresh_interval is 1 s: the change arrives within a few passes.
  REQUIRE(wait_until([&] { return !changes.seen().empty(); }));
  const auto seen = changes.seen();
  CHECK(seen.front().first == "kv/data/app");
  CHECK(seen.front().second == nlohmann::json{{"password", "second"}});
  CHECK(vault_client.kv("kv/data/app").value() == nlohmann::json{{"password", "second"}});
  CHECK_FALSE(changes.overlapped());
}

TEST_CASE("client: dynamic creds carry their seconds left and rotate at 4/5 of the lease",
          "[client]") {
  fixture f{3600, 5};
  client vault_client{f.settings()};
  recorder rotations;
  REQUIRE(ok(vault_client.start()));

  const auto first = vault_client.dynamic("database/creds/app-role");
  const auto fetched = steady::now();
  REQUIRE(ok(first));
  CHECK(first->data.contains("username"));
  CHECK(first->data.contains("password"));
  CHECK(first->seconds_left > 0);
  CHECK(first->seconds_left <= 5);
  vault_client.on_change("database/creds/app-role", rotations.callback());

  // 4/5 of a 5 s lease: new creds at about 4 s, never before the lease is mostly used.
  const auto rotated = [&] {
    for (const auto& [name, data] : rotations.seen()) {
      if (data.value("username", "") != first->data.value("username", "")) return true;
    }
    return false;
  };
  REQUIRE(wait_until(rotated));
  CHECK(steady::now() - fetched >= 3s);
  const auto now_current = vault_client.dynamic("database/creds/app-role");
  REQUIRE(ok(now_current));
  CHECK(now_current->data.value("username", "") != first->data.value("username", ""));
  CHECK_FALSE(rotations.overlapped());
}

TEST_CASE("client: renews the token at 4/5 of its TTL", "[client]") {
  fixture f{5};
  client vault_client{f.settings()};
  REQUIRE(ok(vault_client.start()));
  const auto logged_in = steady::now();

  REQUIRE(wait_until([&] { return f.vault.count("POST", "/v1/auth/token/renew-self") >= 1; }));
  // Renewed at about 4 s of 5, not at once.
  CHECK(steady::now() - logged_in >= 3s);
  REQUIRE(wait_until([&] { return vault_client.token_status().renewals_ok >= 1; }));
  CHECK(vault_client.token_status().status == auth::token_status::ok);
  CHECK(f.vault.count("POST", "/v1/auth/approle/login") == 1);
}

TEST_CASE("client: a revoked token is lost under policy exit, with no second login", "[client]") {
  fixture f{4};
  client vault_client{f.settings()};
  REQUIRE(ok(vault_client.start()));
  REQUIRE(ok(vault_client.kv("kv/data/app")));

  f.vault.revoke_all_tokens();
  REQUIRE(
      wait_until([&] { return vault_client.token_status().status == auth::token_status::lost; }));
  CHECK(vault_client.token_status().renewal_failures >= 1);
  CHECK(f.vault.count("POST", "/v1/auth/approle/login") == 1);
}

TEST_CASE("client: a revoked token degrades under serve_cached and Vault is not called again",
          "[client]") {
  fixture f{4};
  auto settings = f.settings();
  settings.auth.on_renew_failure = config::renew_failure_policy::serve_cached;
  client vault_client{settings};
  REQUIRE(ok(vault_client.start()));
  REQUIRE(ok(vault_client.kv("kv/data/app")));

  f.vault.revoke_all_tokens();
  REQUIRE(wait_until(
      [&] { return vault_client.token_status().status == auth::token_status::degraded; }));
  CHECK(f.vault.count("POST", "/v1/auth/approle/login") == 1);
  // Degraded: reads are answered from what is held (or fail), without a request to Vault.
  const auto reads_before = f.vault.count("GET", "/v1/kv/");
  (void)vault_client.kv("kv/data/app");
  (void)vault_client.kv("kv/data/other");
  CHECK(f.vault.count("GET", "/v1/kv/") == reads_before);
}

TEST_CASE("client: on the caller's io_context, stop leaves nothing running", "[client]") {
  fixture f{5, 5};
  net::io_context io;
  client vault_client{f.settings(), io.get_executor()};
  std::optional<client_result<nlohmann::json>> kv;
  std::optional<client_result<dynamic_creds>> creds;
  bool blocking_refused = false;

  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        auto started = co_await vault_client.async_start();
        if (!started) co_return;
        kv = co_await vault_client.async_kv("kv/data/app");
        creds = co_await vault_client.async_dynamic("database/creds/app-role");
        // Blocking calls need the own-thread mode.
        blocking_refused = vault_client.kv("kv/data/app").error().code == client_errc::wrong_thread;
        // Let renewal and refresh run a while before stopping.
        steady_timer pause{co_await net::this_coro::executor};
        pause.expires_after(1500ms);
        co_await pause.async_wait();
        vault_client.stop();
      },
      net::detached);

  // run() returns only once no work is left: the renewal, refresh, subscription and lease tasks
  // have all ended after stop().
  const auto began = steady::now();
  io.run_for(60s);
  CHECK(io.stopped());
  CHECK(steady::now() - began < 30s);
  REQUIRE(kv.has_value());
  REQUIRE(ok(*kv));
  CHECK(**kv == nlohmann::json{{"password", "first"}});
  REQUIRE(creds.has_value());
  REQUIRE(ok(*creds));
  CHECK((*creds)->seconds_left > 0);
  CHECK(blocking_refused);
}

TEST_CASE("client: reads after stop fail with stopped", "[client]") {
  fixture f;
  client vault_client{f.settings()};
  REQUIRE(ok(vault_client.start()));
  vault_client.stop();
  const auto read = vault_client.kv("kv/data/app");
  REQUIRE_FALSE(read.has_value());
  CHECK(read.error().code == client_errc::stopped);
  vault_client.stop();  // idempotent
}

}  // namespace sidecar
