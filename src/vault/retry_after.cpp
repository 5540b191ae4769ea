#include <sidecar/vault/retry_after.hpp>

#include <sidecar/core/text.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>

namespace sidecar::vault {
namespace {

using namespace std::chrono;

bool all_digits(std::string_view text) noexcept {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A fixed-width decimal field of an IMF-fixdate; -1 when it is not all digits.
int field(std::string_view text, std::size_t at, std::size_t width) noexcept {
  const auto part = text.substr(at, width);
  if (part.size() != width || !all_digits(part)) return -1;
  int value = 0;
  std::from_chars(part.data(), part.data() + part.size(), value);
  return value;
}

// "Sun, 06 Nov 1994 08:49:37 GMT": the only date form a sender may generate (RFC 9110 §5.6.7).
// "UTC" in place of "GMT" too: older Vault releases format the quota's reset time with Go's
// time.RFC1123 on a UTC time, which prints the zone as "UTC".
std::optional<sys_seconds> parse_imf_fixdate(std::string_view text) noexcept {
  constexpr std::array<std::string_view, 7> days{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' ||
      (text.substr(25) != " GMT" && text.substr(25) != " UTC")) {
    return std::nullopt;
  }
  if (std::find(days.begin(), days.end(), text.substr(0, 3)) == days.end()) return std::nullopt;
  const auto month = std::find(months.begin(), months.end(), text.substr(8, 3));
  if (month == months.end()) return std::nullopt;
  const int day = field(text, 5, 2);
  const int year = field(text, 12, 4);
  const int hour = field(text, 17, 2);
  const int minute = field(text, 20, 2);
  const int second = field(text, 23, 2);
  if (day < 1 || year < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 ||
      second > 60) {
    return std::nullopt;
  }
  const year_month_day date{std::chrono::year{year},
                            std::chrono::month{static_cast<unsigned>(month - months.begin() + 1)},
                            std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;
  return sys_days{date} + hours{hour} + minutes{minute} + seconds{second};
}

}  // namespace

std::optional<core::duration> parse_retry_after(std::string_view value,
                                                core::wall_time now) noexcept {
  value = core::trim_blanks(value);
  if (all_digits(value)) {
    // More digits than any sane delay: capped without overflowing.
    if (value.size() > 9) return retry_after_cap;
    std::uint64_t delay = 0;
    std::from_chars(value.data(), value.data() + value.size(), delay);
    return std::min<core::duration>(seconds{delay}, retry_after_cap);
  }
  const auto date = parse_imf_fixdate(value);
  if (!date) return std::nullopt;
  const auto wait = duration_cast<core::duration>(*date - now);
  return std::clamp<core::duration>(wait, core::duration::zero(), retry_after_cap);
}

}  // namespace sidecar::vault
