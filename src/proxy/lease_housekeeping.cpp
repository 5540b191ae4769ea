#include <sidecar/proxy/lease_housekeeping.hpp>

#include <sidecar/core/json_depth.hpp>
#include <sidecar/lease/schedule.hpp>
#include <sidecar/proxy/router.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <ctime>
#include <limits>

namespace sidecar::proxy {
namespace {

using json = nlohmann::json;
// Vault's envelope keeps Go's struct field order; nlohmann's default object would sort it.
using ordered = nlohmann::ordered_json;

// Vault's http.HTTPResponse fields around a renew or lookup answer, from the sys mount.
ordered envelope(std::string_view request_id) {
  return ordered{{"request_id", request_id}, {"lease_id", ""},  {"renewable", false},
                 {"lease_duration", 0},      {"data", nullptr}, {"wrap_info", nullptr},
                 {"warnings", nullptr},      {"auth", nullptr}, {"mount_type", "system"}};
}

// A path-form lease id may hold any decoded byte: never let dump() throw on bad UTF-8.
template <class Json>
std::string text_of(const Json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

lease_answer refusal(std::string_view message) {
  return {.status = 400, .body = text_of(json{{"errors", {message}}})};
}

std::optional<long long> parse_int(std::string_view text) noexcept {
  // strconv.ParseInt takes one sign, '+' included; from_chars only '-'.
  if (text.starts_with('+') && !text.starts_with("+-")) text.remove_prefix(1);
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// time.ParseDuration in nanoseconds, or Go's error text. Same grammar and the same overflow
// rules: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+, or "0".
std::variant<long long, std::string> go_duration_nanos(std::string_view text) {
  const auto invalid = [&] { return fmt::format("time: invalid duration \"{}\"", text); };
  constexpr std::uint64_t limit = std::uint64_t{1} << 63;
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0LL;
  if (s.empty()) return invalid();
  std::uint64_t total = 0;
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  while (!s.empty()) {
    if (s.front() != '.' && !is_digit(s.front())) return invalid();
    std::uint64_t whole = 0;
    std::size_t i = 0;
    for (; i < s.size() && is_digit(s[i]); ++i) {
      if (whole > (limit - 1) / 10) return invalid();  // leadingInt's overflow
      whole = whole * 10 + static_cast<std::uint64_t>(s[i] - '0');
      if (whole > limit) return invalid();
    }
    const bool digits_before = i > 0;
    s.remove_prefix(i);
    std::uint64_t fraction = 0;
    double scale = 1;
    bool digits_after = false;
    bool overflowed = false;
    if (!s.empty() && s.front() == '.') {
      s.remove_prefix(1);
      for (i = 0; i < s.size() && is_digit(s[i]); ++i) {
        // leadingFraction: digits past what 63 bits hold are read and ignored.
        if (overflowed || fraction > (limit - 1) / 10) {
          overflowed = true;
          continue;
        }
        const auto next = fraction * 10 + static_cast<std::uint64_t>(s[i] - '0');
        if (next > limit) {
          overflowed = true;
          continue;
        }
        fraction = next;
        scale *= 10;
      }
      digits_after = i > 0;
      s.remove_prefix(i);
    }
    if (!digits_before && !digits_after) return invalid();
    for (i = 0; i < s.size() && s[i] != '.' && !is_digit(s[i]); ++i) {
    }
    if (i == 0) return fmt::format("time: missing unit in duration \"{}\"", text);
    const auto unit_name = s.substr(0, i);
    s.remove_prefix(i);
    static constexpr std::array<std::pair<std::string_view, std::uint64_t>, 8> units{{
        {"ns", 1},
        {"us", 1'000},
        {"\u00b5s", 1'000},  // U+00B5 micro sign
        {"\u03bcs", 1'000},  // U+03BC Greek mu
        {"ms", 1'000'000},
        {"s", 1'000'000'000},
        {"m", 60'000'000'000},
        {"h", 3'600'000'000'000},
    }};
    const auto unit = std::find_if(units.begin(), units.end(),
                                   [&](const auto& u) { return u.first == unit_name; });
    if (unit == units.end()) {
      return fmt::format("time: unknown unit \"{}\" in duration \"{}\"", unit_name, text);
    }
    if (whole > limit / unit->second) return invalid();
    whole *= unit->second;
    if (fraction > 0) {
      whole += static_cast<std::uint64_t>(static_cast<double>(fraction) *
                                          (static_cast<double>(unit->second) / scale));
      if (whole > limit) return invalid();
    }
    total += whole;
    if (total > limit) return invalid();
  }
  if (negative) return total == 0 ? 0LL : -static_cast<long long>(total - 1) - 1;  // to -2^63
  if (total > limit - 1) return invalid();
  return static_cast<long long>(total);
}

constexpr long long nanos_per_second = 1'000'000'000;

// go-secure-stdlib's parseutil.ParseDurationSecond on a string, in whole seconds (Go's
// int(d.Seconds()) truncates toward zero), or the error Vault reports.
std::variant<long long, std::string> duration_second(std::string_view text) {
  if (text.empty()) return 0LL;
  constexpr long long max_seconds = std::numeric_limits<long long>::max() / nanos_per_second;
  const auto checked = [&](long long value,
                           long long unit) -> std::variant<long long, std::string> {
    if (value > max_seconds / unit || value < -max_seconds / unit) {
      return std::string{
          "multiplication of durations resulted in overflow, one operand may be too large"};
    }
    return value * unit;
  };
  if (const auto seconds = parse_int(text)) return checked(*seconds, 1);
  if (text.ends_with('d')) {
    const auto digits = text.substr(0, text.size() - 1);
    if (const auto days = parse_int(digits)) return checked(*days, 86'400);
    return fmt::format("strconv.ParseInt: parsing \"{}\": invalid syntax", digits);
  }
  auto nanos = go_duration_nanos(text);
  if (const auto* error = std::get_if<std::string>(&nanos)) return std::move(*error);
  return std::get<long long>(nanos) / nanos_per_second;
}

// Vault's framework.TypeDurationSecond for a JSON value: numbers and strings as above, a
// negative result refused, anything else unparseable. Messages as Validate() words them.
std::variant<long long, lease_request_error> increment_of(const json& value) {
  if (value.is_null()) return 0LL;
  const auto shown = value.is_string() ? value.get_ref<const std::string&>() : value.dump();
  // A number is read as its text, as Vault reads a json.Number: 1.5 is then a Go duration
  // without a unit, refused.
  auto parsed = value.is_number() || value.is_string()
                    ? duration_second(shown)
                    : std::variant<long long, std::string>{"could not parse duration from input"};
  if (const auto* error = std::get_if<std::string>(&parsed)) {
    return lease_request_error{
        fmt::format("error converting input {} for field \"increment\": {}", shown, *error)};
  }
  const auto seconds = std::get<long long>(parsed);
  if (seconds < 0) {
    return lease_request_error{fmt::format(
        "error converting input {} for field \"increment\": cannot provide negative value '{}'",
        shown, seconds)};
  }
  return seconds;
}

// What Go's encoding/json says when a body is JSON but not an object (Vault decodes requests
// into a map[string]interface{}).
std::string_view go_type_name(const json& value) noexcept {
  if (value.is_array()) return "array";
  if (value.is_string()) return "string";
  if (value.is_boolean()) return "bool";
  return "number";
}

core::wall_time wall_of(core::time_point t, core::time_point now, core::wall_time wall_now) {
  return wall_now + std::chrono::duration_cast<core::wall_time::duration>(t - now);
}

}  // namespace

std::optional<lease_endpoint> match_lease_endpoint(std::string_view path) noexcept {
  struct form {
    std::string_view base;
    lease_operation operation;
    bool takes_id;
  };
  static constexpr std::array<form, 5> forms{{
      {"/v1/sys/leases/renew", lease_operation::renew, true},
      {"/v1/sys/renew", lease_operation::renew, true},
      {"/v1/sys/leases/revoke", lease_operation::revoke, true},
      {"/v1/sys/revoke", lease_operation::revoke, true},
      {"/v1/sys/leases/lookup", lease_operation::lookup, false},
  }};
  for (const auto& f : forms) {
    if (!path.starts_with(f.base)) continue;
    const auto rest = path.substr(f.base.size());
    if (rest.empty()) return lease_endpoint{f.operation, path, {}};
    // "/v1/sys/renew/" has no id (Vault's `.+` needs one) and "/v1/sys/renewal" is no form.
    if (!f.takes_id || rest.size() < 2 || rest.front() != '/') continue;
    return lease_endpoint{f.operation, path.substr(0, f.base.size()), rest.substr(1)};
  }
  return std::nullopt;
}

std::optional<long long> parse_go_duration(std::string_view text) noexcept {
  try {
    const auto nanos = go_duration_nanos(text);
    if (const auto* value = std::get_if<long long>(&nanos)) return *value / nanos_per_second;
  } catch (const std::exception&) {  // fmt may throw std::bad_alloc for the error text
  }
  return std::nullopt;
}

std::variant<lease_request, lease_request_error> parse_lease_request(lease_operation operation,
                                                                     std::string_view path_lease_id,
                                                                     std::string_view body) {
  lease_request request{.operation = operation, .lease_id = {}, .increment = 0};
  const bool blank = std::all_of(body.begin(), body.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  });
  json fields = json::object();
  if (!blank) {
    // The depth check first: a body of nested brackets must not recurse the parser's walks.
    if (!core::json_depth_within(body)) {
      return lease_request_error{"failed to parse JSON input: nested too deeply"};
    }
    fields = json::parse(body, nullptr, false);
    if (fields.is_discarded()) {
      return lease_request_error{"failed to parse JSON input: invalid JSON"};
    }
    if (fields.is_null()) fields = json::object();  // Go decodes null into an empty map
    if (!fields.is_object()) {
      return lease_request_error{
          fmt::format("failed to parse JSON input: json: cannot unmarshal {} into Go value of "
                      "type map[string]interface {{}}",
                      go_type_name(fields))};
    }
  }
  if (const auto it = fields.find("lease_id"); it != fields.end() && !it->is_null()) {
    if (!it->is_string()) {
      return lease_request_error{fmt::format(
          "error converting input {} for field \"lease_id\": could not parse string", it->dump())};
    }
    request.lease_id = it->get<std::string>();
  }
  // Vault's lookup has no path form; renew and revoke take the body's id before the path's.
  if (request.lease_id.empty() && operation != lease_operation::lookup) {
    request.lease_id = std::string{path_lease_id};
  }
  if (operation == lease_operation::renew) {
    if (const auto it = fields.find("increment"); it != fields.end()) {
      auto increment = increment_of(*it);
      if (auto* error = std::get_if<lease_request_error>(&increment)) return std::move(*error);
      request.increment = std::get<long long>(increment);
    }
  }
  if (request.lease_id.empty()) return lease_request_error{"lease_id must be specified"};
  return request;
}

lease_answer answer_lease_request(const lease_request& request,
                                  const std::optional<lease::served_lease>& lease,
                                  core::time_point now, core::wall_time wall_now,
                                  std::string_view request_id) {
  if (!lease || lease::expired(lease->expiry, now)) return refusal(lease_not_found);
  const long long left = lease::seconds_left(lease->expiry, now);
  switch (request.operation) {
    case lease_operation::revoke:
      // Kept: other local callers share these creds, and the sidecar revokes or rotates them
      // on its own schedule.
      return {.status = 204, .body = {}};
    case lease_operation::lookup: {
      auto answer = envelope(request_id);
      // Go writes a map's keys sorted, as here.
      answer["data"] =
          ordered{{"expire_time", go_rfc3339_utc(wall_of(lease->expiry, now, wall_now))},
                  {"id", request.lease_id},
                  {"issue_time", go_rfc3339_utc(wall_of(lease->issued, now, wall_now))},
                  {"last_renewal", lease->last_renewal ? ordered(go_rfc3339_utc(wall_of(
                                                             *lease->last_renewal, now, wall_now)))
                                                       : ordered(nullptr)},
                  {"renewable", lease->renewable},
                  {"ttl", left}};
      return {.status = 200, .body = text_of(answer)};
    }
    case lease_operation::renew: {
      auto answer = envelope(request_id);
      answer["lease_id"] = request.lease_id;
      answer["renewable"] = lease->renewable;
      answer["lease_duration"] = left;
      // Asked for more than is left: the lease is not extended by this call, as Vault says when
      // a renewal meets the max TTL (sdk/framework/lease.go, CalculateTTL).
      const long long asked = request.increment > 0 ? request.increment : lease->granted_at_issue;
      if (asked > left) {
        answer["warnings"] = ordered::array(
            {fmt::format("TTL of \"{}\" exceeded the effective max_ttl of \"{}\"; TTL value is "
                         "capped accordingly",
                         human_duration(asked), human_duration(left))});
      }
      return {.status = 200, .body = text_of(answer)};
    }
  }
  return refusal(lease_not_found);
}

bool lease_visible_to(std::string_view lease_path,
                      const std::optional<std::vector<std::string>>& caller_allow) {
  if (!caller_allow) return true;
  const auto path = "/v1/" + std::string{lease_path};
  return std::any_of(caller_allow->begin(), caller_allow->end(),
                     [&](const std::string& pattern) { return path_matches(path, pattern); });
}

std::string human_duration(long long seconds) {
  if (seconds == 0) return "0s";
  // Go's Duration.String() for whole seconds, then humanDuration's two trims.
  const long long hours = seconds / 3600;
  const long long minutes = seconds % 3600 / 60;
  const long long rest = seconds % 60;
  std::string text = hours > 0     ? fmt::format("{}h{}m{}s", hours, minutes, rest)
                     : minutes > 0 ? fmt::format("{}m{}s", minutes, rest)
                                   : fmt::format("{}s", rest);
  if (text.ends_with("m0s")) text.resize(text.size() - 2);
  if (const auto at = text.find("h0m"); at != std::string::npos && at > 0) {
    text.erase(at + 1, 2);
  }
  return text;
}

std::string go_rfc3339_utc(core::wall_time time) {
  const auto since_epoch =
      std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch());
  auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  auto nanos = (since_epoch - seconds).count();
  const std::time_t whole = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&whole, &utc);
  std::array<char, 32> date{};
  const auto length = std::strftime(date.data(), date.size(), "%Y-%m-%dT%H:%M:%S", &utc);
  std::string text{date.data(), length};
  if (nanos > 0) {
    auto fraction = fmt::format("{:09d}", nanos);
    while (fraction.back() == '0') fraction.pop_back();
    text += '.';
    text += fraction;
  }
  text += 'Z';
  return text;
}

}  // namespace sidecar::proxy
