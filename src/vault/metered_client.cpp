#include <sidecar/vault/metered_client.hpp>

#include <chrono>
#include <string>

namespace sidecar::vault {

metered_client::metered_client(client& inner, metrics::registry& registry)
    : inner_{inner},
      registry_{registry},
      latency_{registry.make_histogram("upstream_request_duration_seconds",
                                       "Time from sending a request to Vault to its answer",
                                       metrics::histogram::latency_buckets())} {}

net::awaitable<result<response>> metered_client::async_send(request req) {
  const auto started = std::chrono::steady_clock::now();
  auto answer = co_await inner_.async_send(std::move(req));
  // The sidecar's own 429 (paused, or no budget) never reached Vault: the gate counts it.
  if (answer && answer->local) co_return answer;
  latency_.observe(std::chrono::steady_clock::now() - started);
  if (answer) {
    requests_with(answer->status).inc();
  } else {
    errors_with(answer.error()).inc();
  }
  co_return answer;
}

metrics::counter& metered_client::requests_with(unsigned status) {
  auto& slot = by_status_[status];
  if (slot == nullptr) {
    slot = &registry_.make_counter("upstream_requests_total", "Requests Vault answered, by status",
                                   {{"code", std::to_string(status)}});
  }
  return *slot;
}

metrics::counter& metered_client::errors_with(const error_code& ec) {
  auto& slot = by_error_[ec.value()];
  if (slot == nullptr) {
    const std::string label{ec.category() == error_category() ? name(static_cast<errc>(ec.value()))
                                                              : std::string_view{"other"}};
    slot = &registry_.make_counter("upstream_errors_total",
                                   "Requests to Vault that got no answer, by reason",
                                   {{"error", label}});
  }
  return *slot;
}

}  // namespace sidecar::vault
