#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace sidecar::config {

/// One thing wrong with a configuration, located so the operator can fix it without guessing.
/// Printed as `file:line: section.key: reason`; a problem with no line (a cross-section rule)
/// omits `:line`, one from the environment reads `env VAULT_ADDR: reason`.
struct problem {
  std::string file;      ///< the config file; empty when the value came from the environment
  std::size_t line = 0;  ///< 1-based; 0 when the problem is not on one line
  std::string subject;   ///< "cache.ttl", "template.app", "env VAULT_SKIP_VERIFY"; may be empty
  std::string reason;

  [[nodiscard]] std::string to_string() const;

  friend bool operator==(const problem&, const problem&) = default;
};

/// Problems in reading order: file problems by line (whole-file ones after them), then the
/// environment's. The order is stable for problems on one line.
void sort_problems(std::vector<problem>& problems);

}  // namespace sidecar::config
