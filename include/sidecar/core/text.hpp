#pragma once

#include <exception>
#include <string>
#include <string_view>

// Small text helpers more than one module needs, so each idea is written once. Pure.

namespace sidecar::core {

/// `text` without leading and trailing spaces and tabs: the blanks of an INI line and HTTP's
/// optional whitespace (RFC 9110 OWS). A newline is not a blank here.
[[nodiscard]] std::string_view trim_blanks(std::string_view text) noexcept;

/// `text` without leading and trailing std::isspace characters (" \t\n\r\f\v"): what a
/// credential file may end with, and what kainjow trims around a mustache tag's name.
[[nodiscard]] std::string_view trim_whitespace(std::string_view text) noexcept;

/// `text` in double quotes, for an error message that must show where a value starts and ends.
[[nodiscard]] std::string quoted(std::string_view text);

/// Vault's API prefix, "/v1/".
inline constexpr std::string_view api_prefix = "/v1/";

/// A Vault path without the API prefix: "/v1/kv/data/x" is "kv/data/x"; anything else as it is.
[[nodiscard]] std::string_view without_api_prefix(std::string_view path) noexcept;

/// As without_api_prefix, and a path written with a leading '/' only ("/kv/data/x") loses that
/// one '/': how a configured path is compared with a Vault path.
[[nodiscard]] std::string_view without_api_prefix_or_slash(std::string_view path) noexcept;

/// What a coroutine that ended with an exception threw, for a log line: its what(), or
/// "unknown exception" for one that is not a std::exception. `failure` is not null.
[[nodiscard]] std::string exception_text(const std::exception_ptr& failure);

}  // namespace sidecar::core
