#pragma once

#include <fmt/format.h>

#include <iosfwd>
#include <string>
#include <string_view>

namespace sidecar::core {

/// A string that holds a secret (token, secret_id, password, secret payload). Its bytes are
/// cleansed with OPENSSL_cleanse whenever they are released (destruction, assignment, move-from,
/// clear), and it prints as `***` through fmt, spdlog and iostreams, so a secret can reach a log
/// line only by an explicit `reveal()`.
///
/// Thread affinity: none (a value type).
class secret_string {
 public:
  secret_string() = default;
  explicit secret_string(std::string value) noexcept : value_{std::move(value)} {}
  explicit secret_string(std::string_view value) : value_{value} {}
  secret_string(const secret_string& other) = default;
  secret_string(secret_string&& other) noexcept;
  secret_string& operator=(const secret_string& other);
  secret_string& operator=(secret_string&& other) noexcept;
  ~secret_string();

  /// The secret itself: for the wire (a header, a request body), never for a log.
  [[nodiscard]] std::string_view reveal() const noexcept { return value_; }
  [[nodiscard]] bool empty() const noexcept { return value_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return value_.size(); }
  void clear() noexcept;

  friend bool operator==(const secret_string& a, const secret_string& b) noexcept {
    return a.value_ == b.value_;
  }

 private:
  std::string value_;
};

std::ostream& operator<<(std::ostream& out, const secret_string& secret);

/// Overwrites a string's whole buffer (not only its size) and empties it.
void cleanse(std::string& buffer) noexcept;

}  // namespace sidecar::core

template <>
struct fmt::formatter<sidecar::core::secret_string> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const sidecar::core::secret_string&, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format("***", ctx);
  }
};
