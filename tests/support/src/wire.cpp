#include <sidecar/testing/wire.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <random>

namespace sidecar::testing {
namespace {

std::mt19937_64& random_engine() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

long long whole_seconds(core::time_point at) {
  return std::chrono::floor<std::chrono::seconds>(at.time_since_epoch()).count();
}

// One "<number><unit>" run of a Go duration, in nanoseconds; 0 for an unknown unit.
long long unit_nanos(std::string_view unit) {
  if (unit == "h") return 3600'000'000'000LL;
  if (unit == "m") return 60'000'000'000LL;
  if (unit == "s") return 1'000'000'000LL;
  if (unit == "ms") return 1'000'000LL;
  if (unit == "us" || unit == "µs") return 1'000LL;
  if (unit == "ns") return 1LL;
  return 0;
}

std::optional<long long> parse_duration_text(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (std::all_of(text.begin(), text.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    return std::stoll(std::string{text});
  }
  long long nanos = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto digits_start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == digits_start) return std::nullopt;
    const auto number = std::stoll(std::string{text.substr(digits_start, i - digits_start)});
    const auto unit_start = i;
    while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    const auto scale = unit_nanos(text.substr(unit_start, i - unit_start));
    if (scale == 0) return std::nullopt;
    nanos += number * scale;
  }
  return nanos / 1'000'000'000LL;
}

}  // namespace

std::string vault_request::operation() const {
  if (method == "GET") {
    const auto list = query.find("list");
    return list != query.end() && list->second == "true" ? "list" : "read";
  }
  if (method == "HEAD") return "read";
  if (method == "LIST") return "list";
  if (method == "POST" || method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return "delete";
  return "";
}

vault_reply error_reply(unsigned status, std::vector<std::string> errors) {
  return {status, nlohmann::json{{"errors", std::move(errors)}}};
}

std::string multierror(const std::vector<std::string>& errors) {
  std::string text = errors.size() == 1 ? "1 error occurred:\n"
                                        : fmt::format("{} errors occurred:\n", errors.size());
  for (const auto& e : errors) text += fmt::format("\t* {}\n", e);
  return text + "\n";
}

vault_reply permission_denied() { return error_reply(403, {multierror({"permission denied"})}); }

vault_reply invalid_token() {
  return error_reply(403, {multierror({"permission denied", "invalid token"})});
}

vault_reply not_found() { return error_reply(404, {}); }

vault_reply unsupported_operation() {
  return error_reply(405, {multierror({"unsupported operation"})});
}

vault_reply unsupported_path() { return error_reply(404, {multierror({"unsupported path"})}); }

nlohmann::json envelope(std::string_view mount_type) {
  return nlohmann::json{
      {"request_id", random_uuid()}, {"lease_id", ""},  {"renewable", false},
      {"lease_duration", 0},         {"data", nullptr}, {"wrap_info", nullptr},
      {"warnings", nullptr},         {"auth", nullptr}, {"mount_type", std::string{mount_type}},
  };
}

std::string rfc3339(core::wall_time time) {
  using namespace std::chrono;
  const auto day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock_time{floor<nanoseconds>(time - day)};
  auto text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(date.year()),
                          static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                          clock_time.hours().count(), clock_time.minutes().count(),
                          clock_time.seconds().count());
  if (const auto nanos = clock_time.subseconds().count(); nanos != 0) {
    auto fraction = fmt::format("{:09}", nanos);
    fraction.erase(fraction.find_last_not_of('0') + 1);
    text += "." + fraction;
  }
  return text + "Z";
}

core::wall_time to_wall(const core::clock& clock, core::time_point at) {
  return clock.wall_now() + std::chrono::duration_cast<core::wall_time::duration>(at - clock.now());
}

std::optional<long long> parse_duration(const nlohmann::json& value) {
  if (value.is_number_integer()) return value.get<long long>();
  if (value.is_number_float()) return static_cast<long long>(value.get<double>());
  if (value.is_string()) return parse_duration_text(value.get<std::string>());
  return std::nullopt;
}

std::string human_duration(long long seconds) {
  if (seconds == 0) return "0s";
  const auto hours = seconds / 3600;
  const auto minutes = seconds % 3600 / 60;
  const auto secs = seconds % 60;
  std::string text = hours > 0     ? fmt::format("{}h{}m{}s", hours, minutes, secs)
                     : minutes > 0 ? fmt::format("{}m{}s", minutes, secs)
                                   : fmt::format("{}s", secs);
  // Vault's humanDuration: "1h0m0s" -> "1h", "5m0s" -> "5m".
  if (text.ends_with("m0s")) text.resize(text.size() - 2);
  if (const auto at = text.find("h0m"); at != std::string::npos) text.erase(at + 1, 2);
  return text;
}

ttl_decision calculate_ttl(long long increment, long long backend_ttl, long long period,
                           long long max_ttl, core::time_point start, core::time_point now) {
  ttl_decision decision;
  const long long effective_max =
      max_ttl > 0 && max_ttl < system_max_ttl ? max_ttl : system_max_ttl;
  if (period > 0) {
    if (period > effective_max) {
      decision.warnings.push_back(fmt::format(
          "period of \"{}\" exceeded the effective max_ttl of \"{}\"; period value is capped "
          "accordingly",
          human_duration(period), human_duration(effective_max)));
      period = effective_max;
    }
    decision.ttl = period;
    return decision;
  }
  decision.ttl = increment > 0 ? increment : backend_ttl > 0 ? backend_ttl : system_max_ttl;
  const long long left = whole_seconds(start) + effective_max - whole_seconds(now);
  if (left <= 0) {
    decision.past_max = true;
    decision.ttl = 0;
    return decision;
  }
  if (decision.ttl > left) {
    decision.warnings.push_back(fmt::format(
        "TTL of \"{}\" exceeded the effective max_ttl of \"{}\"; TTL value is capped accordingly",
        human_duration(decision.ttl), human_duration(left)));
    decision.ttl = left;
  }
  return decision;
}

std::string random_base62(std::size_t length) {
  static constexpr std::string_view alphabet =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::uniform_int_distribution<std::size_t> pick{0, alphabet.size() - 1};
  std::string text(length, '0');
  for (auto& c : text) c = alphabet[pick(random_engine())];
  return text;
}

std::string random_uuid() {
  std::uniform_int_distribution<unsigned> byte{0, 255};
  std::array<unsigned, 16> b{};
  for (auto& v : b) v = byte(random_engine());
  b[6] = (b[6] & 0x0fU) | 0x40U;  // version 4
  b[8] = (b[8] & 0x3fU) | 0x80U;  // RFC 4122 variant
  return fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-"
      "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
      b[15]);
}

std::string url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() &&
               std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string{text.substr(i + 1, 2)}, nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace sidecar::testing
