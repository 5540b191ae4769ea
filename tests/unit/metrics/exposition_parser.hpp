#pragma once

// A strict reader of the Prometheus text exposition format 0.0.4, for tests: it checks that what
// the registry renders is well formed (and what a scraper would read), and lets tests look up a
// sample by name and labels. Lives with the tests because nothing in the daemon reads metrics.

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::metrics::testing {

struct sample {
  std::string name;                           ///< full series name, e.g. vault_sidecar_x_bucket
  std::map<std::string, std::string> labels;  ///< values unescaped
  double value = 0.0;
};

struct family_info {
  std::string help;  ///< unescaped
  std::string type;  ///< counter | gauge | histogram | summary | untyped
};

struct exposition {
  std::map<std::string, family_info> families;
  std::vector<sample> samples;

  /// The value of the one sample with exactly these labels, if present.
  [[nodiscard]] std::optional<double> value(
      std::string_view name, const std::map<std::string, std::string>& labels = {}) const;
  /// Sum over every sample of `name` whose labels include `subset`.
  [[nodiscard]] double sum(std::string_view name,
                           const std::map<std::string, std::string>& subset = {}) const;
};

/// Throws parse_error naming the 1-based line on anything a Prometheus scraper would reject:
/// bad names, bad escapes, unknown TYPE, a TYPE after its samples, a second TYPE, bad numbers.
struct parse_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[nodiscard]] exposition parse_exposition(std::string_view text);

}  // namespace sidecar::metrics::testing
