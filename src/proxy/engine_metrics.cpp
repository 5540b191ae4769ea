#include <sidecar/proxy/engine_metrics.hpp>

namespace sidecar::proxy {

void engine_metrics::exported_counter::bring_to(std::uint64_t total) noexcept {
  // A source counter never goes down; should one restart, the series simply pauses.
  if (total > exported) series->inc(total - exported);
  exported = std::max(exported, total);
}

engine_metrics::engine_metrics(metrics::registry& registry)
    : registry_{registry},
      token_ttl_seconds_{registry.make_gauge("token_ttl_seconds",
                                             "Seconds until the sidecar's Vault token expires")},
      token_ok_{registry.make_gauge("token_ok", "1 while the token is in use, else 0")},
      token_renewals_{
          &registry.make_counter("token_renewals_total", "Successful renew-self calls")},
      token_renewal_failures_{
          &registry.make_counter("token_renewal_failures_total", "Failed renew-self calls")},
      cache_hits_{&registry.make_counter("cache_hits_total", "KV reads answered from the cache")},
      cache_misses_{&registry.make_counter("cache_misses_total", "KV reads answered by Vault")},
      cache_stale_{&registry.make_counter("cache_stale_total",
                                          "Expired KV answers served while Vault failed")},
      cache_upstream_{&registry.make_counter("cache_upstream_requests_total",
                                             "KV reads sent to Vault (misses and refreshes)")},
      cache_coalesced_{&registry.make_counter("cache_coalesced_waiters_total",
                                              "KV reads that joined a read already in flight")},
      cache_refresh_ok_{&registry.make_counter("cache_refreshes_total", "Background KV re-reads",
                                               {{"result", "ok"}})},
      cache_refresh_failed_{&registry.make_counter(
          "cache_refreshes_total", "Background KV re-reads", {{"result", "failed"}})},
      cache_evictions_{&registry.make_counter("cache_evictions_total",
                                              "KV entries evicted by cache.max_entries")},
      cache_entries_{registry.make_gauge("cache_entries", "KV entries held")},
      cache_negative_hits_{&registry.make_counter(
          "cache_negative_hits_total", "KV reads answered with a kept 404 (cache.negative_ttl)")},
      lease_hits_{
          &registry.make_counter("lease_hits_total", "Dynamic secrets served from a held lease")},
      lease_fetches_{
          &registry.make_counter("lease_fetches_total", "Dynamic secret requests sent to Vault")},
      lease_rotations_{&registry.make_counter("lease_rotations_total", "Dynamic secrets rotated")},
      lease_renewals_{&registry.make_counter("lease_renewals_total", "Leases extended")},
      lease_failures_{
          &registry.make_counter("lease_failures_total", "Failed rotations and renewals")},
      lease_expirations_{&registry.make_counter(
          "lease_expirations_total", "Leases that expired before new creds were obtained")} {}

void engine_metrics::update(const auth::token_stats& token, const cache::cache_stats& cache,
                            const lease::lease_stats& leases,
                            const std::vector<lease::path_status>& paths) {
  token_ttl_seconds_.set(std::chrono::duration<double>(token.ttl_left).count());
  token_ok_.set(token.status == auth::token_status::ok ? 1.0 : 0.0);
  token_renewals_.bring_to(token.renewals_ok);
  token_renewal_failures_.bring_to(token.renewal_failures);
  token_logins_.bring_to(token.logins);
  if (auth_method_info_ == nullptr && !token.method.empty()) {
    auth_method_info_ = &registry_.make_gauge(
        "auth_method_info", "The auth.method the sidecar uses", {{"method", token.method}});
    auth_method_info_->set(1.0);
  }

  cache_hits_.bring_to(cache.hits);
  cache_misses_.bring_to(cache.misses);
  cache_stale_.bring_to(cache.stale_serves);
  cache_upstream_.bring_to(cache.upstream_requests);
  cache_coalesced_.bring_to(cache.coalesced_waiters);
  cache_refresh_ok_.bring_to(cache.refreshes_ok);
  cache_refresh_failed_.bring_to(cache.refreshes_failed);
  cache_evictions_.bring_to(cache.evictions);
  cache_entries_.set(static_cast<double>(cache.entries));
  cache_negative_hits_.bring_to(cache.negative_hits);

  lease_hits_.bring_to(leases.hits);
  lease_fetches_.bring_to(leases.fetches);
  lease_rotations_.bring_to(leases.rotations);
  lease_renewals_.bring_to(leases.renewals);
  lease_failures_.bring_to(leases.failures);
  lease_expirations_.bring_to(leases.expirations);
  for (const auto& path : paths) {
    auto& gauge = lease_seconds_left_[path.path];
    if (gauge == nullptr) {
      gauge = &registry_.make_gauge(
          "lease_seconds_left", "Seconds left on a dynamic secret's lease", {{"path", path.path}});
    }
    gauge->set(static_cast<double>(path.seconds_left));
  }
}

void engine_metrics::update_upstream(const vault::upstream_state& state,
                                     const vault::gate_stats& stats, core::time_point now) {
  // Made on first use: a sidecar without a gate (the library) exports none of these.
  if (upstream_up_ == nullptr) {
    upstream_up_ = &registry_.make_gauge(
        "upstream_up", "1 while Vault answers, 0 while it fails or asked for a pause");
    upstream_paused_seconds_ = &registry_.make_gauge(
        "upstream_paused_seconds", "Seconds left of the pause Vault asked for with Retry-After");
    upstream_pauses_.series = &registry_.make_counter(
        "upstream_retry_after_pauses_total", "Retry-After answers that paused reads to Vault");
    upstream_paused_refusals_.series = &registry_.make_counter(
        "upstream_paused_refusals_total", "Reads answered 429 locally during a Retry-After pause");
    upstream_budget_refusals_.series = &registry_.make_counter(
        "upstream_budget_refusals_total",
        "Requests answered 429 locally: no vault.rate_limit / max_concurrent_requests budget");
  }
  upstream_up_->set(state.condition == vault::upstream_condition::ok ? 1.0 : 0.0);
  const double paused = state.condition == vault::upstream_condition::paused
                            ? std::chrono::duration<double>(state.paused_until - now).count()
                            : 0.0;
  upstream_paused_seconds_->set(paused);
  upstream_pauses_.bring_to(stats.pauses);
  upstream_paused_refusals_.bring_to(stats.paused_refusals);
  upstream_budget_refusals_.bring_to(stats.budget_refusals);
}

}  // namespace sidecar::proxy
