#pragma once

#include <sidecar/metrics/registry.hpp>
#include <sidecar/vault/client.hpp>
#include <sidecar/vault/errc.hpp>

#include <map>

namespace sidecar::vault {

/// Counts every request to Vault by the status Vault answered (`upstream_requests_total{code}`)
/// or by the transport failure that stopped it (`upstream_errors_total{error}`), and observes
/// its latency; a response::local answer is not Vault's and is not counted. Wraps the client the
/// rest of the sidecar uses, so no caller has to remember.
///
/// Thread affinity: io thread only (the wrapped client's). Cancellation and errors: those of the
/// wrapped client, passed through unchanged.
class metered_client final : public client {
 public:
  metered_client(client& inner, metrics::registry& registry);

  net::awaitable<result<response>> async_send(request req) override;

 private:
  metrics::counter& requests_with(unsigned status);
  metrics::counter& errors_with(const error_code& ec);

  client& inner_;
  metrics::registry& registry_;
  metrics::histogram& latency_;
  std::map<unsigned, metrics::counter*> by_status_;
  std::map<int, metrics::counter*> by_error_;
};

}  // namespace sidecar::vault
