#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace sidecar::proxy {

/// An answer whose bytes are already held in memory (a cached KV answer, a held lease's creds):
/// status, header lines pre-serialised once, body, plus a few short per-request lines (X-Cache,
/// Age). The session writes it as one gathered write of the head and the body: no Beast message
/// built, no body copied, no heap allocation per request. The bytes are exactly what Beast writes
/// for the same message (tested against Beast), so a client cannot tell the two paths apart.
///
/// `owner` keeps the memory behind `fields` and `body` alive until the write is done; whoever
/// holds those bytes cleanses them when the last owner lets go.
///
/// Thread affinity: a value; used by one session at a time. Errors: none; a per-request line
/// that does not fit the inline space is a broken invariant (the callers' lines are short).
class ready_answer {
 public:
  /// `status` is 2xx but not 204 (it has a body); `fields` are complete "Name: value\r\n" lines.
  ready_answer(unsigned status, std::shared_ptr<const void> owner, std::string_view fields,
               std::string_view body) noexcept;

  /// Appends "name: value\r\n" after `fields`: the per-request lines, in order.
  void add_field(std::string_view name, std::string_view value);

  /// Writes the status line and header block into `out` (cleared first): `version` 10 or 11,
  /// a Connection line as Beast's keep_alive() sets it, `Cache-Control: no-store`, Content-Length
  /// last, then the blank line.
  void serialise_head(std::string& out, unsigned version, bool keep_alive) const;

  /// The value of a per-request line added with add_field, or empty (for the audit trail).
  [[nodiscard]] std::string_view added_field(std::string_view name) const noexcept;

  [[nodiscard]] unsigned status() const noexcept { return status_; }
  [[nodiscard]] std::string_view body() const noexcept { return body_; }

 private:
  unsigned status_;
  std::shared_ptr<const void> owner_;
  std::string_view fields_;
  std::string_view body_;
  std::array<char, 96> extra_{};  // the per-request lines: inline, no allocation
  std::size_t extra_size_ = 0;
};

}  // namespace sidecar::proxy
