#include <sidecar/config/ini_document.hpp>

#include <sidecar/core/text.hpp>

#include <algorithm>
#include <map>

namespace sidecar::config {
namespace {

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

// The line without its inline comment. A quote only protects a comment marker when it is
// closed on the same line; an apostrophe in `it's ; note` is then just a character.
std::string_view strip_inline_comment(std::string_view line) noexcept {
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\'' || c == '"') {
      const auto close = line.find(c, i + 1);
      if (close != std::string_view::npos) i = close;
    } else if (is_blank(c) && i + 1 < line.size() && (line[i + 1] == ';' || line[i + 1] == '#')) {
      return line.substr(0, i);
    }
  }
  return line;
}

bool has_blank(std::string_view text) noexcept {
  return std::any_of(text.begin(), text.end(), is_blank);
}

}  // namespace

ini_document parse_ini(std::string_view text, const std::string& file) {
  ini_document doc;
  std::map<std::string, std::size_t, std::less<>> section_lines;
  std::map<std::string, std::size_t, std::less<>> key_lines;  // of the current section
  std::string current;                                        // section name, for locating problems
  bool skipping = false;  // under a repeated or malformed header: its entries are not read

  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF files

    const auto stripped = core::trim_blanks(line);
    if (stripped.empty() || stripped.front() == ';' || stripped.front() == '#') continue;
    const auto content = core::trim_blanks(strip_inline_comment(stripped));
    const auto problem_at = [&](std::string subject, std::string reason) {
      doc.problems.push_back({file, line_no, std::move(subject), std::move(reason)});
    };

    if (content.front() == '[') {
      if (content.back() != ']') {
        problem_at(current, "section header must end with ]");
        skipping = true;
        continue;
      }
      const auto name = core::trim_blanks(content.substr(1, content.size() - 2));
      if (name.empty() || has_blank(name)) {
        problem_at(std::string{name}, "invalid section name [" + std::string{name} + "]");
        skipping = true;
        continue;
      }
      key_lines.clear();
      current = name;
      if (const auto seen = section_lines.find(name); seen != section_lines.end()) {
        problem_at(std::string{name}, "section [" + std::string{name} +
                                          "] appears twice (first at line " +
                                          std::to_string(seen->second) + ")");
        skipping = true;
        continue;
      }
      skipping = false;
      section_lines.emplace(std::string{name}, line_no);
      doc.sections.push_back({std::string{name}, line_no, {}});
      continue;
    }

    const auto equals = content.find('=');
    if (equals == std::string_view::npos) {
      problem_at(current,
                 "expected \"key = value\" or \"[section]\", got \"" + std::string{content} + "\"");
      continue;
    }
    const auto key = core::trim_blanks(content.substr(0, equals));
    const auto value = core::trim_blanks(content.substr(equals + 1));
    if (key.empty()) {
      problem_at(current, "missing key before =");
      continue;
    }
    const std::string subject =
        current.empty() ? std::string{key} : current + '.' + std::string{key};
    if (has_blank(key)) {
      problem_at(subject, "a key cannot contain blanks");
      continue;
    }
    if (skipping) continue;
    if (doc.sections.empty()) {
      problem_at(subject, "key outside any [section]");
      continue;
    }
    if (const auto seen = key_lines.find(key); seen != key_lines.end()) {
      problem_at(subject, "duplicate key (first set at line " + std::to_string(seen->second) + ")");
      continue;
    }
    key_lines.emplace(std::string{key}, line_no);
    doc.sections.back().entries.push_back({std::string{key}, std::string{value}, line_no});
  }
  return doc;
}

}  // namespace sidecar::config
