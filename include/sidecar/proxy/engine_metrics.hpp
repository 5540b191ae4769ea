#pragma once

#include <sidecar/auth/token_manager.hpp>
#include <sidecar/cache/cache_stats.hpp>
#include <sidecar/lease/lease_stats.hpp>
#include <sidecar/lease/lease_store.hpp>
#include <sidecar/metrics/registry.hpp>
#include <sidecar/vault/upstream_gate.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sidecar::proxy {

/// Exports the token manager's, the cache's and the lease store's own counters (plain structs
/// kept on the io thread) as Prometheus series, brought up to date before each scrape: a
/// counter grows by what its source counted since the previous scrape.
///
/// Thread affinity: io thread only (it reads io-thread state). Errors: none.
class engine_metrics final {
 public:
  explicit engine_metrics(metrics::registry& registry);

  void update(const auth::token_stats& token, const cache::cache_stats& cache,
              const lease::lease_stats& leases, const std::vector<lease::path_status>& paths);
  /// The vault client's gate: `upstream_up` (1 while Vault answers), `upstream_paused_seconds`
  /// (left of a Retry-After pause), and the pauses and local refusals it counted.
  void update_upstream(const vault::upstream_state& state, const vault::gate_stats& stats,
                       core::time_point now);

 private:
  struct exported_counter {
    metrics::counter* series;
    std::uint64_t exported = 0;
    void bring_to(std::uint64_t total) noexcept;
  };

  metrics::registry& registry_;
  metrics::gauge& token_ttl_seconds_;
  metrics::gauge& token_ok_;
  exported_counter token_renewals_;
  exported_counter token_renewal_failures_;
  exported_counter cache_hits_;
  exported_counter cache_misses_;
  exported_counter cache_stale_;
  exported_counter cache_upstream_;
  exported_counter cache_coalesced_;
  exported_counter cache_refresh_ok_;
  exported_counter cache_refresh_failed_;
  exported_counter cache_evictions_;
  metrics::gauge& cache_entries_;
  exported_counter cache_negative_hits_;
  metrics::gauge* upstream_up_ = nullptr;
  metrics::gauge* upstream_paused_seconds_ = nullptr;
  exported_counter upstream_pauses_{};
  exported_counter upstream_paused_refusals_{};
  exported_counter upstream_budget_refusals_{};
  exported_counter lease_hits_;
  exported_counter lease_fetches_;
  exported_counter lease_rotations_;
  exported_counter lease_renewals_;
  exported_counter lease_failures_;
  exported_counter lease_expirations_;
  std::map<std::string, metrics::gauge*> lease_seconds_left_;
  // Issue 20: logins (more than one only with auth.relogin = on_expiry) and the method in use.
  exported_counter token_logins_{&registry_.make_counter(
      "token_logins_total", "Logins to Vault (0 for auth.method = token_file)")};
  metrics::gauge* auth_method_info_ =
      nullptr;  ///< auth_method_info{method="..."} 1, made at first update
};

}  // namespace sidecar::proxy
