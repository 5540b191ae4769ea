#include <sidecar/testing/fault_plan.hpp>

#include <catch2/catch.hpp>

using namespace sidecar::testing;
using namespace std::chrono_literals;

TEST_CASE("fault_plan: fail_next fails exactly count matching requests", "[vault_double]") {
  fault_plan plan;
  plan.fail_next("/v1/kv-demo", 2, 503, "boom");
  CHECK_FALSE(plan.take("/v1/sys/health").fail.has_value());
  for (int i = 0; i < 2; ++i) {
    const auto decision = plan.take("/v1/kv-demo/data/sample");
    REQUIRE(decision.fail.has_value());
    CHECK(decision.fail->status == 503);
    CHECK(decision.fail->body.dump() == R"({"errors":["boom"]})");
  }
  CHECK_FALSE(plan.take("/v1/kv-demo/data/sample").fail.has_value());
}

TEST_CASE("fault_plan: an empty message fails with an empty errors list", "[vault_double]") {
  fault_plan plan;
  plan.fail_next("/v1/", 1, 500, "");
  CHECK(plan.take("/v1/x").fail->body.dump() == R"({"errors":[]})");
}

TEST_CASE("fault_plan: drops and failures are used up in the order added", "[vault_double]") {
  fault_plan plan;
  plan.drop_next("/v1/", 1);
  plan.fail_next("/v1/", 1, 502, "");
  CHECK(plan.take("/v1/a").drop);
  const auto second = plan.take("/v1/a");
  CHECK_FALSE(second.drop);
  CHECK(second.fail->status == 502);
  const auto third = plan.take("/v1/a");
  CHECK_FALSE(third.drop);
  CHECK_FALSE(third.fail.has_value());
}

TEST_CASE("fault_plan: delays apply to every match until removed", "[vault_double]") {
  fault_plan plan;
  plan.set_delay("/v1/kv", 50ms);
  plan.set_delay("/v1/kv-demo", 200ms);
  CHECK(plan.take("/v1/kv-demo/x").delay == 200ms);
  CHECK(plan.take("/v1/kv-other/x").delay == 50ms);
  CHECK(plan.take("/v1/sys/health").delay == 0ms);
  plan.set_delay("/v1/kv-demo", 0ms);
  CHECK(plan.take("/v1/kv-demo/x").delay == 50ms);
  plan.clear();
  CHECK(plan.take("/v1/kv-demo/x").delay == 0ms);
}

TEST_CASE("fault_plan: corrupt_next garbles count matching answers in turn with the others",
          "[vault_double]") {
  fault_plan plan;
  plan.corrupt_next("/v1/kv-demo", 2, corruption::reset_mid_body);
  plan.fail_next("/v1/kv-demo", 1, 503, "");
  CHECK_FALSE(plan.take("/v1/sys/health").corrupt.has_value());
  for (int i = 0; i < 2; ++i) {
    const auto decision = plan.take("/v1/kv-demo/data/x");
    CHECK(decision.corrupt == corruption::reset_mid_body);
    CHECK_FALSE(decision.drop);
    CHECK_FALSE(decision.fail.has_value());
  }
  const auto failed = plan.take("/v1/kv-demo/data/x");
  CHECK_FALSE(failed.corrupt.has_value());
  CHECK(failed.fail->status == 503);
  plan.corrupt_next("/v1/", 5, corruption::malformed_json);
  plan.clear();
  CHECK_FALSE(plan.take("/v1/x").corrupt.has_value());
}
