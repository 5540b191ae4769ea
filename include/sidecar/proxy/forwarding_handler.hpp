#pragma once

#include <sidecar/auth/token_manager.hpp>
#include <sidecar/cache/kv_cache.hpp>
#include <sidecar/core/asio.hpp>
#include <sidecar/lease/lease_store.hpp>
#include <sidecar/metrics/registry.hpp>
#include <sidecar/proxy/engine_metrics.hpp>
#include <sidecar/proxy/health.hpp>
#include <sidecar/proxy/request_handler.hpp>
#include <sidecar/vault/client.hpp>
#include <sidecar/vault/upstream_gate.hpp>

#include <functional>

namespace sidecar::proxy {

/// The parts of the sidecar a request may reach. All of them live on the engine executor.
struct engine_parts {
  vault::client& upstream;
  const auth::token_manager& tokens;
  cache::kv_cache& cache;
  lease::lease_store& leases;
  const lease::lease_stats& lease_stats;
  metrics::registry& registry;
  const core::clock& clock;
  /// The vault client's gate, for the upstream state in health and metrics; may be null.
  const vault::upstream_gate* gate = nullptr;
};

/// Answers every allowed request (the pattern-2 proxy of the brief): KV reads from the cache
/// with `X-Cache` and `Age`, dynamic secrets from the lease store, writes forwarded with the
/// sidecar's token (then the secret's cache entries dropped), `/v1/sys/health` passed through
/// without a token, lease housekeeping (`sys/leases/*`) answered from the lease store, the Vault
/// CLI's KV mount preflight forwarded and cached like a KV read, the token self-calls answered
/// locally about the caller's token (token_self.hpp), and the local endpoints (health, metrics,
/// cache-clear, quit). A client's
/// X-Vault-Token and Authorization are never forwarded: only the sidecar's own token goes out.
///
/// Thread affinity: async_handle may be called from any session strand; the work runs on the
/// engine executor (the io thread of the token manager, cache and lease store): with more than
/// one io thread each request hops there and back. Cancellation: follows the caller.
/// Errors: answered as HTTP in Vault's shape — unreachable or TLS failure 502, deadline 504, no
/// token 503; Vault's own error statuses and bodies are relayed unchanged.
class forwarding_handler final : public request_handler {
 public:
  forwarding_handler(net::any_io_executor engine, bool hop_to_engine, engine_parts parts,
                     std::function<void()> request_quit);

  net::awaitable<handler_answer> async_handle(const string_request& request,
                                              const route_decision& decision) override;
  /// A fresh KV hit or held creds, when the engine runs on the caller's thread
  /// (`listener.threads` = 1); with more threads the engine is elsewhere and this is nullopt.
  std::optional<handler_answer> try_answer_at_once(const string_request& request,
                                                   const route_decision& decision) override;

  /// Health reports ready from now on: logged in and the [secrets] fetched at start-up.
  void mark_started() noexcept { started_ = true; }

  /// Where health gets the per-client request counts (the listener keeps them); before start.
  void set_client_counts(std::function<std::vector<client_requests>()> counts) {
    client_counts_ = std::move(counts);
  }

 private:
  net::awaitable<handler_answer> handle_on_engine(const string_request& request,
                                                  const route_decision& decision);
  net::awaitable<handler_answer> read_kv(const string_request& request,
                                         const route_decision& decision);
  net::awaitable<handler_answer> read_dynamic(const route_decision& decision);
  /// The HTTP answer for what the cache or the lease store gave; shared by both paths.
  static handler_answer kv_answer(cache::cached_answer cached);
  static handler_answer creds_answer(lease::dynamic_answer got);
  net::awaitable<string_response> forward(const string_request& request,
                                          const route_decision& decision, bool with_token);
  /// sys/leases/renew|lookup|revoke from the lease store (lease_housekeeping.hpp); never Vault.
  string_response answer_lease(const string_request& request, const route_decision& decision);
  string_response health();
  string_response metrics();
  string_response clear_cache(const string_request& request);
  string_response quit();

  net::any_io_executor engine_;
  bool hop_to_engine_;
  engine_parts parts_;
  std::function<void()> request_quit_;
  engine_metrics engine_metrics_;
  bool started_ = false;
  std::function<std::vector<client_requests>()> client_counts_;
  core::wall_time issued_;  ///< the issue_time of every caller's token in token self-calls
};

}  // namespace sidecar::proxy
