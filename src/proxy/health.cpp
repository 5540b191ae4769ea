#include <sidecar/proxy/health.hpp>

#include <fmt/chrono.h>
#include <nlohmann/json.hpp>

namespace sidecar::proxy {
namespace {

long long seconds_until(core::time_point now, const std::optional<core::time_point>& when) {
  return when ? core::whole_seconds_between(now, *when) : -1;
}

bool lease_needs_attention(const lease::path_status& path) {
  return path.state == lease::lease_state::degraded || path.state == lease::lease_state::expired;
}

std::string overall_status(const health_inputs& in) {
  if (in.token.status == auth::token_status::lost) return "lost";
  if (!in.started) return "starting";
  if (in.token.status == auth::token_status::degraded) return "degraded";
  for (const auto& path : in.leases) {
    if (lease_needs_attention(path)) return "degraded";
  }
  return "ok";
}

// A steady time point as the UTC date it corresponds to, to the second.
std::string utc_date(core::time_point when, const health_inputs& in) {
  const auto wall =
      in.wall_now + std::chrono::duration_cast<core::wall_time::duration>(when - in.now);
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<std::chrono::seconds>(wall));
}

nlohmann::json upstream_json(const health_inputs& in) {
  const auto& state = *in.upstream;
  nlohmann::json out{{"pauses", in.upstream_stats.pauses},
                     {"paused_refusals", in.upstream_stats.paused_refusals},
                     {"budget_refusals", in.upstream_stats.budget_refusals}};
  switch (state.condition) {
    case vault::upstream_condition::ok:
      out["state"] = "ok";
      break;
    case vault::upstream_condition::paused:
      out["state"] = "paused";
      out["paused_until"] = utc_date(state.paused_until, in);
      out["paused_seconds_left"] =
          std::chrono::ceil<std::chrono::seconds>(state.paused_until - in.now).count();
      break;
    case vault::upstream_condition::failing:
      out["state"] = "failing";
      out["failing_since"] = utc_date(state.failing_since, in);
      break;
  }
  return out;
}

}  // namespace

health_report make_health_report(const health_inputs& in) {
  const auto& token = in.token;
  nlohmann::json leases = nlohmann::json::array();
  for (const auto& path : in.leases) {
    leases.push_back({{"path", path.path},
                      {"state", std::string{lease::to_string(path.state)}},
                      {"seconds_left", path.seconds_left},
                      {"rotations", path.rotations},
                      {"renewals", path.renewals},
                      {"failures", path.failures},
                      {"last_error", path.last_error}});
  }
  const std::string status = overall_status(in);
  nlohmann::json body{
      {"status", status},
      {"token",
       {{"status", auth::to_string(token.status)},
        {"renewable", token.renewable},
        {"ttl_seconds", std::chrono::duration_cast<std::chrono::seconds>(token.ttl).count()},
        {"ttl_seconds_left",
         std::chrono::duration_cast<std::chrono::seconds>(token.ttl_left).count()},
        {"next_renewal_in_seconds", seconds_until(in.now, token.next_renewal)},
        {"max_ttl_reached", token.max_ttl_reached},
        {"renewals", token.renewals_ok},
        {"renewal_failures", token.renewal_failures},
        {"last_error", token.last_error},
        {"method", token.method},
        {"logins", token.logins}}},
      {"cache",
       {{"entries", in.cache.entries},
        {"in_flight", in.cache.in_flight},
        {"oldest_age_seconds", in.cache.oldest_age_seconds}}},
      {"leases", std::move(leases)},
  };
  if (!in.clients.empty()) {
    auto& clients = body["clients"] = nlohmann::json::object();
    for (const auto& c : in.clients) {
      clients[c.name] = {{"requests", c.requests}, {"refusals", c.refusals}};
    }
  }
  if (in.upstream) body["upstream"] = upstream_json(in);
  const bool serving = status == "ok" || status == "degraded";
  return {.status = serving ? 200U : 503U, .body = body.dump()};
}

}  // namespace sidecar::proxy
