#include <sidecar/proxy/health.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace sidecar;

TEST_CASE("health: per-client counts appear only when clients are configured", "[proxy]") {
  proxy::health_inputs inputs;
  inputs.started = true;
  inputs.token.status = auth::token_status::ok;
  const auto without = nlohmann::json::parse(proxy::make_health_report(inputs).body);
  CHECK_FALSE(without.contains("clients"));

  inputs.clients = {{.name = "web", .requests = 7, .refusals = 2},
                    {.name = "-", .requests = 3, .refusals = 3}};
  const auto with = nlohmann::json::parse(proxy::make_health_report(inputs).body);
  CHECK(with["clients"] == nlohmann::json{{"web", {{"requests", 7}, {"refusals", 2}}},
                                          {"-", {{"requests", 3}, {"refusals", 3}}}});
}
