#include <sidecar/auth/errc.hpp>
#include <sidecar/cache/errc.hpp>
#include <sidecar/cache/kv_cache.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <catch2/catch.hpp>

#include "fake_token_source.hpp"
#include "fake_vault_client.hpp"
#include <exception>
#include <optional>
#include <vector>

using namespace std::chrono_literals;
using namespace sidecar;
using namespace sidecar::cache;
using testing::kv1_body;
using testing::kv2_body;

namespace {

const std::string x_target = "/v1/kv/data/x";

config::cache_config short_config(std::size_t max_entries = 100) {
  config::cache_config config;
  config.ttl = 10s;
  config.refresh_interval = 2s;
  config.max_stale = 30s;
  config.max_entries = max_entries;
  config.negative_ttl = 0s;  // the negative-caching tests turn it on
  return config;
}

config::cache_config negative_config() {
  auto config = short_config();
  config.negative_ttl = 5s;
  return config;
}

template <class T>
T run(net::io_context& io, net::awaitable<T> task) {
  std::optional<T> out;
  std::exception_ptr thrown;
  net::co_spawn(io, std::move(task), [&](std::exception_ptr failure, T value) {
    thrown = failure;
    out = std::move(value);
  });
  io.restart();
  io.run();
  if (thrown) std::rethrow_exception(thrown);
  REQUIRE(out.has_value());
  return std::move(*out);
}

void run(net::io_context& io, net::awaitable<void> task) {
  bool done = false;
  std::exception_ptr thrown;
  net::co_spawn(io, std::move(task), [&](std::exception_ptr failure) {
    thrown = failure;
    done = true;
  });
  io.restart();
  io.run();
  if (thrown) std::rethrow_exception(thrown);
  REQUIRE(done);
}

// A cache over a scripted Vault and a manual clock: time moves only when a test says so.
struct fixture {
  explicit fixture(config::cache_config settings = short_config())
      : config{settings}, cache{vault, tokens, clock, config, [this] { return phase(); }} {}

  result<cached_answer> get(std::string target) {
    return run(io, cache.async_get(std::move(target)));
  }
  void refresh() { run(io, cache.async_refresh_once()); }
  // Where each new entry's first refresh falls in its first interval: the front of `phases`,
  // else at once (0), so a pass right after a read refreshes it.
  double phase() {
    if (phases.empty()) return 0.0;
    const double next = phases.front();
    phases.erase(phases.begin());
    return next;
  }

  std::vector<double> phases;
  net::io_context io;
  core::manual_clock clock;
  testing::fake_vault_client vault;
  testing::fake_token_source tokens{"s.sidecar-token"};
  config::cache_config config;
  kv_cache cache;
};

// A cache on the real clock whose refresh loop runs in the io_context: for the tests of the
// background loop, where time must pass by itself.
struct refreshing_fixture {
  explicit refreshing_fixture(const config::cache_config& settings)
      : config{settings}, cache{vault, tokens, clock, config} {}

  // "kv1/app" read once as "old"; Vault then holds "new" for the next refresh to find.
  void read_then_change() {
    vault.answer("/v1/kv1/app", 200, kv1_body(R"({"api_key":"old"})"));
    REQUIRE(run(io, cache.async_get("kv1/app")).has_value());
    vault.answer("/v1/kv1/app", 200, kv1_body(R"({"api_key":"new"})"));
  }
  void start_loop() {
    net::co_spawn(io, cache.async_run_refresh(),
                  net::bind_cancellation_slot(stop.slot(),
                                              [this](std::exception_ptr) { loop_ended = true; }));
    io.restart();
  }
  void stop_loop() {
    stop.emit(net::cancellation_type::terminal);
    io.run();
  }

  net::io_context io;
  core::system_clock clock;
  testing::fake_vault_client vault;
  testing::fake_token_source tokens{"s.token"};
  config::cache_config config;
  kv_cache cache;
  net::cancellation_signal stop;
  bool loop_ended = false;
};

}  // namespace

TEST_CASE("kv_cache: a second read is a hit without a new upstream request", "[cache]") {
  fixture f;
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));

  const auto first = f.get("kv/data/x");
  REQUIRE(first.has_value());
  CHECK(first->state == cache_state::miss);
  CHECK(first->status() == 200);
  CHECK(first->body() == kv2_body(R"({"password":"one"})", 1));
  CHECK(first->age_seconds == 0);
  CHECK(f.vault.last_token() == "s.sidecar-token");

  f.clock.advance(2500ms);
  const auto second = f.get("/v1/kv/data/x");
  REQUIRE(second.has_value());
  CHECK(second->state == cache_state::hit);
  CHECK(second->age_seconds == 2);
  CHECK(second->answer == first->answer);  // shared, not copied
  CHECK(f.vault.total_requests() == 1);
  CHECK(f.cache.stats().hits == 1);
  CHECK(f.cache.stats().misses == 1);
  CHECK(to_string(second->state) == "HIT");
}

TEST_CASE("kv_cache: find_fresh answers a fresh entry at once and nothing else", "[cache]") {
  fixture f;
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  CHECK_FALSE(f.cache.find_fresh(x_target).has_value());  // nothing held: no fetch started
  CHECK(f.vault.total_requests() == 0);

  REQUIRE(f.get(x_target).has_value());
  f.clock.advance(3s);
  const auto held = f.cache.find_fresh("kv/data/x");  // the same key, however spelled
  REQUIRE(held.has_value());
  CHECK(held->state == cache_state::hit);
  CHECK(held->age_seconds == 3);
  CHECK(held->body() == kv2_body(R"({"password":"one"})", 1));
  CHECK(f.cache.stats().hits == 1);
  CHECK_FALSE(f.cache.find_fresh("/v1/kv/data/x?version=1").has_value());

  f.clock.advance(10s);  // past the ttl: stale is for async_get() to decide, never served here
  CHECK_FALSE(f.cache.find_fresh(x_target).has_value());
  CHECK(f.vault.total_requests() == 1);
}

TEST_CASE("kv_cache: concurrent misses issue one upstream call", "[cache]") {
  fixture f;
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  f.vault.delay(20ms);

  std::vector<result<cached_answer>> answers;
  for (int i = 0; i < 500; ++i) {
    net::co_spawn(f.io, f.cache.async_get("kv/data/x"),
                  [&answers](std::exception_ptr, result<cached_answer> answer) {
                    answers.push_back(std::move(answer));
                  });
  }
  f.io.run();

  CHECK(f.vault.total_requests() == 1);
  REQUIRE(answers.size() == 500);
  for (const auto& answer : answers) {
    REQUIRE(answer.has_value());
    CHECK(answer->state == cache_state::miss);
    CHECK(answer->answer == answers.front()->answer);
  }
  CHECK(f.cache.stats().coalesced_waiters == 499);
  CHECK(f.cache.stats().upstream_requests == 1);
  CHECK(f.get("kv/data/x")->state == cache_state::hit);
}

TEST_CASE("kv_cache: a cancelled waiter stops while the shared read goes on", "[cache]") {
  using namespace net::experimental::awaitable_operators;
  fixture f;
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  f.vault.delay(200ms);

  std::optional<std::size_t> impatient_winner;
  std::optional<result<cached_answer>> patient;
  auto impatient = [&]() -> net::awaitable<void> {
    steady_timer timer{co_await net::this_coro::executor, 10ms};
    const auto outcome = co_await (f.cache.async_get("kv/data/x") || timer.async_wait());
    impatient_winner = outcome.index();
  };
  net::co_spawn(f.io, impatient(), net::detached);
  net::co_spawn(f.io, f.cache.async_get("kv/data/x"),
                [&](std::exception_ptr, result<cached_answer> answer) { patient = answer; });
  f.io.run();

  CHECK(impatient_winner == 1u);  // the timer won: the waiter was not held to the read
  REQUIRE(patient.has_value());
  REQUIRE(patient->has_value());
  CHECK((*patient)->state == cache_state::miss);
  CHECK(f.vault.total_requests() == 1);
  CHECK(f.get("kv/data/x")->state == cache_state::hit);
}

TEST_CASE("kv_cache: waiters do not hang when the shared read throws", "[cache]") {
  fixture f;
  f.vault.throw_on(x_target);
  f.vault.delay(10ms);
  std::vector<result<cached_answer>> answers;
  for (int i = 0; i < 3; ++i) {
    net::co_spawn(f.io, f.cache.async_get("kv/data/x"),
                  [&answers](std::exception_ptr, result<cached_answer> answer) {
                    answers.push_back(std::move(answer));
                  });
  }
  f.io.run();
  REQUIRE(answers.size() == 3);
  for (const auto& answer : answers) CHECK(answer.error() == errc::fetch_aborted);
  CHECK(f.cache.snapshot().in_flight == 0);
}

TEST_CASE("kv_cache: version 1 and latest are separate entries", "[cache]") {
  fixture f;
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"two"})", 2));
  f.vault.answer(x_target + "?version=1", 200, kv2_body(R"({"password":"one"})", 1));

  const auto latest = f.get("kv/data/x");
  const auto first = f.get("kv/data/x?version=1");
  REQUIRE(latest.has_value());
  REQUIRE(first.has_value());
  CHECK(latest->answer->data() == nlohmann::json{{"password", "two"}});
  CHECK(first->answer->data() == nlohmann::json{{"password", "one"}});
  CHECK(f.get("kv/data/x")->state == cache_state::hit);
  CHECK(f.get("kv/data/x?version=1")->answer->data() == nlohmann::json{{"password", "one"}});
  CHECK(f.vault.total_requests() == 2);
}

TEST_CASE("kv_cache: 403 and 404 pass through and are never cached with negative_ttl 0",
          "[cache]") {
  fixture f;
  f.vault.answer("/v1/kv/data/denied", 403,
                 R"({"errors":["1 error occurred:\n\t* permission denied\n\n"]})");
  for (int i = 0; i < 2; ++i) {
    const auto missing = f.get("kv/data/missing");
    REQUIRE(missing.has_value());
    CHECK(missing->status() == 404);
    CHECK(missing->state == cache_state::miss);
    const auto denied = f.get("kv/data/denied");
    REQUIRE(denied.has_value());
    CHECK(denied->status() == 403);
  }
  CHECK(f.vault.requests("/v1/kv/data/missing") == 2);
  CHECK(f.vault.requests("/v1/kv/data/denied") == 2);
  CHECK(f.cache.snapshot().entries == 0);
}

TEST_CASE("kv_cache: a 403 or 404 on refresh drops the entry", "[cache]") {
  fixture f;
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  f.vault.answer("/v1/kv/data/y", 200, kv2_body(R"({"password":"y"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  REQUIRE(f.get("kv/data/y").has_value());
  f.vault.answer(x_target, 404, R"({"errors":[]})");
  f.vault.answer("/v1/kv/data/y", 403, R"({"errors":["permission denied"]})");

  f.refresh();

  CHECK(f.cache.snapshot().entries == 0);
  CHECK(f.cache.stats().refreshes_failed == 2);
  const auto after = f.get("kv/data/x");
  REQUIRE(after.has_value());
  CHECK(after->status() == 404);
  CHECK(after->state == cache_state::miss);
}

TEST_CASE("kv_cache: a 404 on an expired entry is relayed, not replaced by stale", "[cache]") {
  fixture f;
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  f.vault.answer(x_target, 404, R"({"errors":[]})");
  f.clock.advance(11s);
  const auto after = f.get("kv/data/x");
  REQUIRE(after.has_value());
  CHECK(after->status() == 404);
  CHECK(f.cache.snapshot().entries == 0);
}

TEST_CASE("kv_cache: Vault unreachable serves stale within max_stale, then the error", "[cache]") {
  fixture f;  // ttl 10 s, max_stale 30 s
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  f.vault.fail_all(vault::errc::unreachable);

  f.clock.advance(10s);
  const auto stale = f.get("kv/data/x");
  REQUIRE(stale.has_value());
  CHECK(stale->state == cache_state::stale);
  CHECK(stale->age_seconds == 10);
  CHECK(stale->answer->data() == nlohmann::json{{"password", "one"}});
  CHECK(to_string(stale->state) == "STALE");

  f.clock.advance(30s - 1ms);
  const auto last = f.get("kv/data/x");
  REQUIRE(last.has_value());
  CHECK(last->state == cache_state::stale);
  CHECK(last->age_seconds == 39);

  f.clock.advance(1ms);
  const auto gone = f.get("kv/data/x");
  REQUIRE(gone.has_error());
  CHECK(gone.error() == vault::errc::unreachable);
  CHECK(f.cache.stats().stale_serves == 2);
  CHECK(f.cache.snapshot().entries == 0);
  CHECK(f.vault.total_requests() == 4);
}

TEST_CASE("kv_cache: a 200 that is not Vault's JSON is a failure: stale stands in, else an error",
          "[cache]") {
  fixture f;  // ttl 10 s, max_stale 30 s
  f.vault.answer(x_target, 200, R"({"request_id":"x","data":{"data":{"password":)");
  const auto miss = f.get("kv/data/x");
  REQUIRE(miss.has_error());
  CHECK(miss.error() == vault::errc::malformed_response);
  CHECK(f.cache.snapshot().entries == 0);

  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  f.vault.answer(x_target, 200, "cut sho");
  f.clock.advance(10s);
  const auto stale = f.get("kv/data/x");
  REQUIRE(stale.has_value());
  CHECK(stale->state == cache_state::stale);
  CHECK(stale->answer->data() == nlohmann::json{{"password", "one"}});
  f.refresh();  // a garbled refresh keeps the held entry
  CHECK(f.cache.snapshot().entries == 1);
}

TEST_CASE("kv_cache: right after a failure readers get stale without asking Vault again",
          "[cache]") {
  fixture f;  // ttl 10 s, max_stale 30 s
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  f.vault.fail_all(vault::errc::unreachable);
  f.clock.advance(10s);
  CHECK(f.get("kv/data/x")->state == cache_state::stale);
  CHECK(f.vault.total_requests() == 2);
  for (int i = 0; i < 5; ++i) CHECK(f.get("kv/data/x")->state == cache_state::stale);
  CHECK(f.vault.total_requests() == 2);  // resting: no request per reader

  f.clock.advance(1500ms);  // within min(refresh_interval, ttl) = 2 s of the failure
  CHECK(f.get("kv/data/x")->state == cache_state::stale);
  CHECK(f.vault.total_requests() == 2);
  f.clock.advance(500ms);
  CHECK(f.get("kv/data/x")->state == cache_state::stale);
  CHECK(f.vault.total_requests() == 3);  // asked again once recovery_at() has passed

  f.vault.fail_all(std::nullopt);
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"two"})", 2));
  f.refresh();  // the background pass brings it back and ends the rest at once
  const auto fresh = f.get("kv/data/x");
  CHECK(fresh->state == cache_state::hit);
  CHECK(fresh->answer->data() == nlohmann::json{{"password", "two"}});
}

TEST_CASE("kv_cache: Vault's invalid token is reported to the token source, a policy 403 is not",
          "[cache]") {
  fixture f;
  f.vault.answer(x_target, 403, R"({"errors":["1 error occurred:\n\t* permission denied\n\n"]})");
  (void)f.get("kv/data/x");
  CHECK(f.tokens.invalid_reports() == 0);
  f.vault.answer(
      x_target, 403,
      R"({"errors":["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"]})");
  const auto refused = f.get("kv/data/x");
  REQUIRE(refused.has_value());
  CHECK(refused->status() == 403);
  CHECK(f.tokens.invalid_reports() == 1);
}

TEST_CASE("kv_cache: a sealed Vault serves stale, then its 503 passes through", "[cache]") {
  fixture f;
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  f.vault.answer(x_target, 503, R"({"errors":["Vault is sealed"]})");

  f.clock.advance(15s);
  CHECK(f.get("kv/data/x")->state == cache_state::stale);
  f.clock.advance(30s);
  const auto sealed = f.get("kv/data/x");
  REQUIRE(sealed.has_value());
  CHECK(sealed->status() == 503);
  CHECK(sealed->body() == R"({"errors":["Vault is sealed"]})");
}

TEST_CASE("kv_cache: 412 and 429 are Vault failing: stale stands in, then they pass through",
          "[cache]") {
  for (const unsigned status : {412u, 429u}) {
    INFO("status " << status);
    fixture f;
    f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
    REQUIRE(f.get("kv/data/x").has_value());
    f.vault.answer(x_target, status,
                   R"({"errors":["request path \"kv/data/x\": rate limit quota exceeded"]})");
    f.clock.advance(15s);
    const auto stale = f.get("kv/data/x");
    REQUIRE(stale.has_value());
    CHECK(stale->state == cache_state::stale);
    CHECK(stale->answer->data() == nlohmann::json{{"password", "one"}});
    f.clock.advance(30s);  // past max_stale: Vault's answer as it came
    const auto relayed = f.get("kv/data/x");
    REQUIRE(relayed.has_value());
    CHECK(relayed->status() == status);
    // Nothing held for a path never read: relayed at once.
    f.vault.answer("/v1/kv/data/new", status, R"({"errors":["x"]})");
    CHECK(f.get("kv/data/new")->status() == status);
  }
}

TEST_CASE("kv_cache: a 501 is an answer, not a failure: relayed, never replaced by stale",
          "[cache]") {
  fixture f;
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  f.vault.answer(x_target, 501, R"({"errors":["not implemented"]})");
  f.clock.advance(15s);
  const auto relayed = f.get("kv/data/x");
  REQUIRE(relayed.has_value());
  CHECK(relayed->status() == 501);
  CHECK(relayed->state == cache_state::miss);
}

TEST_CASE("kv_cache: a 404 is kept for negative_ttl and served as a hit", "[cache]") {
  fixture f{negative_config()};
  const auto first = f.get("kv/data/missing");
  REQUIRE(first.has_value());
  CHECK(first->status() == 404);
  CHECK(first->state == cache_state::miss);
  for (int i = 0; i < 100; ++i) {
    const auto again = f.get("kv/data/missing");
    REQUIRE(again.has_value());
    REQUIRE(again->status() == 404);
    REQUIRE(again->state == cache_state::hit);
    REQUIRE(again->body() == first->body());
  }
  CHECK(f.vault.requests("/v1/kv/data/missing") == 1);
  CHECK(f.cache.stats().negative_hits == 100);
  CHECK(f.cache.find_fresh("/v1/kv/data/missing").has_value());

  f.clock.advance(5s - 1ms);
  CHECK(f.get("kv/data/missing")->state == cache_state::hit);
  f.clock.advance(1ms);  // expired: Vault is asked again
  CHECK_FALSE(f.cache.find_fresh("/v1/kv/data/missing").has_value());
  CHECK(f.get("kv/data/missing")->state == cache_state::miss);
  CHECK(f.vault.requests("/v1/kv/data/missing") == 2);
}

TEST_CASE("kv_cache: a negative entry is dropped by invalidate and by cache clears", "[cache]") {
  fixture f{negative_config()};
  REQUIRE(f.get("kv/data/x").has_value());
  REQUIRE(f.get("kv/data/y").has_value());
  REQUIRE(f.cache.snapshot().entries == 2);

  f.cache.invalidate("kv/data/x");  // a forwarded write created it
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  const auto created = f.get("kv/data/x");
  REQUIRE(created.has_value());
  CHECK(created->status() == 200);
  CHECK(created->state == cache_state::miss);

  f.cache.clear_prefix("kv/data/y");
  CHECK(f.get("kv/data/y")->state == cache_state::miss);
  f.cache.clear_all();
  CHECK(f.cache.snapshot().entries == 0);
}

TEST_CASE("kv_cache: an expired negative entry is never served stale", "[cache]") {
  fixture f{negative_config()};
  REQUIRE(f.get("kv/data/missing")->status() == 404);
  f.vault.fail_all(vault::errc::unreachable);
  f.clock.advance(11s);  // past ttl as well, within max_stale
  const auto after = f.get("kv/data/missing");
  REQUIRE(after.has_error());
  CHECK(after.error() == vault::errc::unreachable);
}

TEST_CASE("kv_cache: a 404 on refresh replaces the secret with a negative entry", "[cache]") {
  fixture f{negative_config()};
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  f.vault.answer(x_target, 404, R"({"errors":[]})");
  f.refresh();
  const auto deleted = f.get("kv/data/x");
  REQUIRE(deleted.has_value());
  CHECK(deleted->status() == 404);
  CHECK(deleted->state == cache_state::hit);
  CHECK(f.vault.requests(x_target) == 2);
  // Never refreshed: a pass after it expired drops it without asking Vault.
  f.clock.advance(5s);
  f.refresh();
  CHECK(f.cache.snapshot().entries == 0);
  CHECK(f.vault.requests(x_target) == 2);
}

TEST_CASE("kv_cache: max_stale 0 returns the error at once", "[cache]") {
  auto config = short_config();
  config.max_stale = 0s;
  fixture f{config};
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  f.vault.fail_all(vault::errc::timeout);
  f.clock.advance(10s);
  const auto gone = f.get("kv/data/x");
  REQUIRE(gone.has_error());
  CHECK(gone.error() == vault::errc::timeout);
}

TEST_CASE("kv_cache: after Vault recovers a read is fresh again", "[cache]") {
  fixture f;
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  f.vault.fail_all(vault::errc::unreachable);
  f.clock.advance(12s);
  REQUIRE(f.get("kv/data/x")->state == cache_state::stale);

  f.vault.fail_all(std::nullopt);
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"two"})", 2));
  f.clock.advance(2s);  // readers ask Vault again from recovery_at() on
  const auto recovered = f.get("kv/data/x");
  REQUIRE(recovered.has_value());
  CHECK(recovered->state == cache_state::miss);
  CHECK(recovered->age_seconds == 0);
  CHECK(recovered->answer->data() == nlohmann::json{{"password", "two"}});
  CHECK(f.get("kv/data/x")->state == cache_state::hit);
}

TEST_CASE("kv_cache: after an outage each entry comes back at its own phase, not with the readers",
          "[cache]") {
  auto settings = short_config();
  settings.refresh_interval = 10s;
  settings.ttl = 20s;
  settings.max_stale = 60s;
  fixture f{settings};
  const std::vector<std::string> keys{"kv/data/a", "kv/data/b", "kv/data/c", "kv/data/d"};
  f.phases = {0.1, 0.35, 0.6, 0.85};  // first refreshes at 1, 3.5, 6 and 8.5 s
  for (const auto& key : keys) {
    f.vault.answer("/v1/" + key, 200, kv2_body(R"({"password":"one"})", 1));
    REQUIRE(f.get(key).has_value());
  }
  f.vault.fail_all(vault::errc::unreachable);  // a 30 s outage; past 20 s every entry is stale

  // The background loop and the callers both run every 250 ms, for 10 s after Vault is back.
  std::vector<int> during_outage(keys.size());
  std::vector<int> asked_after_back_ms;
  for (int ms = 250; ms <= 40000; ms += 250) {
    f.clock.advance(250ms);  // now `ms` after the entries were stored
    if (ms == 30000) f.vault.fail_all(std::nullopt);
    std::vector<int> before;
    for (const auto& key : keys) before.push_back(f.vault.requests("/v1/" + key));
    f.refresh();
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto got = f.get(keys[i]);
      REQUIRE(got.has_value());
      CHECK(got->state != cache_state::miss);  // served from memory throughout
      const int asked = f.vault.requests("/v1/" + keys[i]) - before[i];
      if (ms < 30000) during_outage[i] += asked;
      if (ms >= 30000 && asked > 0) asked_after_back_ms.push_back(ms);
    }
  }
  // One failed refresh per interval each, never one per reader; then each entry is re-read
  // once, at its own phase, not all at the first read after Vault came back.
  CHECK(during_outage == std::vector<int>{3, 3, 3, 3});
  CHECK(asked_after_back_ms == std::vector<int>{31000, 33500, 36000, 38500});
}

TEST_CASE("kv_cache: without a token Vault is not asked", "[cache]") {
  fixture f;
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  f.tokens.lose();

  CHECK(f.get("kv/data/x")->state == cache_state::hit);  // fresh entries still served
  const auto cold = f.get("kv/data/other");
  REQUIRE(cold.has_error());
  CHECK(cold.error() == auth::errc::no_token);

  f.clock.advance(10s);
  const auto stale = f.get("kv/data/x");
  REQUIRE(stale.has_value());
  CHECK(stale->state == cache_state::stale);
  f.refresh();
  f.clock.advance(30s);
  CHECK(f.get("kv/data/x").error() == auth::errc::no_token);
  CHECK(f.vault.total_requests() == 1);
}

TEST_CASE("kv_cache: a refresh pass re-reads read entries and drops unread ones", "[cache]") {
  fixture f;  // ttl 10 s
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  f.vault.answer("/v1/kv/data/y", 200, kv2_body(R"({"password":"y"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  REQUIRE(f.get("kv/data/y").has_value());

  f.refresh();  // both were read (fetched) since the last pass
  CHECK(f.vault.requests(x_target) == 2);
  CHECK(f.vault.requests("/v1/kv/data/y") == 2);

  f.clock.advance(5s);
  CHECK(f.get("kv/data/x")->state == cache_state::hit);
  f.refresh();  // y was not read: kept, not refreshed
  CHECK(f.vault.requests(x_target) == 3);
  CHECK(f.vault.requests("/v1/kv/data/y") == 2);

  f.clock.advance(5s);  // y unread for ttl: dropped
  CHECK(f.get("kv/data/x")->state == cache_state::hit);
  f.refresh();
  CHECK(f.vault.requests("/v1/kv/data/y") == 2);
  CHECK(f.cache.snapshot().entries == 1);
  CHECK(f.cache.stats().drops == 1);
  CHECK(f.get("kv/data/y")->state == cache_state::miss);
}

TEST_CASE("kv_cache: a refreshed entry stays fresh past its first ttl", "[cache]") {
  fixture f;
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  for (int i = 0; i < 5; ++i) {  // 25 s of reads every 5 s, a pass after each
    f.clock.advance(5s);
    CHECK(f.get("kv/data/x")->state == cache_state::hit);
    f.refresh();
  }
  CHECK(f.cache.stats().refreshes_ok == 5);
  CHECK(f.cache.stats().misses == 1);
}

TEST_CASE("kv_cache: a read joins a refresh already in flight", "[cache]") {
  fixture f;
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  f.clock.advance(6s);
  REQUIRE(f.get("kv/data/x")->state == cache_state::hit);
  f.clock.advance(5s);  // expired, read 5 s ago: due for refresh
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"two"})", 2));
  f.vault.delay(20ms);

  std::optional<result<cached_answer>> read;
  net::co_spawn(f.io, f.cache.async_refresh_once(), net::detached);
  net::co_spawn(f.io, f.cache.async_get("kv/data/x"),
                [&](std::exception_ptr, result<cached_answer> answer) { read = answer; });
  f.io.restart();
  f.io.run();

  CHECK(f.vault.total_requests() == 2);
  REQUIRE(read.has_value());
  REQUIRE(read->has_value());
  CHECK((*read)->answer->data() == nlohmann::json{{"password", "two"}});
}

TEST_CASE("kv_cache: a refresh without change does not notify", "[cache]") {
  fixture f;
  int changes = 0;
  f.cache.on_change([&changes](const std::string&, const nlohmann::json&) { ++changes; });
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  f.refresh();
  // Same values under a new version and request id: not a change for templates.
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 2));
  f.clock.advance(f.config.refresh_interval);  // its next refresh point
  CHECK(f.get("kv/data/x")->state == cache_state::hit);
  f.refresh();
  CHECK(f.vault.total_requests() == 3);
  CHECK(changes == 0);
}

TEST_CASE("kv_cache: the background loop brings a new version within the interval", "[cache]") {
  config::cache_config config;
  config.ttl = 10s;
  config.refresh_interval = 200ms;
  config.max_stale = 0s;
  refreshing_fixture f{config};
  std::vector<std::pair<std::string, nlohmann::json>> changes;
  f.cache.on_change([&changes](const std::string& key, const nlohmann::json& data) {
    changes.emplace_back(key, data);
  });
  f.read_then_change();

  f.start_loop();
  f.io.run_for(700ms);  // three or so passes; the first, at about 200 ms, brings the change
  f.stop_loop();

  CHECK(f.loop_ended);
  REQUIRE(changes.size() == 1);
  CHECK(changes.front().first == "/v1/kv1/app");
  CHECK(changes.front().second == nlohmann::json{{"api_key", "new"}});
  const auto after = run(f.io, f.cache.async_get("kv1/app"));
  REQUIRE(after.has_value());
  CHECK(after->state == cache_state::hit);
  CHECK(after->answer->data() == nlohmann::json{{"api_key", "new"}});
  CHECK(f.vault.total_requests() == 2);  // read once, so refreshed once
}

TEST_CASE("kv_cache: the least recently read entry is evicted first", "[cache]") {
  fixture f{short_config(2)};
  for (const char* name : {"a", "b", "c"}) {
    f.vault.answer(std::string{"/v1/kv/data/"} + name, 200, kv2_body(R"({"k":"v"})", 1));
  }
  REQUIRE(f.get("kv/data/a").has_value());
  std::weak_ptr<const stored_answer> b_answer = f.get("kv/data/b")->answer;
  CHECK(f.get("kv/data/a")->state == cache_state::hit);  // a is now the most recent
  REQUIRE(f.get("kv/data/c").has_value());               // evicts b

  CHECK(b_answer.expired());  // its bytes released (and cleansed) with the last reference
  CHECK(f.cache.stats().evictions == 1);
  CHECK(f.cache.snapshot().entries == 2);
  CHECK(f.get("kv/data/a")->state == cache_state::hit);
  CHECK(f.get("kv/data/c")->state == cache_state::hit);
  CHECK(f.get("kv/data/b")->state == cache_state::miss);
}

TEST_CASE("kv_cache: a shorter ttl applied later ends freshness at once", "[cache]") {
  fixture f;  // ttl 10 s
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  f.clock.advance(3s);
  CHECK(f.get("kv/data/x")->state == cache_state::hit);

  auto shorter = f.config;
  shorter.ttl = 2s;
  f.cache.apply(shorter);
  const auto after = f.get("kv/data/x");  // 3 s old: fresh under 10 s, expired under 2 s
  REQUIRE(after.has_value());
  CHECK(after->state == cache_state::miss);
  CHECK(f.vault.total_requests() == 2);
}

TEST_CASE("kv_cache: a smaller max_entries evicts the least recently read down to it", "[cache]") {
  fixture f;  // max_entries 100
  for (const char* name : {"a", "b", "c", "d"}) {
    f.vault.answer(std::string{"/v1/kv/data/"} + name, 200, kv2_body(R"({"k":"v"})", 1));
    REQUIRE(f.get(std::string{"kv/data/"} + name).has_value());
  }
  CHECK(f.get("kv/data/a")->state == cache_state::hit);  // order now: a d c b
  REQUIRE(f.cache.snapshot().entries == 4);

  auto smaller = f.config;
  smaller.max_entries = 2;
  f.cache.apply(smaller);
  CHECK(f.cache.snapshot().entries == 2);
  CHECK(f.cache.stats().evictions == 2);
  CHECK(f.get("kv/data/a")->state == cache_state::hit);
  CHECK(f.get("kv/data/d")->state == cache_state::hit);
  CHECK(f.get("kv/data/b")->state == cache_state::miss);  // stored, evicting d
  CHECK(f.cache.snapshot().entries == 2);
}

TEST_CASE("kv_cache: a shorter refresh_interval wakes a loop waiting on a long one", "[cache]") {
  config::cache_config config;
  config.ttl = 10s;
  config.refresh_interval = 1h;
  refreshing_fixture f{config};
  f.read_then_change();

  f.start_loop();
  f.io.run_for(100ms);  // the loop now waits on its hour
  CHECK(f.vault.total_requests() == 1);
  auto faster = config;
  faster.refresh_interval = 100ms;
  f.cache.apply(faster);
  f.io.run_for(1s);  // a pass at about 100 ms re-reads the entry
  f.stop_loop();

  CHECK(f.loop_ended);
  CHECK(f.vault.total_requests() >= 2);
  const auto after = run(f.io, f.cache.async_get("kv1/app"));
  REQUIRE(after.has_value());
  CHECK(after->answer->data() == nlohmann::json{{"api_key", "new"}});
}

TEST_CASE("kv_cache: invalidate drops every version and the metadata view", "[cache]") {
  fixture f;
  const std::vector<std::string> targets = {"/v1/kv/data/x", "/v1/kv/data/x?version=1",
                                            "/v1/kv/metadata/x", "/v1/kv/data/y", "/v1/other/z"};
  for (const auto& target : targets) f.vault.answer(target, 200, kv2_body(R"({"k":"v"})", 1));
  for (const auto& target : targets) REQUIRE(f.get(target).has_value());

  f.cache.invalidate("kv/data/x");
  CHECK(f.cache.snapshot().entries == 2);
  CHECK(f.get("/v1/kv/data/y")->state == cache_state::hit);
  CHECK(f.get("/v1/other/z")->state == cache_state::hit);
  CHECK(f.get("/v1/kv/metadata/x")->state == cache_state::miss);
}

TEST_CASE("kv_cache: clear_prefix and clear_all", "[cache]") {
  fixture f;
  const std::vector<std::string> targets = {"/v1/kv/data/x", "/v1/kv/data/y", "/v1/kv2/data/z"};
  for (const auto& target : targets) f.vault.answer(target, 200, kv2_body(R"({"k":"v"})", 1));
  for (const auto& target : targets) REQUIRE(f.get(target).has_value());

  f.cache.clear_prefix("/v1/kv/");
  CHECK(f.cache.snapshot().entries == 1);
  CHECK(f.get("/v1/kv2/data/z")->state == cache_state::hit);
  f.cache.clear_prefix("kv");  // Vault Proxy matches plain string prefixes
  CHECK(f.cache.snapshot().entries == 0);

  for (const auto& target : targets) REQUIRE(f.get(target).has_value());
  f.cache.clear_all();
  CHECK(f.cache.snapshot().entries == 0);
  CHECK(f.get("/v1/kv/data/x")->state == cache_state::miss);
}

TEST_CASE("kv_cache: a read in flight when invalidated is answered but not stored", "[cache]") {
  fixture f;
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"old"})", 1));
  f.vault.delay(20ms);
  std::optional<result<cached_answer>> read;
  net::co_spawn(f.io, f.cache.async_get("kv/data/x"),
                [&](std::exception_ptr, result<cached_answer> answer) { read = answer; });
  f.io.poll();  // the read is now waiting on Vault
  f.cache.invalidate("kv/data/x");
  f.io.run();

  REQUIRE(read.has_value());
  REQUIRE(read->has_value());
  CHECK((*read)->status() == 200);
  CHECK(f.cache.snapshot().entries == 0);
}

TEST_CASE("kv_cache: snapshot reports entries and the oldest age", "[cache]") {
  fixture f;
  f.vault.answer(x_target, 200, kv2_body(R"({"k":"v"})", 1));
  f.vault.answer("/v1/kv/data/y", 200, kv2_body(R"({"k":"v"})", 1));
  CHECK(f.cache.snapshot().oldest_age_seconds == 0);
  REQUIRE(f.get("kv/data/x").has_value());
  f.clock.advance(3s);
  REQUIRE(f.get("kv/data/y").has_value());
  f.clock.advance(1500ms);
  const auto snapshot = f.cache.snapshot();
  CHECK(snapshot.entries == 2);
  CHECK(snapshot.in_flight == 0);
  CHECK(snapshot.oldest_age_seconds == 4);
}

TEST_CASE("kv_cache: a failed refresh keeps the entry for stale serving", "[cache]") {
  fixture f;
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  f.vault.answer(x_target, 502, R"({"errors":["upstream rate limited"]})");
  f.refresh();
  f.vault.fail_all(vault::errc::unreachable);
  f.clock.advance(2s);  // the next refresh point
  CHECK(f.get("kv/data/x")->state == cache_state::hit);
  f.refresh();
  CHECK(f.cache.stats().refreshes_failed == 2);
  CHECK(f.cache.stats().refreshes_ok == 0);
  CHECK(f.cache.snapshot().entries == 1);
  f.clock.advance(10s);
  CHECK(f.get("kv/data/x")->state == cache_state::stale);
}

TEST_CASE("kv_cache: each entry's first refresh falls where the random source puts it", "[cache]") {
  fixture f;  // refresh_interval 2 s
  f.phases = {0.0, 0.5, 0.9};
  for (const char* name : {"a", "b", "c"}) {
    f.vault.answer(std::string{"/v1/kv/data/"} + name, 200, kv2_body(R"({"v":"1"})", 1));
    REQUIRE(f.get(std::string{"kv/data/"} + name).has_value());
  }
  const auto reads = [&f] {
    return std::vector<int>{f.vault.requests("/v1/kv/data/a"), f.vault.requests("/v1/kv/data/b"),
                            f.vault.requests("/v1/kv/data/c")};
  };
  const auto read_all = [&f] {
    for (const char* name : {"a", "b", "c"}) {
      REQUIRE(f.get(std::string{"kv/data/"} + name)->state == cache_state::hit);
    }
  };
  f.refresh();  // at 0: a only
  CHECK(reads() == std::vector<int>{2, 1, 1});
  f.clock.advance(999ms);
  f.refresh();
  CHECK(reads() == std::vector<int>{2, 1, 1});
  f.clock.advance(1ms);  // at 1 s: b
  f.refresh();
  CHECK(reads() == std::vector<int>{2, 2, 1});
  f.clock.advance(800ms);  // at 1.8 s: c
  f.refresh();
  CHECK(reads() == std::vector<int>{2, 2, 2});
  // Then every interval, each at its own phase: a at 2 s, b at 3 s, c at 3.8 s.
  read_all();
  f.clock.advance(200ms);
  f.refresh();
  CHECK(reads() == std::vector<int>{3, 2, 2});
  read_all();
  f.clock.advance(1s);
  f.refresh();
  CHECK(reads() == std::vector<int>{3, 3, 2});
  f.clock.advance(800ms);
  f.refresh();
  CHECK(reads() == std::vector<int>{3, 3, 3});
}

TEST_CASE("kv_cache: after an outage the entries keep their phases", "[cache]") {
  fixture f;  // refresh_interval 2 s, ttl 10 s, max_stale 30 s
  f.phases = {0.25, 0.75};
  f.vault.answer(x_target, 200, kv2_body(R"({"password":"one"})", 1));
  f.vault.answer("/v1/kv/data/y", 200, kv2_body(R"({"password":"y"})", 1));
  REQUIRE(f.get("kv/data/x").has_value());
  REQUIRE(f.get("kv/data/y").has_value());
  f.vault.fail_all(vault::errc::unreachable);
  for (int i = 0; i < 10; ++i) {  // 10 s of outage, a pass every second, both read
    f.clock.advance(1s);
    REQUIRE(f.get("kv/data/x").has_value());
    REQUIRE(f.get("kv/data/y").has_value());
    f.refresh();
  }
  f.vault.fail_all(std::nullopt);
  // Read again (served stale: Vault failed this key a moment ago), so both are due for refresh.
  REQUIRE(f.get("kv/data/y")->state == cache_state::stale);
  const auto before_x = f.vault.requests(x_target);
  const auto before_y = f.vault.requests("/v1/kv/data/y");
  // Now at 10 s: x is due at 10.5 s, y at 11.5 s, not both at once.
  f.clock.advance(500ms);
  f.refresh();
  CHECK(f.vault.requests(x_target) == before_x + 1);
  CHECK(f.vault.requests("/v1/kv/data/y") == before_y);
  f.clock.advance(1s);
  f.refresh();
  CHECK(f.vault.requests("/v1/kv/data/y") == before_y + 1);
}
