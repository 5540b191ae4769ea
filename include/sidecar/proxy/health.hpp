#pragma once

#include <sidecar/auth/token_manager.hpp>
#include <sidecar/cache/cache_stats.hpp>
#include <sidecar/core/clock.hpp>
#include <sidecar/lease/lease_store.hpp>
#include <sidecar/vault/upstream_gate.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sidecar::proxy {

/// Everything `GET /sidecar/v1/health` reports, gathered on the io thread. No secret values:
/// the token appears only as its state and times.
/// Requests and refusals of one [client.NAME] ("-": callers matching none). Counts only.
struct client_requests {
  std::string name;
  std::uint64_t requests = 0;
  std::uint64_t refusals = 0;
};

struct health_inputs {
  bool started = false;  ///< logged in and the start-up fetches of [secrets] are done
  auth::token_stats token;
  cache::cache_snapshot cache;
  std::vector<lease::path_status> leases;
  core::time_point now;
  std::vector<client_requests> clients;  ///< empty without [client.*] sections
  /// Vault as the vault client sees it (ok, paused by a Retry-After, failing), when known.
  std::optional<vault::upstream_state> upstream{};
  vault::gate_stats upstream_stats{};
  core::wall_time wall_now{};  ///< to print the pause's end and the failure's start as dates
};

/// The answer to a health probe: 200 once started with a token in use or degraded-but-serving,
/// 503 while starting or once the token is lost.
struct health_report {
  unsigned status = 503;
  std::string body;  ///< JSON
};

/// Pure: the overall `status` is `starting` before start-up completes, `degraded` when the token
/// is degraded (serve_cached) or a dynamic secret is degraded or expired, `lost` when the token
/// is lost, else `ok`. The `upstream` object (`state` ok | paused | failing, `paused_until` and
/// `failing_since` as UTC dates, the protection counters) informs and never makes a sidecar
/// unready: what it holds is still served.
[[nodiscard]] health_report make_health_report(const health_inputs& inputs);

}  // namespace sidecar::proxy
