#pragma once

#include <sidecar/metrics/registry.hpp>
#include <sidecar/proxy/router.hpp>

#include <array>
#include <atomic>
#include <chrono>

namespace sidecar::proxy {

/// The listener's metrics, registered once (Envoy-style stats struct): requests by route class
/// and status code, latency by route class, open, accepted and refused connections.
///
/// Thread affinity: any thread. A request counter for a (class, code) pair is created on its
/// first use and cached in an atomic slot, so the hot path is an index and an atomic add.
class server_stats final {
 public:
  explicit server_stats(metrics::registry& registry);

  /// One answered request: counts it and observes its latency (header read to answer ready).
  void request_done(route_class kind, unsigned status, std::chrono::nanoseconds elapsed);

  metrics::gauge& open_connections;
  metrics::counter& connections_accepted;
  metrics::counter& connections_refused;  ///< over listener_limits::max_connections

  /// The request and refusal counters of one [client.NAME] ("-": a caller matching none).
  /// Looked up once per connection and client, then kept by the session.
  struct client_counters {
    metrics::counter* requests;
    metrics::counter* refusals;
  };
  [[nodiscard]] client_counters for_client(std::string_view client);
  /// Connections closed at once because `client`'s own max_connections were open.
  void client_connection_refused(std::string_view client);

 private:
  static constexpr unsigned first_status = 100;
  static constexpr unsigned status_slots = 500;  // 100..599

  metrics::counter& requests(route_class kind, unsigned status);

  metrics::registry& registry_;
  std::array<metrics::histogram*, route_class_count> latency_{};
  std::array<std::array<std::atomic<metrics::counter*>, status_slots>, route_class_count>
      requests_{};
};

}  // namespace sidecar::proxy
