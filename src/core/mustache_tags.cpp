#include <sidecar/core/mustache_tags.hpp>

#include <sidecar/core/text.hpp>

#include <optional>

namespace sidecar::core {
namespace {

constexpr auto npos = std::string_view::npos;
using kind = mustache_tag_problem::kind;

/// One tag's name, or nothing for a comment. `inside` is what stands between the braces.
boost::system::result<std::optional<std::string_view>, kind> tag_name(std::string_view inside,
                                                                      bool triple) {
  auto name = trim_whitespace(inside);
  // In {{{...}}} every character is part of the name, sigils included.
  if (!triple && !name.empty()) {
    if (name.front() == '!') return std::optional<std::string_view>{};
    if (name.front() == '&') {
      name = trim_whitespace(name.substr(1));
    } else if (std::string_view{"#^/>="}.find(name.front()) != npos) {
      return kind::unsupported;
    }
  }
  if (name.empty()) return kind::empty;
  return std::optional{name};
}

}  // namespace

boost::system::result<std::vector<std::string_view>, mustache_tag_problem> mustache_variables(
    std::string_view text) {
  std::vector<std::string_view> names;
  for (auto at = text.find("{{"); at != npos; at = text.find("{{", at)) {
    const bool triple = at + 2 < text.size() && text[at + 2] == '{';
    const std::string_view end = triple ? "}}}" : "}}";
    const auto start = at + (triple ? 3 : 2);
    const auto close = text.find(end, start);
    if (close == npos) return mustache_tag_problem{kind::unclosed, at, {}};
    const auto tag = text.substr(at, close + end.size() - at);
    const auto name = tag_name(text.substr(start, close - start), triple);
    if (!name) return mustache_tag_problem{name.error(), at, tag};
    if (*name) names.push_back(**name);
    at = close + end.size();
  }
  return names;
}

}  // namespace sidecar::core
