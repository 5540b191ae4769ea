#pragma once

#include <boost/system/result.hpp>

#include <cstddef>
#include <string_view>
#include <vector>

// The one reading of mustache tags: config validation of [env] values and the template renderer
// both use it, so the configuration cannot accept a text the renderer would refuse.

namespace sidecar::core {

/// Why the tags of a text cannot be read as the sidecar's templates allow.
struct mustache_tag_problem {
  enum class kind {
    unclosed,     ///< `{{` or `{{{` without its closing braces
    empty,        ///< no name: `{{ }}`, `{{& }}`, `{{{ }}}`
    unsupported,  ///< a section, inverted section, partial or delimiter change (`{{#a}}`, ...)
  };
  kind what;
  std::size_t offset;    ///< where the tag starts in the text
  std::string_view tag;  ///< the whole tag as written; empty when unclosed
};

/// The names of the variable tags in `text`, in order: `{{a.b}}`, `{{{a.b}}}` and `{{& a.b}}`
/// all name "a.b", whitespace around it trimmed. Read as kainjow's parser reads them with the
/// default delimiters, which stay the default (`{{=...=}}` is refused). Comments (`{{! ...}}`)
/// are skipped. The names point into `text`. Pure.
[[nodiscard]] boost::system::result<std::vector<std::string_view>, mustache_tag_problem>
mustache_variables(std::string_view text);

}  // namespace sidecar::core
