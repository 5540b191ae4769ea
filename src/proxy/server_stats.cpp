#include <sidecar/proxy/server_stats.hpp>

#include <string>

namespace sidecar::proxy {

namespace {
constexpr std::string_view requests_help = "Requests answered by the local listener.";
}  // namespace

server_stats::server_stats(metrics::registry& registry)
    : open_connections(registry.make_gauge("listener_open_connections",
                                           "Connections open on the local listener.")),
      connections_accepted(registry.make_counter("listener_connections_accepted_total",
                                                 "Connections accepted by the local listener.")),
      connections_refused(
          registry.make_counter("listener_connections_refused_total",
                                "Connections closed at once because max_connections were open.")),
      registry_(registry) {
  for (std::size_t i = 0; i < route_class_count; ++i) {
    latency_[i] = &registry.make_histogram(
        "request_duration_seconds", "Time from a request's header to its answer ready to write.",
        metrics::histogram::latency_buckets(),
        {{"route", std::string{to_string(static_cast<route_class>(i))}}});
  }
}

metrics::counter& server_stats::requests(route_class kind, unsigned status) {
  const auto make = [&] {
    return &registry_.make_counter(
        "requests_total", requests_help,
        {{"route", std::string{to_string(kind)}}, {"code", std::to_string(status)}});
  };
  if (status < first_status || status >= first_status + status_slots) return *make();
  auto& slot = requests_[static_cast<std::size_t>(kind)][status - first_status];
  auto* cached = slot.load(std::memory_order_acquire);
  if (cached == nullptr) {
    // Two threads may race here; the registry returns the same counter to both.
    cached = make();
    slot.store(cached, std::memory_order_release);
  }
  return *cached;
}

server_stats::client_counters server_stats::for_client(std::string_view client) {
  const metrics::label_set labels{{"client", std::string{client}}};
  return client_counters{
      .requests = &registry_.make_counter(
          "client_requests_total", "Requests per [client.NAME] (\"-\": matching none).", labels),
      .refusals = &registry_.make_counter(
          "client_refusals_total", "Requests refused per [client.NAME] (\"-\": matching none).",
          labels)};
}

void server_stats::client_connection_refused(std::string_view client) {
  registry_
      .make_counter("client_connections_refused_total",
                    "Connections closed at once because the client's max_connections were open.",
                    {{"client", std::string{client}}})
      .inc();
}

void server_stats::request_done(route_class kind, unsigned status,
                                std::chrono::nanoseconds elapsed) {
  requests(kind, status).inc();
  latency_[static_cast<std::size_t>(kind)]->observe(elapsed);
}

}  // namespace sidecar::proxy
