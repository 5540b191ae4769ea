#include <sidecar/engine/engine.hpp>

#include <sidecar/core/asio.hpp>
#include <sidecar/metrics/registry.hpp>
#include <sidecar/testing/vault_double.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sidecar {
namespace {

using namespace std::chrono_literals;

/// A Vault double with a KV v2 secret, a database role and a token for them; the engine runs on
/// a strand of `io`, on the test's thread, against the real clock.
struct fixture {
  fixture() {
    vault.add_kv_mount("kv", 2);
    vault.put_kv("kv", "app", {{"password", "first"}});
    vault.add_policy("app", {{"kv/*", {"read"}}, {"database/creds/*", {"read"}}});
    vault.add_database_role({.name = "app-role", .default_ttl = 3600, .max_ttl = 86400});
    settings.vault.address = vault.address();
    settings.vault.request_timeout = 5s;
    settings.auth.method = "token_file";
    settings.auth.kind = config::auth_method::token_file;
    settings.cache.refresh_interval = 2s;  // a keep-warm round every second
    settings.cache.ttl = 1min;
  }

  auth::credentials token_credentials() {
    auth::credentials credentials;
    credentials.token = core::secret_string{vault.create_token({"app"}, 3600)};
    return credentials;
  }

  /// Runs `io` for `span` (or until it runs out of work).
  void run_for(std::chrono::milliseconds span) {
    io.restart();
    io.run_for(span);
  }

  testing::vault_double vault;
  config::config settings;
  net::io_context io;
  net::strand<net::io_context::executor_type> strand{io.get_executor()};
  core::system_clock clock;
  metrics::registry registry;
};

/// Logs in on the strand and reports whether it worked.
bool log_in(fixture& f, engine::engine& graph) {
  std::optional<bool> logged_in;
  net::co_spawn(f.strand, graph.tokens().async_login(),
                [&](std::exception_ptr, result<void> outcome) { logged_in = outcome.has_value(); });
  f.run_for(5s);
  return logged_in.value_or(false);
}

}  // namespace

TEST_CASE("engine: an unusable [vault] address is refused at construction", "[engine]") {
  fixture f;
  f.settings.vault.address = "not a url";
  CHECK_THROWS_AS(engine::engine(f.strand, f.settings, f.clock, f.token_credentials()),
                  std::invalid_argument);
}

TEST_CASE("engine: with a registry every Vault request is counted there", "[engine]") {
  fixture f;
  engine::engine graph{f.strand, f.settings, f.clock, f.token_credentials(), &f.registry};
  REQUIRE(log_in(f, graph));
  net::co_spawn(f.strand, graph.async_touch("kv/data/app"), net::detached);
  f.run_for(5s);
  CHECK(f.vault.count("GET", "/v1/kv/data/app") == 1);
  CHECK(f.registry.render().find("upstream_requests_total") != std::string::npos);
}

TEST_CASE("engine: kept-warm paths are read every round, KV through the cache, creds held",
          "[engine]") {
  fixture f;
  engine::engine graph{f.strand, f.settings, f.clock, f.token_credentials()};
  REQUIRE(log_in(f, graph));
  graph.run_background({});
  graph.keep_warm("kv/data/app");
  graph.keep_warm("/v1/kv/data/app");  // the same path: read once a round
  graph.keep_warm("database/creds/app-role");
  f.run_for(3500ms);

  // Rounds at 0, 1, 2 and 3 s; the cache's ttl is a minute, so only its refresh passes (every
  // 2 s, for an entry read since the last pass) reach Vault, never one read per round.
  const auto kv_reads = f.vault.count("GET", "/v1/kv/data/app");
  CHECK(kv_reads >= 2);
  CHECK(kv_reads <= 3);
  CHECK(f.vault.count("GET", "/v1/database/creds/app-role") == 1);  // the lease store holds it
  CHECK(graph.leases().snapshot().size() == 1);

  graph.stop_background();
  graph.leases().stop();
  f.run_for(5s);
  CHECK(f.io.stopped());  // every loop ended: nothing left on the io_context
}

TEST_CASE("engine: a KV change reaches on_change as not dynamic, with the cache key", "[engine]") {
  fixture f;
  engine::engine graph{f.strand, f.settings, f.clock, f.token_credentials()};
  std::vector<std::pair<bool, std::string>> changes;
  graph.on_change([&](bool dynamic, const std::string& path, const nlohmann::json&) {
    changes.emplace_back(dynamic, path);
  });
  REQUIRE(log_in(f, graph));
  graph.run_background({});
  graph.keep_warm("kv/data/app");
  f.run_for(500ms);
  f.vault.put_kv("kv", "app", {{"password", "second"}});
  f.run_for(3s);  // the next refresh pass finds the new version
  REQUIRE_FALSE(changes.empty());
  CHECK(changes.front() == std::pair<bool, std::string>{false, "/v1/kv/data/app"});
  graph.stop_background();
  graph.leases().stop();
  f.run_for(5s);
}

}  // namespace sidecar
