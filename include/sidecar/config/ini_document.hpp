#pragma once

#include <sidecar/config/problem.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::config {

/// `key = value` as written, trimmed, inline comment removed.
struct ini_entry {
  std::string key;
  std::string value;
  std::size_t line = 0;
};

/// `[name]` and the entries under it, in file order.
struct ini_section {
  std::string name;
  std::size_t line = 0;
  std::vector<ini_entry> entries;
};

/// The syntax of an INI file, before any meaning is given to sections or keys: sections in file
/// order plus every syntax problem (a line that is neither a section, an entry, a comment nor
/// blank; an entry before any section; a section or a key given twice).
///
/// Comments: a line whose first non-blank character is `;` or `#`, or the rest of a line from a
/// blank followed by `;` or `#`. A `;` or `#` inside a matched pair of quotes does not start a
/// comment, so `command = sh -c 'a ; b'` keeps its argument. Values are trimmed; nothing else
/// (quotes, escapes) is interpreted here.
struct ini_document {
  std::vector<ini_section> sections;
  std::vector<problem> problems;
};

/// Pure: splits `text` (the contents of `file`, used only to locate problems) into sections.
[[nodiscard]] ini_document parse_ini(std::string_view text, const std::string& file);

}  // namespace sidecar::config
