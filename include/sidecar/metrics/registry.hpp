#pragma once

#include <sidecar/metrics/counter.hpp>
#include <sidecar/metrics/gauge.hpp>
#include <sidecar/metrics/histogram.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sidecar::metrics {

/// Label name/value pairs of one series, in the order they are rendered.
using label_set = std::vector<std::pair<std::string, std::string>>;

/// Owns every metric of the process and renders them in the Prometheus text exposition format
/// 0.0.4 (`GET /sidecar/v1/metrics`).
///
/// Components register their metrics once, at construction, into a stats struct of references
/// (one struct per component, as in Envoy) and update them without any lookup. Names get the
/// `vault_sidecar_` prefix here, so callers pass the short name ("requests_total").
///
/// Registering the same name and labels again returns the existing metric, so two instances of
/// a component may share series. Families and series render in registration order.
///
/// Thread affinity: any thread. Registration and rendering take a mutex (start-up and scrapes
/// only); updates are lock-free atomics. Errors: an invalid metric or label name, or reusing a
/// name with another type or help text, is a programming error and throws
/// std::invalid_argument.
class registry final {
 public:
  static constexpr std::string_view prefix = "vault_sidecar_";

  registry();
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  counter& make_counter(std::string_view name, std::string_view help, label_set labels = {});
  gauge& make_gauge(std::string_view name, std::string_view help, label_set labels = {});
  /// All series of one histogram family share the bounds given with the first registration.
  histogram& make_histogram(std::string_view name, std::string_view help,
                            std::vector<double> upper_bounds, label_set labels = {});

  /// The text exposition of every family (Content-Type `text/plain; version=0.0.4`).
  [[nodiscard]] std::string render() const;

  static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct family;
  family& find_or_add_family(std::string_view name, std::string_view help, int type);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<family>> families_;
};

}  // namespace sidecar::metrics
