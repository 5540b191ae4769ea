#include <sidecar/cache/policy.hpp>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using namespace sidecar::cache;

namespace {

const sidecar::core::time_point t0 = sidecar::core::time_point{} + 1000h;

sidecar::config::cache_config policy(sidecar::core::duration max_stale = 30s) {
  sidecar::config::cache_config config;
  config.ttl = 10s;
  config.refresh_interval = 2s;
  config.max_stale = max_stale;
  return config;
}

}  // namespace

TEST_CASE("is_fresh: fresh until exactly ttl after the fetch", "[cache]") {
  const auto config = policy();
  CHECK(is_fresh(t0, t0, config));
  CHECK(is_fresh(t0, t0 + 10s - 1ns, config));
  CHECK_FALSE(is_fresh(t0, t0 + 10s, config));
  CHECK_FALSE(is_fresh(t0, t0 + 1h, config));
}

TEST_CASE("is_stale_servable: from ttl until ttl plus max_stale, end excluded", "[cache]") {
  const auto config = policy(30s);
  CHECK_FALSE(is_stale_servable(t0, t0 + 10s - 1ns, config));  // still fresh
  CHECK(is_stale_servable(t0, t0 + 10s, config));
  CHECK(is_stale_servable(t0, t0 + 40s - 1ns, config));
  CHECK_FALSE(is_stale_servable(t0, t0 + 40s, config));
}

TEST_CASE("is_stale_servable: max_stale 0 never serves stale", "[cache]") {
  const auto config = policy(0s);
  CHECK_FALSE(is_stale_servable(t0, t0 + 10s, config));
  CHECK_FALSE(is_stale_servable(t0, t0 + 10s + 1ns, config));
}

TEST_CASE("refresh_decision: read since the last pass is refreshed, unread kept", "[cache]") {
  const auto config = policy();
  CHECK(refresh_decision({.last_read = t0, .read_since_refresh = true}, t0 + 3s, config) ==
        refresh_action::refresh);
  CHECK(refresh_decision({.last_read = t0, .read_since_refresh = false}, t0 + 3s, config) ==
        refresh_action::keep);
}

TEST_CASE("refresh_decision: unread for ttl is dropped, not refreshed", "[cache]") {
  const auto config = policy();
  CHECK(refresh_decision({.last_read = t0, .read_since_refresh = true}, t0 + 10s - 1ns, config) ==
        refresh_action::refresh);
  CHECK(refresh_decision({.last_read = t0, .read_since_refresh = true}, t0 + 10s, config) ==
        refresh_action::drop);
  CHECK(refresh_decision({.last_read = t0, .read_since_refresh = false}, t0 + 10s, config) ==
        refresh_action::drop);
}

TEST_CASE("recovery_at: min(refresh_interval, ttl) after a failure, at least failure_hold",
          "[cache]") {
  const auto failed = sidecar::core::time_point{} + std::chrono::hours{5};
  sidecar::config::cache_config config;
  config.refresh_interval = 10s;
  config.ttl = 20s;
  CHECK(recovery_at(failed, config) == failed + 10s);
  config.ttl = 4s;  // capped by ttl: one failure costs at most one ttl of extra staleness
  CHECK(recovery_at(failed, config) == failed + 4s);
  config.refresh_interval = 500ms;  // never sooner than failure_hold
  CHECK(recovery_at(failed, config) == failed + failure_hold);
  config.refresh_interval = 0s;
  CHECK(recovery_at(failed, config) == failed + failure_hold);
}

TEST_CASE("judge_answer: only a cacheable 200 is stored", "[cache]") {
  CHECK(judge_answer(200, true) == upstream_verdict::store);
  CHECK(judge_answer(200, false) == upstream_verdict::pass);
  for (const unsigned status : {204u, 307u, 400u, 405u, 501u}) {
    INFO("status " << status);
    CHECK(judge_answer(status, true) == upstream_verdict::pass);
  }
}

TEST_CASE("judge_answer: 403 and 404 drop; 412, 429 and 5xx but 501 are Vault failing", "[cache]") {
  CHECK(judge_answer(403, false) == upstream_verdict::pass_and_drop);
  CHECK(judge_answer(404, true) == upstream_verdict::pass_and_drop);
  for (unsigned status = 201; status <= 599; ++status) {
    INFO("status " << status);
    const bool failing = status == 412 || status == 429 || (status >= 500 && status != 501);
    if (failing) {
      CHECK(judge_answer(status, false) == upstream_verdict::failure);
    } else if (status == 403 || status == 404) {
      CHECK(judge_answer(status, false) == upstream_verdict::pass_and_drop);
    } else {
      CHECK(judge_answer(status, false) == upstream_verdict::pass);
    }
  }
  CHECK(judge_answer(501, false) == upstream_verdict::pass);
  CHECK(judge_answer(600, false) == upstream_verdict::pass);
}

TEST_CASE("judge_answer: a 403 for the sidecar's invalid token is a failure, not a drop",
          "[cache]") {
  CHECK(judge_answer(403, false, true) == upstream_verdict::failure);
  CHECK(judge_answer(403, false, false) == upstream_verdict::pass_and_drop);
  CHECK(judge_answer(404, false, true) == upstream_verdict::pass_and_drop);
}

TEST_CASE("keeps_negative: a 404 while negative_ttl is set, nothing else", "[cache]") {
  auto config = policy();
  config.negative_ttl = 5s;
  for (unsigned status = 200; status <= 599; ++status) {
    INFO("status " << status);
    CHECK(keeps_negative(status, config) == (status == 404));
  }
  config.negative_ttl = 0s;
  CHECK_FALSE(keeps_negative(404, config));
}

TEST_CASE("is_negative_fresh: until exactly negative_ttl after the fetch", "[cache]") {
  auto config = policy();
  config.negative_ttl = 5s;
  CHECK(is_negative_fresh(t0, t0, config));
  CHECK(is_negative_fresh(t0, t0 + 5s - 1ms, config));
  CHECK_FALSE(is_negative_fresh(t0, t0 + 5s, config));
  CHECK_FALSE(is_negative_fresh(t0, t0 + 1h, config));
}

TEST_CASE("first_refresh_at: the random unit's point of the first interval", "[cache]") {
  CHECK(first_refresh_at(t0, 60s, 0.0) == t0);
  CHECK(first_refresh_at(t0, 60s, 0.5) == t0 + 30s);
  CHECK(first_refresh_at(t0, 60s, 0.25) == t0 + 15s);
  CHECK(first_refresh_at(t0, 60s, 1.0) < t0 + 60s);  // within the interval, end excluded
  CHECK(first_refresh_at(t0, 60s, 7.0) < t0 + 60s);
  CHECK(first_refresh_at(t0, 60s, -1.0) == t0);
}

TEST_CASE("next_refresh_at: one interval on, whole missed intervals skipped", "[cache]") {
  CHECK(next_refresh_at(t0 + 15s, 60s, t0 + 15s) == t0 + 75s);
  CHECK(next_refresh_at(t0 + 15s, 60s, t0 + 20s) == t0 + 75s);
  CHECK(next_refresh_at(t0 + 15s, 60s, t0 + 75s) == t0 + 135s);    // due exactly now: the next
  CHECK(next_refresh_at(t0 + 15s, 60s, t0 + 10min) == t0 + 615s);  // phase 15 s kept
  CHECK(next_refresh_at(t0, 0s, t0 + 1s) == t0 + 1s);
}

TEST_CASE("refresh_tick: a 64th of the interval within 50 ms and 1 s", "[cache]") {
  CHECK(refresh_tick(1min) == 937500us);
  CHECK(refresh_tick(2min) == 1s);
  CHECK(refresh_tick(32s) == 500ms);
  CHECK(refresh_tick(2s) == 50ms);
  CHECK(refresh_tick(1h) == 1s);
}
