#include <sidecar/metrics/registry.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sidecar::metrics {
namespace {

enum metric_type : int { counter_type, gauge_type, histogram_type };

constexpr std::string_view type_name(int type) noexcept {
  switch (type) {
    case counter_type:
      return "counter";
    case gauge_type:
      return "gauge";
    default:
      return "histogram";
  }
}

bool is_alpha_or_underscore(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]* (data model); colons are reserved for recording
// rules, so they are refused here.
bool valid_metric_name(std::string_view name) noexcept {
  if (name.empty() || !is_alpha_or_underscore(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_alpha_or_underscore(c) || is_digit(c); });
}

// Label names: [a-zA-Z_][a-zA-Z0-9_]*, and `__` is reserved for Prometheus itself.
bool valid_label_name(std::string_view name) noexcept {
  return valid_metric_name(name) && !name.starts_with("__");
}

void check_labels(const label_set& labels, bool is_histogram) {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto& name = labels[i].first;
    if (!valid_label_name(name) || (is_histogram && name == "le")) {
      throw std::invalid_argument("invalid metric label name: " + name);
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (labels[j].first == name) throw std::invalid_argument("duplicate label name: " + name);
    }
  }
}

// Label values escape backslash, double quote and newline (exposition format 0.0.4).
void append_label_value(std::string& out, std::string_view value) {
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

// HELP text escapes only backslash and newline.
void append_help(std::string& out, std::string_view help) {
  for (const char c : help) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

// Go's ParseFloat reads what fmt's shortest round-trip form writes, plus these spellings.
std::string format_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

// `{a="x",le="0.5"}`; nothing at all when there are no labels.
void append_labels(std::string& out, const label_set& labels, std::string_view le = {}) {
  if (labels.empty() && le.empty()) return;
  out += '{';
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    append_label_value(out, value);
    out += '"';
  }
  if (!le.empty()) {
    if (!first) out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

}  // namespace

struct registry::family {
  struct series {
    label_set labels;
    std::unique_ptr<metrics::counter> counter;
    std::unique_ptr<metrics::gauge> gauge;
    std::unique_ptr<metrics::histogram> histogram;
  };

  std::string name;  // with the prefix
  std::string help;
  int type = counter_type;
  std::vector<series> members;

  series* find(const label_set& labels) {
    const auto it = std::find_if(members.begin(), members.end(),
                                 [&](const series& s) { return s.labels == labels; });
    return it == members.end() ? nullptr : &*it;
  }
};

registry::registry() = default;
registry::~registry() = default;

registry::family& registry::find_or_add_family(std::string_view name, std::string_view help,
                                               int type) {
  if (!valid_metric_name(name)) {
    throw std::invalid_argument("invalid metric name: " + std::string{name});
  }
  const auto full_name = std::string{prefix} + std::string{name};
  for (const auto& f : families_) {
    if (f->name != full_name) continue;
    if (f->type != type || f->help != help) {
      throw std::invalid_argument("metric registered twice with another type or help: " +
                                  full_name);
    }
    return *f;
  }
  auto added = std::make_unique<family>();
  added->name = full_name;
  added->help = std::string{help};
  added->type = type;
  families_.push_back(std::move(added));
  return *families_.back();
}

counter& registry::make_counter(std::string_view name, std::string_view help, label_set labels) {
  check_labels(labels, false);
  const std::lock_guard lock{mutex_};
  auto& f = find_or_add_family(name, help, counter_type);
  if (auto* existing = f.find(labels)) return *existing->counter;
  auto& added = f.members.emplace_back();
  added.labels = std::move(labels);
  added.counter = std::make_unique<counter>();
  return *added.counter;
}

gauge& registry::make_gauge(std::string_view name, std::string_view help, label_set labels) {
  check_labels(labels, false);
  const std::lock_guard lock{mutex_};
  auto& f = find_or_add_family(name, help, gauge_type);
  if (auto* existing = f.find(labels)) return *existing->gauge;
  auto& added = f.members.emplace_back();
  added.labels = std::move(labels);
  added.gauge = std::make_unique<gauge>();
  return *added.gauge;
}

histogram& registry::make_histogram(std::string_view name, std::string_view help,
                                    std::vector<double> upper_bounds, label_set labels) {
  check_labels(labels, true);
  const std::lock_guard lock{mutex_};
  auto& f = find_or_add_family(name, help, histogram_type);
  if (auto* existing = f.find(labels)) return *existing->histogram;
  if (!f.members.empty()) {
    const auto bounds = f.members.front().histogram->upper_bounds();
    upper_bounds.assign(bounds.begin(), bounds.end());
  }
  auto created = std::make_unique<histogram>(std::move(upper_bounds));
  auto& added = f.members.emplace_back();
  added.labels = std::move(labels);
  added.histogram = std::move(created);
  return *added.histogram;
}

std::string registry::render() const {
  std::string out;
  const std::lock_guard lock{mutex_};
  for (const auto& f : families_) {
    out += "# HELP ";
    out += f->name;
    out += ' ';
    append_help(out, f->help);
    out += "\n# TYPE ";
    out += f->name;
    out += ' ';
    out += type_name(f->type);
    out += '\n';
    for (const auto& s : f->members) {
      if (f->type == counter_type) {
        out += f->name;
        append_labels(out, s.labels);
        out += ' ';
        out += std::to_string(s.counter->value());
        out += '\n';
      } else if (f->type == gauge_type) {
        out += f->name;
        append_labels(out, s.labels);
        out += ' ';
        out += format_number(s.gauge->value());
        out += '\n';
      } else {
        const auto snap = s.histogram->read();
        const auto bounds = s.histogram->upper_bounds();
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < snap.bucket_counts.size(); ++i) {
          cumulative += snap.bucket_counts[i];
          out += f->name;
          out += "_bucket";
          append_labels(out, s.labels, i < bounds.size() ? format_number(bounds[i]) : "+Inf");
          out += ' ';
          out += std::to_string(cumulative);
          out += '\n';
        }
        out += f->name;
        out += "_sum";
        append_labels(out, s.labels);
        out += ' ';
        out += format_number(snap.sum);
        out += '\n';
        out += f->name;
        out += "_count";
        append_labels(out, s.labels);
        out += ' ';
        out += std::to_string(cumulative);
        out += '\n';
      }
    }
  }
  return out;
}

}  // namespace sidecar::metrics
