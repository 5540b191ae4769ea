#pragma once

#include <sidecar/core/asio.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace sidecar::testing {

/// Ways the double can garble an answer on the wire, for the fault tests: what a broken proxy,
/// a crashing Vault or a hostile middlebox may send instead of a well-formed answer.
enum class corruption {
  malformed_json,        ///< a complete answer whose body is cut-off JSON
  truncated_body,        ///< the true Content-Length, half the body, then the connection closes
  short_content_length,  ///< a Content-Length of half the body, the whole body sent, kept open
  long_content_length,   ///< a Content-Length 100 bytes over the body, kept open (the client waits)
  http10_no_length,      ///< HTTP/1.0 without Content-Length, the body ends at close (valid HTTP)
  huge_content_length,   ///< Content-Length: 2147483648 (2 GiB), the real body, kept open
  reset_mid_body,        ///< the true Content-Length, half the body, then a TCP reset
};

/// The names the control API takes ("malformed-json", "truncated-body", ...).
[[nodiscard]] std::optional<corruption> parse_corruption(std::string_view name) noexcept;
[[nodiscard]] std::string_view name(corruption mode) noexcept;

/// What the server does with the connection once the garbled bytes are written.
enum class after_corruption { keep_open, close, reset };

/// The bytes to write instead of `answer`, and what to do next.
struct corrupted_answer {
  std::string bytes;
  after_corruption then = after_corruption::keep_open;
};

/// Serialises `answer` (status line, its headers except framing ones, body) garbled as `mode`
/// says. Pure: the double's server writes the bytes and applies `then`.
[[nodiscard]] corrupted_answer corrupt(const string_response& answer, corruption mode);

}  // namespace sidecar::testing
