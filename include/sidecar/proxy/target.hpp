#pragma once

#include <sidecar/core/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace sidecar::proxy {

/// Longest request target accepted; Vault paths are far shorter, and a bound keeps hostile
/// input cheap to reject.
inline constexpr std::size_t max_target_length = 4096;

/// The value of one hexadecimal digit of a percent-escape, or -1: one definition for the
/// target's decoding here and the query's (query_filter.hpp).
[[nodiscard]] constexpr int hex_digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// A request target reduced to the one form that policy is checked against and that is sent
/// to Vault, so what was allowed is exactly what is forwarded.
struct normalised_target {
  /// Percent-decoded exactly once, `//` collapsed, `.` and `..` resolved; starts with '/'.
  /// Keeps a trailing '/' (LIST on a folder). May contain any byte >= 0x20 except '\' and DEL,
  /// including a literal '%' from a decoded %25, which is never decoded again.
  std::string path;
  /// The query as received, without the '?': validated, not decoded (Vault decodes it).
  std::string query;

  /// The origin-form target to send upstream: `path` percent-encoded again where a byte is not
  /// a plain path character (so a decoded "%" goes out as %25 and "?" as %3F), then `?query`.
  [[nodiscard]] std::string upstream_target() const;

  friend bool operator==(const normalised_target&, const normalised_target&) = default;
};

/// Normalises an HTTP request target (RFC 9112 §3.2).
///
/// Accepts origin-form ("/v1/x?y") and absolute-form ("http://host:8100/v1/x"), whose scheme and
/// authority are dropped. Refuses (proxy::errc) anything else: over-long targets, control bytes,
/// spaces, non-ASCII and '#' anywhere; invalid percent-encoding anywhere; %00 and other decoded
/// control bytes; backslashes, raw or decoded (a Windows-style separator is refused rather than
/// guessed at); a ".." above the root (refused rather than clamped, since no honest client sends
/// one). A decoded %2F is a separator like any other '/' and takes part in `..` resolution.
[[nodiscard]] result<normalised_target> normalise_target(std::string_view target);

}  // namespace sidecar::proxy
