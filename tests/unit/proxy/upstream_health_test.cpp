#include <sidecar/proxy/health.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>

using namespace std::chrono_literals;
using namespace sidecar;

namespace {

// A started sidecar with a token in use, at a fixed steady and wall time.
proxy::health_inputs started_at_noon() {
  proxy::health_inputs in;
  in.started = true;
  in.token.status = auth::token_status::ok;
  in.now = core::time_point{} + 1000h;
  in.wall_now = std::chrono::sys_days{std::chrono::year{2026} / 12 / 7} + 12h;
  return in;
}

}  // namespace

TEST_CASE("health: no upstream object without a gate", "[proxy]") {
  const auto report = proxy::make_health_report(started_at_noon());
  CHECK_FALSE(nlohmann::json::parse(report.body).contains("upstream"));
}

TEST_CASE("health: upstream ok, paused until a date, failing since a date", "[proxy]") {
  auto in = started_at_noon();
  in.upstream_stats = {.pauses = 2, .paused_refusals = 7, .budget_refusals = 3};

  in.upstream = vault::upstream_state{};
  auto body = nlohmann::json::parse(proxy::make_health_report(in).body)["upstream"];
  CHECK(body["state"] == "ok");
  CHECK(body["pauses"] == 2);
  CHECK(body["paused_refusals"] == 7);
  CHECK(body["budget_refusals"] == 3);
  CHECK_FALSE(body.contains("paused_until"));

  in.upstream = vault::upstream_state{.condition = vault::upstream_condition::paused,
                                      .paused_until = in.now + 5500ms,
                                      .failing_since = in.now - 1s};
  const auto paused = proxy::make_health_report(in);
  CHECK(paused.status == 200);  // a pause never makes the sidecar unready
  body = nlohmann::json::parse(paused.body)["upstream"];
  CHECK(body["state"] == "paused");
  CHECK(body["paused_until"] == "2026-12-07T12:00:05Z");
  CHECK(body["paused_seconds_left"] == 6);

  in.upstream = vault::upstream_state{.condition = vault::upstream_condition::failing,
                                      .paused_until = {},
                                      .failing_since = in.now - 90s};
  body = nlohmann::json::parse(proxy::make_health_report(in).body)["upstream"];
  CHECK(body["state"] == "failing");
  CHECK(body["failing_since"] == "2026-12-07T11:58:30Z");
}
