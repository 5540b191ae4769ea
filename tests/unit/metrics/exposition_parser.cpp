#include "exposition_parser.hpp"

#include <cmath>
#include <cstdlib>
#include <set>

namespace sidecar::metrics::testing {
namespace {

bool name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

class line_reader {
 public:
  line_reader(std::string_view line, std::size_t number) : line_(line), number_(number) {}

  [[noreturn]] void fail(const std::string& why) const {
    throw parse_error("line " + std::to_string(number_) + ": " + why + ": " + std::string{line_});
  }
  bool at_end() const { return pos_ >= line_.size(); }
  char peek() const { return at_end() ? '\0' : line_[pos_]; }
  bool consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void expect(char c) {
    if (!consume(c)) fail(std::string{"expected '"} + c + "'");
  }
  std::string name(bool allow_colon = true) {
    const auto start = pos_;
    if (at_end() || !name_start(line_[pos_]) || (!allow_colon && line_[pos_] == ':')) {
      fail("expected a name");
    }
    while (!at_end() && name_char(line_[pos_]) && (allow_colon || line_[pos_] != ':')) ++pos_;
    return std::string{line_.substr(start, pos_ - start)};
  }
  std::string rest() {
    auto text = line_.substr(std::min(pos_, line_.size()));
    pos_ = line_.size();
    return std::string{text};
  }
  std::string token() {
    const auto start = pos_;
    while (!at_end() && line_[pos_] != ' ') ++pos_;
    return std::string{line_.substr(start, pos_ - start)};
  }
  // A double-quoted label value with \\, \" and \n escapes.
  std::string quoted() {
    expect('"');
    std::string value;
    for (;;) {
      if (at_end()) fail("unterminated label value");
      const char c = line_[pos_++];
      if (c == '"') return value;
      if (c != '\\') {
        value += c;
        continue;
      }
      if (at_end()) fail("dangling backslash");
      const char e = line_[pos_++];
      if (e == '\\')
        value += '\\';
      else if (e == '"')
        value += '"';
      else if (e == 'n')
        value += '\n';
      else
        fail("invalid escape in label value");
    }
  }

 private:
  std::string_view line_;
  std::size_t number_;
  std::size_t pos_ = 0;
};

std::string unescape_help(const line_reader& reader, std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (++i == text.size()) reader.fail("dangling backslash in HELP");
    if (text[i] == '\\')
      out += '\\';
    else if (text[i] == 'n')
      out += '\n';
    else
      out += std::string{"\\"} + text[i];  // other escapes are kept as written
  }
  return out;
}

double parse_value(const line_reader& reader, const std::string& text) {
  if (text == "+Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  if (text == "NaN") return std::nan("");
  if (text.empty()) reader.fail("missing value");
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) reader.fail("invalid value");
  return value;
}

// The family a series belongs to: histogram series carry _bucket, _sum or _count.
std::string family_of(const std::string& series, const std::map<std::string, family_info>& known) {
  for (const std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (series.size() > suffix.size() && series.ends_with(suffix)) {
      const auto base = series.substr(0, series.size() - suffix.size());
      const auto it = known.find(base);
      if (it != known.end() && (it->second.type == "histogram" || it->second.type == "summary")) {
        return base;
      }
    }
  }
  return series;
}

}  // namespace

exposition parse_exposition(std::string_view text) {
  exposition parsed;
  std::set<std::string> families_with_samples;
  std::size_t number = 0;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    if (newline == std::string_view::npos) {
      throw parse_error("the exposition must end with a newline");
    }
    const auto line = text.substr(0, newline);
    text.remove_prefix(newline + 1);
    ++number;
    line_reader reader{line, number};
    if (line.empty()) continue;
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      const bool is_help = line[2] == 'H';
      line_reader meta{line.substr(7), number};
      const auto name = meta.name();
      meta.expect(' ');
      auto& info = parsed.families[name];
      if (is_help) {
        if (!info.help.empty()) reader.fail("second HELP");
        info.help = unescape_help(reader, meta.rest());
      } else {
        if (!info.type.empty()) reader.fail("second TYPE");
        if (families_with_samples.contains(name)) reader.fail("TYPE after samples");
        info.type = meta.rest();
        static const std::set<std::string> types{"counter", "gauge", "histogram", "summary",
                                                 "untyped"};
        if (!types.contains(info.type)) reader.fail("unknown TYPE");
      }
      continue;
    }
    if (line.front() == '#') continue;  // other comments are allowed
    sample s;
    s.name = reader.name();
    if (reader.consume('{')) {
      while (!reader.consume('}')) {
        const auto label = reader.name(false);
        reader.expect('=');
        const auto value = reader.quoted();
        if (!s.labels.emplace(label, value).second) reader.fail("duplicate label");
        if (!reader.consume(',') && reader.peek() != '}') reader.fail("expected ',' or '}'");
      }
    }
    reader.expect(' ');
    s.value = parse_value(reader, reader.token());
    if (reader.consume(' ')) {  // optional timestamp in milliseconds
      const auto ts = reader.token();
      if (ts.empty() || ts.find_first_not_of("-0123456789") != std::string::npos) {
        reader.fail("invalid timestamp");
      }
    }
    if (!reader.at_end()) reader.fail("trailing characters");
    families_with_samples.insert(family_of(s.name, parsed.families));
    parsed.samples.push_back(std::move(s));
  }
  return parsed;
}

std::optional<double> exposition::value(std::string_view name,
                                        const std::map<std::string, std::string>& labels) const {
  for (const auto& s : samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return std::nullopt;
}

double exposition::sum(std::string_view name,
                       const std::map<std::string, std::string>& subset) const {
  double total = 0.0;
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool matches = true;
    for (const auto& [label, value] : subset) {
      const auto it = s.labels.find(label);
      if (it == s.labels.end() || it->second != value) matches = false;
    }
    if (matches) total += s.value;
  }
  return total;
}

}  // namespace sidecar::metrics::testing
