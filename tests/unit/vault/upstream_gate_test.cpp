#include <sidecar/core/clock.hpp>
#include <sidecar/vault/errc.hpp>
#include <sidecar/vault/upstream_gate.hpp>

#include <boost/asio/error.hpp>
#include <catch2/catch.hpp>

#include <chrono>

using namespace std::chrono_literals;
using namespace sidecar;
using vault::request_kind;
using vault::upstream_condition;
using vault::upstream_gate;

namespace {

vault::attempt_outcome status(unsigned code) { return {.failure = {}, .status = code}; }

config::vault_config budget(int rate, int concurrent) {
  config::vault_config config;
  config.rate_limit = rate;
  config.max_concurrent_requests = concurrent;
  return config;
}

}  // namespace

TEST_CASE("classify_request: reads, writes, the token's requests and its renewal", "[vault]") {
  using http::verb;
  CHECK(vault::classify_request(verb::get, "/v1/kv-demo/data/x") == request_kind::read);
  CHECK(vault::classify_request(verb::head, "/v1/kv-demo/data/x") == request_kind::read);
  CHECK(vault::classify_request(verb::get, "/v1/database/creds/app") == request_kind::read);
  CHECK(vault::classify_request(verb::put, "/v1/kv-demo/data/x") == request_kind::write);
  CHECK(vault::classify_request(verb::put, "/v1/sys/leases/renew") == request_kind::write);
  CHECK(vault::classify_request(verb::post, "/v1/auth/approle/login") == request_kind::token);
  CHECK(vault::classify_request(verb::post, "/v1/auth/kubernetes/login") == request_kind::token);
  CHECK(vault::classify_request(verb::get, "/v1/auth/token/lookup-self") == request_kind::token);
  CHECK(vault::classify_request(verb::post, "/v1/auth/token/renew-self") ==
        request_kind::token_renewal);
  CHECK(vault::classify_request(verb::post, "/v1/auth/token/renew-self?x=1") ==
        request_kind::token_renewal);
  CHECK(vault::classify_request(verb::get, "/v1/sys/health") == request_kind::probe);
  CHECK(vault::classify_request(verb::head, "/v1/sys/health?standbyok=true") ==
        request_kind::probe);
  // A read of an auth path other than the token's own is a read like any other.
  CHECK(vault::classify_request(verb::get, "/v1/auth/approle/role/x") == request_kind::read);
}

TEST_CASE("renewal_may_wait: only when request_timeout is left after the pause", "[vault]") {
  const auto t0 = core::time_point{} + 1000h;
  CHECK(vault::renewal_may_wait(t0 + 6s, t0 + 60s, 10s));
  CHECK_FALSE(vault::renewal_may_wait(t0 + 50s, t0 + 60s, 10s));  // exactly at the edge: go now
  CHECK_FALSE(vault::renewal_may_wait(t0 + 5min, t0 + 60s, 10s));
  CHECK(vault::renewal_may_wait(t0 + 5min, core::time_point::max(), 10s));
}

TEST_CASE("upstream_gate: a 429 or 503 with Retry-After pauses until it passes", "[vault]") {
  core::manual_clock clock;
  for (const unsigned code : {429u, 503u}) {
    INFO("status " << code);
    upstream_gate gate{budget(0, 0), clock.now()};
    CHECK_FALSE(gate.paused_until(clock.now()));
    gate.note(status(code), 6s, clock.now());
    REQUIRE(gate.paused_until(clock.now()) == clock.now() + 6s);
    CHECK(gate.state(clock.now()).condition == upstream_condition::paused);
    CHECK(gate.stats().pauses == 1);
    clock.advance(6s - 1ms);
    CHECK(gate.paused_until(clock.now()));
    clock.advance(1ms);
    CHECK_FALSE(gate.paused_until(clock.now()));
    // Paused no more, but nothing has answered since: still failing.
    CHECK(gate.state(clock.now()).condition == upstream_condition::failing);
  }
}

TEST_CASE("upstream_gate: Retry-After on other statuses, zero, or absent does not pause",
          "[vault]") {
  core::manual_clock clock;
  upstream_gate gate{budget(0, 0), clock.now()};
  gate.note(status(500), 6s, clock.now());
  gate.note(status(404), 6s, clock.now());
  gate.note(status(429), std::nullopt, clock.now());
  gate.note(status(429), 0s, clock.now());
  CHECK_FALSE(gate.paused_until(clock.now()));
  CHECK(gate.stats().pauses == 0);
}

TEST_CASE("upstream_gate: a later, longer Retry-After lengthens the pause, a shorter one not",
          "[vault]") {
  core::manual_clock clock;
  upstream_gate gate{budget(0, 0), clock.now()};
  const auto start = clock.now();
  gate.note(status(429), 10s, clock.now());
  clock.advance(2s);
  gate.note(status(429), 3s, clock.now());
  CHECK(gate.paused_until(clock.now()) == start + 10s);
  gate.note(status(429), 20s, clock.now());
  CHECK(gate.paused_until(clock.now()) == start + 22s);
  CHECK(gate.stats().pauses == 2);
}

TEST_CASE("upstream_gate: failing since the first failure until Vault answers", "[vault]") {
  core::manual_clock clock;
  upstream_gate gate{budget(0, 0), clock.now()};
  CHECK(gate.state(clock.now()).condition == upstream_condition::ok);
  const auto first = clock.now();
  gate.note({.failure = make_error_code(vault::errc::unreachable), .status = 0}, {}, clock.now());
  clock.advance(3s);
  gate.note(status(502), {}, clock.now());
  gate.note(status(412), {}, clock.now());
  auto state = gate.state(clock.now());
  CHECK(state.condition == upstream_condition::failing);
  CHECK(state.failing_since == first);
  // A cancellation says nothing about Vault.
  gate.note({.failure = make_error_code(net::error::operation_aborted), .status = 0}, {},
            clock.now());
  CHECK(gate.state(clock.now()).condition == upstream_condition::failing);
  gate.note(status(404), {}, clock.now());  // an answer, if not a welcome one
  CHECK(gate.state(clock.now()).condition == upstream_condition::ok);
}

TEST_CASE("upstream_gate: unlimited budget always admits", "[vault]") {
  core::manual_clock clock;
  upstream_gate gate{budget(0, 0), clock.now()};
  for (int i = 0; i < 1000; ++i) REQUIRE(gate.try_admit(clock.now()).granted);
  CHECK(gate.in_flight() == 1000);
}

TEST_CASE("upstream_gate: max_concurrent_requests bounds what is in flight", "[vault]") {
  core::manual_clock clock;
  upstream_gate gate{budget(0, 2), clock.now()};
  REQUIRE(gate.try_admit(clock.now()).granted);
  REQUIRE(gate.try_admit(clock.now()).granted);
  const auto third = gate.try_admit(clock.now());
  CHECK_FALSE(third.granted);
  CHECK(third.wait == core::duration::max());
  gate.release();
  CHECK(gate.try_admit(clock.now()).granted);
  CHECK(gate.in_flight() == 2);
}

TEST_CASE("upstream_gate: rate_limit admits a burst, then one per 1/rate", "[vault]") {
  core::manual_clock clock;
  upstream_gate gate{budget(4, 0), clock.now()};
  for (int i = 0; i < 4; ++i) {
    REQUIRE(gate.try_admit(clock.now()).granted);
    gate.release();
  }
  const auto refused = gate.try_admit(clock.now());
  CHECK_FALSE(refused.granted);
  CHECK(refused.wait == 250ms);
  CHECK(gate.in_flight() == 0);  // a refusal holds no slot
  clock.advance(250ms);
  CHECK(gate.try_admit(clock.now()).granted);
}

TEST_CASE("upstream_gate: a full set of slots takes no token from the bucket", "[vault]") {
  core::manual_clock clock;
  upstream_gate gate{budget(1, 1), clock.now()};
  REQUIRE(gate.try_admit(clock.now()).granted);  // the one token and the one slot
  clock.advance(1s);                             // a token again, but no slot
  CHECK(gate.try_admit(clock.now()).wait == core::duration::max());
  gate.release();
  CHECK(gate.try_admit(clock.now()).granted);  // the token was still there
}
