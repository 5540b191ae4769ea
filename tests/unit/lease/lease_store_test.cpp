#include <sidecar/auth/errc.hpp>
#include <sidecar/core/log.hpp>
#include <sidecar/lease/errc.hpp>
#include <sidecar/lease/lease_store.hpp>

#include "fake_token_source.hpp"
#include "fake_vault_client.hpp"

#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <algorithm>
#include <memory>
#include <set>
#include <sstream>

// GCC 12 false positive on Asio's coroutine frames created from lambdas (as in the vault tests).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

// These tests run a real io_context against the fake Vault with leases of a few seconds; the
// checks are placed well inside each interval (rotation at 80 % of a 2 s lease is at 1.6 s, so
// "before" is checked at 1.0 s and "after" at 1.9 s).

using namespace sidecar;
using namespace std::chrono_literals;
using lease::test::fake_vault_client;
using lease::test::fault;

namespace {

constexpr const char* app = "database/creds/app";
constexpr const char* app_target = "/v1/database/creds/app";

struct harness {
  net::io_context io;
  core::system_clock clock;
  fake_vault_client vault{io.get_executor(), clock};
  lease::test::fake_token_source tokens;
  lease::lease_stats stats;
  std::unique_ptr<lease::lease_store> store;

  explicit harness(config::lease_strategy strategy = config::lease_strategy::rotate) {
    config::database_config config;
    config.strategy = strategy;
    // Fast retries so a few of them fit inside a 2 s lease.
    const lease::retry_limits retry{.initial = 100ms, .max = 400ms, .jitter = 0.25};
    store = std::make_unique<lease::lease_store>(io.get_executor(), vault, tokens, clock, config,
                                                 stats, retry);
  }

  // Runs one test body to completion; an exception inside it fails the test.
  template <class Body>
  void run(Body body) {
    net::co_spawn(io, body(*this), [](const std::exception_ptr& failure) {
      if (failure) std::rethrow_exception(failure);
    });
    io.run();
  }
};

net::awaitable<void> sleep_for(core::duration how_long) {
  steady_timer timer{co_await net::this_coro::executor};
  timer.expires_after(how_long);
  co_await timer.async_wait();
}

nlohmann::json body_of(const lease::dynamic_answer& answer) {
  return nlohmann::json::parse(answer.body->reveal());
}

struct captured_log {
  std::ostringstream out;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  captured_log() {
    core::configure_logging(spdlog::level::trace, core::log_format::text);
    core::add_log_sink(sink);
  }
  ~captured_log() { core::remove_log_sink(sink); }
};

}  // namespace

TEST_CASE("lease_store: rotates at 4/5 of the lease and leaves the old lease alive", "[lease]") {
  captured_log log;
  harness h;
  h.vault.add_role(app, 2, 60);
  h.run([](harness& t) -> net::awaitable<void> {
    const auto first = co_await t.store->async_get(app);
    REQUIRE(first.has_value());
    CHECK(first->status == 200);
    CHECK(first->cache == lease::cache_state::miss);
    CHECK(body_of(*first)["lease_id"] == "database/creds/app/1");
    CHECK(body_of(*first)["data"]["username"] == "v-1");

    co_await sleep_for(1s);
    const auto before = co_await t.store->async_get(app);
    REQUIRE(before.has_value());
    CHECK(before->cache == lease::cache_state::hit);
    CHECK(body_of(*before)["lease_id"] == "database/creds/app/1");

    co_await sleep_for(900ms);
    const auto after = co_await t.store->async_get(app);
    REQUIRE(after.has_value());
    CHECK(after->status == 200);
    CHECK(after->cache == lease::cache_state::hit);
    CHECK(body_of(*after)["lease_id"] == "database/creds/app/2");
    CHECK(body_of(*after)["data"]["username"] == "v-2");
    t.store->stop();
  });
  CHECK(h.vault.count(http::verb::get, app_target) == 2);
  CHECK(h.vault.revoked().empty());
  CHECK(h.stats.rotations == 1);
  CHECK(h.stats.hits == 2);
  const auto snapshot = h.store->snapshot();
  REQUIRE(snapshot.size() == 1);
  CHECK(snapshot[0].path == app);
  CHECK(snapshot[0].state == lease::lease_state::ok);
  CHECK(snapshot[0].rotations == 1);
  CHECK(snapshot[0].failures == 0);
  // Secrets never reach the log, nor lease ids, at any level (trace included): a caller
  // holding one may renew, look up and revoke it through the sidecar.
  const auto text = log.out.str();
  CHECK(text.find("dynamic secret database/creds/app: new credentials") != std::string::npos);
  CHECK(text.find("pw-1") == std::string::npos);
  CHECK(text.find("pw-2") == std::string::npos);
  CHECK(text.find("v-2") == std::string::npos);
  CHECK(text.find("database/creds/app/") == std::string::npos);
}

TEST_CASE("lease_store: find_served knows served leases only, current and retired, until they end",
          "[lease]") {
  harness h;
  h.vault.add_role(app, 2, 60);
  h.run([](harness& t) -> net::awaitable<void> {
    const auto sent = t.clock.now();
    const auto first = co_await t.store->async_get(app);
    REQUIRE(first.has_value());
    // Held, but no caller was handed it yet.
    CHECK_FALSE(t.store->find_served("database/creds/app/1").has_value());
    t.store->mark_served("/v1/database/creds/app");
    const auto served = t.store->find_served("database/creds/app/1");
    REQUIRE(served.has_value());
    CHECK(served->path == app);
    CHECK(served->issued >= sent);
    CHECK(served->issued <= t.clock.now());
    CHECK(served->expiry - served->issued == 2s);
    CHECK_FALSE(served->last_renewal.has_value());
    CHECK(served->granted_at_issue == 2);
    CHECK_FALSE(served->renewable);  // strategy rotate: the sidecar never extends it
    CHECK_FALSE(t.store->find_served("database/creds/app/2").has_value());
    CHECK_FALSE(t.store->find_served("database/creds/app").has_value());
    CHECK_FALSE(t.store->find_served("").has_value());

    co_await sleep_for(1900ms);  // rotated at 1.6 s: lease 2 is current, lease 1 runs out
    const auto retired = t.store->find_served("database/creds/app/1");
    REQUIRE(retired.has_value());
    CHECK(retired->expiry == served->expiry);
    CHECK_FALSE(retired->renewable);
    CHECK_FALSE(t.store->find_served("database/creds/app/2").has_value());  // not served yet
    t.store->mark_served(app);
    CHECK(t.store->find_served("database/creds/app/2").has_value());

    co_await sleep_for(300ms);  // lease 1 ended at 2.0 s
    CHECK_FALSE(t.store->find_served("database/creds/app/1").has_value());
    CHECK(t.store->find_served("database/creds/app/2").has_value());
    t.store->stop();
  });
  CHECK(h.vault.count(http::verb::get, app_target) == 2);
  CHECK(h.vault.requests().size() == 2);  // looking up asks Vault nothing
}

TEST_CASE("lease_store: a served lease under strategy renew is renewable until capped", "[lease]") {
  harness h{config::lease_strategy::renew};
  h.vault.add_role(app, 2, 5);  // renewed at 1.6 s (2 s granted) and 3.2 s (capped to 1 s)
  h.run([](harness& t) -> net::awaitable<void> {
    REQUIRE((co_await t.store->async_get(app)).has_value());
    t.store->mark_served(app);
    const auto issued = t.store->find_served("database/creds/app/1");
    REQUIRE(issued.has_value());
    CHECK(issued->renewable);
    CHECK_FALSE(issued->last_renewal.has_value());

    co_await sleep_for(2000ms);
    const auto renewed = t.store->find_served("database/creds/app/1");
    REQUIRE(renewed.has_value());
    CHECK(renewed->renewable);
    REQUIRE(renewed->last_renewal.has_value());
    CHECK(*renewed->last_renewal > issued->issued);
    CHECK(renewed->issued == issued->issued);
    CHECK(renewed->expiry > issued->expiry);

    co_await sleep_for(1500ms);  // the 3.2 s renewal met the max TTL: rotation next
    const auto capped = t.store->find_served("database/creds/app/1");
    REQUIRE(capped.has_value());
    CHECK_FALSE(capped->renewable);
    t.store->stop();
  });
}

TEST_CASE("lease_store: lease_duration in answers counts down", "[lease]") {
  harness h;
  h.vault.add_role(app, 3, 60);
  h.run([](harness& t) -> net::awaitable<void> {
    const auto first = co_await t.store->async_get(app);
    REQUIRE(first.has_value());
    co_await sleep_for(1200ms);
    const auto later = co_await t.store->async_get(app);
    REQUIRE(later.has_value());
    // Issued for 3 s: a moment later 2 whole seconds are left, 1.2 s later only 1.
    CHECK(body_of(*first)["lease_duration"] == 2);
    CHECK(body_of(*later)["lease_duration"] == 1);
    CHECK(body_of(*later)["lease_id"] == body_of(*first)["lease_id"]);
    CHECK(body_of(*later)["mount_type"] == "database");
    t.store->stop();
  });
}

TEST_CASE("lease_store: find_held answers held creds at once, and never fetches", "[lease]") {
  harness h;
  h.vault.add_role(app, 2, 60);
  h.run([](harness& t) -> net::awaitable<void> {
    CHECK_FALSE(t.store->find_held(app).has_value());  // nothing held, and no fetch started
    CHECK(t.store->snapshot().empty());
    CHECK(t.vault.count(http::verb::get, app_target) == 0);
    const auto first = co_await t.store->async_get(app);
    REQUIRE(first.has_value());
    const auto held = t.store->find_held("/v1/database/creds/app");  // the same path
    REQUIRE(held.has_value());
    CHECK(held->status == 200);
    CHECK(held->cache == lease::cache_state::hit);
    CHECK(body_of(*held)["lease_id"] == body_of(*first)["lease_id"]);
    // Within one second of the lease the same rendering is shared, not rendered again.
    const auto again = t.store->find_held(app);
    REQUIRE(again.has_value());
    CHECK((again->body == held->body ||
           body_of(*again)["lease_duration"] != body_of(*held)["lease_duration"]));
    t.vault.hold_fault(fault{});  // sealed: the lease runs out at 2 s
    co_await sleep_for(2300ms);
    const auto expired = t.store->find_held(app);
    REQUIRE(expired.has_value());
    CHECK(expired->status == 503);
    t.store->stop();
  });
}

TEST_CASE("lease_store: renew strategy renews until the max TTL then rotates", "[lease]") {
  harness h{config::lease_strategy::renew};
  // 2 s leases renewable up to 5 s: renewed at 1.6 s (granted 2 s) and 3.2 s (capped to 1 s),
  // then rotated at 4.0 s, 4/5 of the way through the capped grant.
  h.vault.add_role(app, 2, 5);
  h.run([](harness& t) -> net::awaitable<void> {
    const auto first = co_await t.store->async_get(app);
    REQUIRE(first.has_value());
    co_await sleep_for(3500ms);
    const auto renewed = co_await t.store->async_get(app);
    REQUIRE(renewed.has_value());
    CHECK(renewed->status == 200);
    CHECK(body_of(*renewed)["lease_id"] == "database/creds/app/1");
    co_await sleep_for(1000ms);
    const auto rotated = co_await t.store->async_get(app);
    REQUIRE(rotated.has_value());
    CHECK(rotated->status == 200);
    CHECK(body_of(*rotated)["lease_id"] == "database/creds/app/2");
    t.store->stop();
  });
  CHECK(h.vault.count(http::verb::put, "/v1/sys/leases/renew") == 2);
  CHECK(h.vault.count(http::verb::get, app_target) == 2);
  for (const auto& request : h.vault.requests()) {
    if (request.target != "/v1/sys/leases/renew") continue;
    CHECK(request.body["lease_id"] == "database/creds/app/1");
    CHECK(request.body["increment"] == 2);
    CHECK(request.had_token);
  }
  CHECK(h.stats.renewals == 2);
  CHECK(h.stats.rotations == 1);
  CHECK(h.stats.failures == 0);
  CHECK(h.vault.revoked().empty());
}

TEST_CASE("lease_store: a failed rotation is retried and recovers before expiry", "[lease]") {
  harness h;
  h.vault.add_role(app, 2, 60);
  h.run([](harness& t) -> net::awaitable<void> {
    REQUIRE((co_await t.store->async_get(app)).has_value());
    // The rotation at 1.6 s meets an unreachable Vault; the retry 75-100 ms later succeeds.
    t.vault.push_fault(app_target, fault{.transport = vault::errc::unreachable});
    co_await sleep_for(1900ms);
    const auto after = co_await t.store->async_get(app);
    REQUIRE(after.has_value());
    CHECK(after->status == 200);
    CHECK(body_of(*after)["lease_id"] == "database/creds/app/2");
    t.store->stop();
  });
  CHECK(h.vault.count(http::verb::get, app_target) == 3);
  CHECK(h.stats.failures == 1);
  CHECK(h.stats.rotations == 1);
  CHECK(h.stats.expirations == 0);
  const auto snapshot = h.store->snapshot();
  REQUIRE(snapshot.size() == 1);
  CHECK(snapshot[0].state == lease::lease_state::ok);
  CHECK(snapshot[0].failures == 1);
  CHECK(snapshot[0].last_error.empty());
}

TEST_CASE("lease_store: creds that expire while Vault fails get 503, then recover", "[lease]") {
  harness h;
  h.vault.add_role(app, 2, 60);
  h.run([](harness& t) -> net::awaitable<void> {
    REQUIRE((co_await t.store->async_get(app)).has_value());
    t.vault.hold_fault(fault{});  // sealed from now on

    co_await sleep_for(1800ms);
    auto snapshot = t.store->snapshot();
    REQUIRE(snapshot.size() == 1);
    CHECK(snapshot[0].state == lease::lease_state::degraded);
    CHECK(snapshot[0].seconds_left == 0);
    CHECK(snapshot[0].last_error.find("Vault is sealed") != std::string::npos);
    const auto degraded = co_await t.store->async_get(app);
    REQUIRE(degraded.has_value());
    CHECK(degraded->status == 200);  // the old lease still lasts 0.2 s

    co_await sleep_for(500ms);
    const auto expired = co_await t.store->async_get(app);
    REQUIRE(expired.has_value());
    CHECK(expired->status == 503);
    const auto errors = body_of(*expired)["errors"];
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].get<std::string>().starts_with(
        "dynamic secret database/creds/app expired and could not be renewed: "));
    CHECK(errors[0].get<std::string>().find("Vault is sealed") != std::string::npos);
    snapshot = t.store->snapshot();
    REQUIRE(snapshot.size() == 1);
    CHECK(snapshot[0].state == lease::lease_state::expired);

    t.vault.hold_fault(std::nullopt);  // unsealed: the next retry (at most 0.4 s away) recovers
    co_await sleep_for(700ms);
    const auto recovered = co_await t.store->async_get(app);
    REQUIRE(recovered.has_value());
    CHECK(recovered->status == 200);
    CHECK(body_of(*recovered)["lease_id"] == "database/creds/app/2");
    snapshot = t.store->snapshot();
    REQUIRE(snapshot.size() == 1);
    CHECK(snapshot[0].state == lease::lease_state::ok);
    t.store->stop();
  });
  CHECK(h.stats.expirations == 1);
  CHECK(h.stats.failures >= 3);
  CHECK(h.stats.rotations == 1);
}

TEST_CASE("lease_store: 200 concurrent first requests issue one upstream call", "[lease]") {
  harness h;
  h.vault.add_role(app, 30, 60);
  h.vault.set_delay(100ms);
  struct tally {
    int ok = 0;
    int misses = 0;
    std::set<std::string> lease_ids;
  };
  tally seen;
  h.run([&seen](harness& t) -> net::awaitable<void> {
    for (int i = 0; i < 200; ++i) {
      net::co_spawn(
          t.io,
          [](harness& u, tally& into) -> net::awaitable<void> {
            const auto answer = co_await u.store->async_get(app);
            if (!answer || answer->status != 200) co_return;
            ++into.ok;
            if (answer->cache == lease::cache_state::miss) ++into.misses;
            into.lease_ids.insert(body_of(*answer)["lease_id"].get<std::string>());
          }(t, seen),
          net::detached);
    }
    co_await sleep_for(600ms);
    t.store->stop();
  });
  CHECK(seen.ok == 200);
  CHECK(seen.misses == 200);
  CHECK(seen.lease_ids == std::set<std::string>{"database/creds/app/1"});
  CHECK(h.vault.count(http::verb::get, app_target) == 1);
}

TEST_CASE("lease_store: stop lets a first fetch in flight finish for its waiters, then no rotation",
          "[lease]") {
  harness h;
  h.vault.add_role(app, 1, 60);  // rotation due at 0.8 s, were the task still running
  h.vault.set_delay(300ms);
  std::optional<result<lease::dynamic_answer>> waiting;
  h.run([&](harness& t) -> net::awaitable<void> {
    net::co_spawn(
        t.io, [](harness& u) { return u.store->async_get(app); }(t),
        [&waiting](const std::exception_ptr& failure, result<lease::dynamic_answer> answer) {
          if (!failure) waiting = std::move(answer);
        });
    co_await sleep_for(50ms);
    t.store->stop();
    co_await sleep_for(1500ms);
  });
  REQUIRE(waiting.has_value());
  REQUIRE(waiting->has_value());
  CHECK((*waiting)->status == 200);
  CHECK(body_of(**waiting)["lease_id"] == "database/creds/app/1");
  CHECK(h.vault.count(http::verb::get, app_target) == 1);
  CHECK(h.stats.rotations == 0);
}

TEST_CASE("lease_store: revoke_all revokes exactly the held leases", "[lease]") {
  harness h;
  h.vault.add_role(app, 2, 60);
  h.vault.add_role("database/creds/reports", 30, 60);
  h.run([](harness& t) -> net::awaitable<void> {
    REQUIRE((co_await t.store->async_get(app)).has_value());
    REQUIRE((co_await t.store->async_get("database/creds/reports")).has_value());
    // After the rotation at 1.6 s, app/1 is still alive until 2 s beside app/2.
    co_await sleep_for(1800ms);
    co_await t.store->async_revoke_all(2s);
    const auto afterwards = co_await t.store->async_get(app);
    REQUIRE(afterwards.has_error());
    CHECK(afterwards.error() == lease::errc::stopped);
  });
  auto revoked = h.vault.revoked();
  std::sort(revoked.begin(), revoked.end());
  CHECK(revoked == std::vector<std::string>{"database/creds/app/1", "database/creds/app/2",
                                            "database/creds/reports/1"});
  CHECK(h.stats.revocations == 3);
  for (const auto& request : h.vault.requests()) {
    if (request.target == "/v1/sys/leases/revoke") CHECK(request.method == http::verb::put);
  }
  CHECK(h.store->snapshot().empty());
}

TEST_CASE("lease_store: revoke_all gives up at its deadline", "[lease]") {
  harness h;
  h.vault.add_role(app, 30, 60);
  core::duration took{};
  h.run([&took](harness& t) -> net::awaitable<void> {
    REQUIRE((co_await t.store->async_get(app)).has_value());
    t.vault.set_delay(10s);
    const auto start = t.clock.now();
    co_await t.store->async_revoke_all(200ms);
    took = t.clock.now() - start;
  });
  CHECK(took >= 200ms);
  CHECK(took < 2s);
  CHECK(h.vault.count(http::verb::put, "/v1/sys/leases/revoke") == 1);
  CHECK(h.stats.revocations == 0);
}

TEST_CASE("lease_store: on_change is called with the new data on rotation", "[lease]") {
  harness h;
  h.vault.add_role(app, 2, 60);
  std::vector<std::pair<std::string, std::string>> changes;
  h.store->on_change([&changes](const std::string& path, const nlohmann::json& data) {
    changes.emplace_back(path, data.value("username", std::string{}));
  });
  h.run([](harness& t) -> net::awaitable<void> {
    REQUIRE((co_await t.store->async_get(app)).has_value());
    co_await sleep_for(1900ms);
    t.store->stop();
  });
  using change = std::pair<std::string, std::string>;
  CHECK(changes == std::vector<change>{change{app, "v-2"}});
}

TEST_CASE("lease_store: an error status passes through and is not stored", "[lease]") {
  harness h;
  h.run([](harness& t) -> net::awaitable<void> {
    for (int i = 0; i < 2; ++i) {
      const auto answer = co_await t.store->async_get("database/creds/nope");
      REQUIRE(answer.has_value());
      CHECK(answer->status == 400);
      CHECK(answer->cache == lease::cache_state::miss);
      CHECK(body_of(*answer)["errors"][0] == "unknown role: database/creds/nope");
      CHECK(t.store->snapshot().empty());
    }
    t.store->stop();
  });
  CHECK(h.vault.count(http::verb::get, "/v1/database/creds/nope") == 2);
}

TEST_CASE("lease_store: a transport failure on the first fetch is an error, not stored",
          "[lease]") {
  harness h;
  h.vault.add_role(app, 30, 60);
  h.vault.push_fault(app_target, fault{.transport = vault::errc::timeout});
  h.run([](harness& t) -> net::awaitable<void> {
    const auto failed = co_await t.store->async_get(app);
    REQUIRE(failed.has_error());
    CHECK(failed.error() == vault::errc::timeout);
    const auto next = co_await t.store->async_get(app);
    REQUIRE(next.has_value());
    CHECK(next->status == 200);
    t.store->stop();
  });
  CHECK(h.vault.count(http::verb::get, app_target) == 2);
}

TEST_CASE("lease_store: without a token Vault is not asked", "[lease]") {
  harness h;
  h.vault.add_role(app, 30, 60);
  h.tokens.set_present(false);
  h.run([](harness& t) -> net::awaitable<void> {
    const auto answer = co_await t.store->async_get("/v1/database/creds/app");
    REQUIRE(answer.has_error());
    CHECK(answer.error() == auth::errc::no_token);
    t.store->stop();
  });
  CHECK(h.vault.requests().empty());
}

TEST_CASE("lease_store: prefetch fetches every path and reports the failures", "[lease]") {
  harness h;
  h.vault.add_role(app, 30, 60);
  h.vault.add_role("database/creds/reports", 30, 60);
  std::vector<lease::prefetch_failure> failures;
  h.run([&failures](harness& t) -> net::awaitable<void> {
    // Built from std::string values: GCC 12 rejects a braced list of string literals here.
    std::vector<std::string> paths{std::string{app}, std::string{"database/creds/reports"},
                                   std::string{"database/creds/nope"}};
    failures = co_await t.store->async_prefetch(std::move(paths));
    const auto answer = co_await t.store->async_get(app);
    REQUIRE(answer.has_value());
    CHECK(answer->cache == lease::cache_state::hit);
    t.store->stop();
  });
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].path == "database/creds/nope");
  CHECK(failures[0].reason == "400: unknown role: database/creds/nope");
  CHECK(h.vault.count(http::verb::get, app_target) == 1);
  CHECK(h.vault.count(http::verb::get, "/v1/database/creds/nope") == 1);
  CHECK(h.store->snapshot().size() == 2);
}

TEST_CASE("lease_store: a lease past its max TTL is rotated when Vault refuses the renewal",
          "[lease]") {
  harness h{config::lease_strategy::renew};
  // Max TTL = TTL: at 1.6 s Vault answers "past the max TTL, cannot renew"; new creds follow.
  h.vault.add_role(app, 2, 2);
  h.run([](harness& t) -> net::awaitable<void> {
    REQUIRE((co_await t.store->async_get(app)).has_value());
    co_await sleep_for(1800ms);
    const auto after = co_await t.store->async_get(app);
    REQUIRE(after.has_value());
    CHECK(after->status == 200);
    CHECK(body_of(*after)["lease_id"] == "database/creds/app/2");
    t.store->stop();
  });
  CHECK(h.vault.count(http::verb::put, "/v1/sys/leases/renew") == 1);
  CHECK(h.stats.renewals == 0);
  CHECK(h.stats.rotations == 1);
  CHECK(h.stats.failures == 0);
  const auto snapshot = h.store->snapshot();
  REQUIRE(snapshot.size() == 1);
  CHECK(snapshot[0].state == lease::lease_state::ok);
}

TEST_CASE("lease_store: a non-renewable lease is rotated under strategy renew", "[lease]") {
  harness h{config::lease_strategy::renew};
  h.vault.add_role(app, 2, 60, false);
  h.run([](harness& t) -> net::awaitable<void> {
    REQUIRE((co_await t.store->async_get(app)).has_value());
    co_await sleep_for(1900ms);
    const auto after = co_await t.store->async_get(app);
    REQUIRE(after.has_value());
    CHECK(body_of(*after)["lease_id"] == "database/creds/app/2");
    CHECK(body_of(*after)["renewable"] == false);
    t.store->stop();
  });
  CHECK(h.vault.count(http::verb::put, "/v1/sys/leases/renew") == 0);
  CHECK(h.stats.rotations == 1);
}

TEST_CASE("lease_store: a cancelled caller stops waiting while the fetch goes on", "[lease]") {
  harness h;
  h.vault.add_role(app, 30, 60);
  h.vault.set_delay(300ms);
  net::cancellation_signal cancel;
  std::optional<result<lease::dynamic_answer>> cancelled;
  std::optional<result<lease::dynamic_answer>> patient;
  h.run([&](harness& t) -> net::awaitable<void> {
    net::co_spawn(
        t.io, [](harness& u) { return u.store->async_get(app); }(t),
        net::bind_cancellation_slot(
            cancel.slot(),
            [&cancelled](const std::exception_ptr& failure, result<lease::dynamic_answer> answer) {
              if (!failure) cancelled = std::move(answer);
            }));
    net::co_spawn(
        t.io, [](harness& u) { return u.store->async_get(app); }(t),
        [&patient](const std::exception_ptr& failure, result<lease::dynamic_answer> answer) {
          if (!failure) patient = std::move(answer);
        });
    co_await sleep_for(50ms);
    cancel.emit(net::cancellation_type::terminal);
    co_await sleep_for(100ms);
    CHECK(cancelled.has_value());
    CHECK_FALSE(patient.has_value());
    co_await sleep_for(400ms);
    t.store->stop();
  });
  REQUIRE(cancelled.has_value());
  REQUIRE(cancelled->has_error());
  CHECK(cancelled->error() == net::error::operation_aborted);
  REQUIRE(patient.has_value());
  REQUIRE(patient->has_value());
  CHECK((*patient)->status == 200);
  CHECK(h.vault.count(http::verb::get, app_target) == 1);
}

TEST_CASE("lease_store: a creds read refused with invalid token is reported to the token source",
          "[lease]") {
  harness h;
  h.vault.add_role(app, 30, 60);
  h.vault.push_fault(
      app_target,
      fault{.transport = {}, .status = 403, .body = R"({"errors":["permission denied"]})"});
  h.vault.push_fault(app_target,
                     fault{.transport = {},
                           .status = 403,
                           .body = R"({"errors":["2 errors occurred:\n\t* permission denied\n\t* )"
                                   R"(invalid token\n\n"]})"});
  h.run([](harness& t) -> net::awaitable<void> {
    // A policy refusal is the path's business, not the token's: passed on, nothing reported.
    const auto policy = co_await t.store->async_get(app);
    REQUIRE(policy.has_value());
    CHECK(policy->status == 403);
    CHECK(t.tokens.invalid_token_reports() == 0);
    // Our token failing: passed on too, and the token manager hears of it at once.
    const auto revoked = co_await t.store->async_get(app);
    REQUIRE(revoked.has_value());
    CHECK(revoked->status == 403);
    CHECK(t.tokens.invalid_token_reports() == 1);
    t.store->stop();
  });
}

TEST_CASE("lease_store: a rotation answered 429 keeps the held lease served, then recovers",
          "[lease]") {
  harness h;
  h.vault.add_role(app, 4, 60);
  h.run([](harness& t) -> net::awaitable<void> {
    REQUIRE((co_await t.store->async_get(app)).has_value());
    // Vault failing, not refusing: the rotation at 3.2 s and its first retry (75-100 ms later)
    // meet a rate-limit quota; the second retry (150-200 ms after that) succeeds.
    const fault quota{.transport = std::nullopt,
                      .status = 429,
                      .body = R"({"errors":["request path \"database/creds/app\": rate limit )"
                              R"(quota exceeded"]})"};
    t.vault.push_fault(app_target, quota);
    t.vault.push_fault(app_target, quota);
    co_await sleep_for(3250ms);
    const auto during = co_await t.store->async_get(app);  // before the retry succeeds
    REQUIRE(during.has_value());
    CHECK(during->status == 200);
    CHECK(during->cache == lease::cache_state::hit);
    CHECK(body_of(*during)["lease_id"] == "database/creds/app/1");
    co_await sleep_for(450ms);
    const auto after = co_await t.store->async_get(app);
    REQUIRE(after.has_value());
    CHECK(body_of(*after)["lease_id"] == "database/creds/app/2");
    t.store->stop();
  });
  CHECK(h.stats.failures == 2);
  CHECK(h.stats.rotations == 1);
  CHECK(h.stats.expirations == 0);
}

TEST_CASE("lease_store: after a new login every held lease is fetched anew at once", "[lease]") {
  harness h;
  h.vault.add_role(app, 60, 600);  // due for rotation only after 48 s
  h.run([](harness& t) -> net::awaitable<void> {
    const auto first = co_await t.store->async_get(app);
    REQUIRE(first.has_value());
    CHECK(body_of(*first)["lease_id"] == "database/creds/app/1");
    co_await sleep_for(200ms);
    t.tokens.replace_token();
    co_await sleep_for(300ms);
    const auto after = co_await t.store->async_get(app);
    REQUIRE(after.has_value());
    CHECK(after->cache == lease::cache_state::hit);
    CHECK(body_of(*after)["lease_id"] == "database/creds/app/2");
    co_await sleep_for(500ms);  // once: the new lease is not fetched again
    t.store->stop();
  });
  CHECK(h.vault.count(http::verb::get, app_target) == 2);
  CHECK(h.stats.rotations == 1);
}
