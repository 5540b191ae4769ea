#pragma once

#include <cstddef>
#include <string_view>

namespace sidecar::core {

/// The deepest nesting of arrays and objects accepted in JSON from outside the process (Vault's
/// answers). Vault's envelopes nest a few levels and a secret's own values a few more. Parsing
/// any depth is safe, but dump(), comparison and the cleansing walks over a parsed value recurse
/// once per level: a 100 KB answer of nested brackets would overflow the stack.
inline constexpr std::size_t max_json_depth = 128;

/// Whether the arrays and objects in `text` nest at most `limit` levels deep. A scan of the
/// bytes, not a parse: brackets inside strings are skipped (escapes honoured), and whether the
/// text is valid JSON is left to the parser. Pure.
[[nodiscard]] bool json_depth_within(std::string_view text,
                                     std::size_t limit = max_json_depth) noexcept;

}  // namespace sidecar::core
