#include <sidecar/config/problem.hpp>

#include <algorithm>
#include <limits>
#include <tuple>

namespace sidecar::config {

std::string problem::to_string() const {
  std::string text;
  if (!file.empty()) {
    text += file;
    if (line != 0) text += ':' + std::to_string(line);
    text += ": ";
  }
  if (!subject.empty()) text += subject + ": ";
  text += reason;
  return text;
}

void sort_problems(std::vector<problem>& problems) {
  const auto order = [](const problem& p) {
    const std::size_t line = p.line == 0 ? std::numeric_limits<std::size_t>::max() : p.line;
    return std::tuple{p.file.empty(), line};
  };
  std::stable_sort(problems.begin(), problems.end(),
                   [&](const problem& a, const problem& b) { return order(a) < order(b); });
}

}  // namespace sidecar::config
