#include <sidecar/config/values.hpp>

#include <sidecar/core/mustache_tags.hpp>
#include <sidecar/core/text.hpp>

#include <boost/url/parse.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <charconv>
#include <chrono>
#include <limits>
#include <netinet/in.h>
#include <signal.h>
#include <utility>

namespace sidecar::config {
namespace {

using core::quoted;

using namespace std::chrono_literals;

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// The renderer's reasons (supervisor/render.cpp), said of the whole value.
std::string tag_problem_text(const core::mustache_tag_problem& found, std::string_view text) {
  using kind = core::mustache_tag_problem::kind;
  switch (found.what) {
    case kind::unclosed:
      return "unterminated {{ in " + quoted(text);
    case kind::empty:
      return "empty {{ }} tag in " + quoted(text);
    case kind::unsupported:
      return std::string{found.tag} + " is not supported in " + quoted(text) +
             ": only {{secret.key}} tags and {{! comments}}";
  }
  return "unreadable tag in " + quoted(text);
}

// Digits only: from_chars alone would accept a leading '-' for signed types and stop early.
std::optional<std::uint64_t> whole_number(std::string_view text) noexcept {
  if (text.empty() || !std::all_of(text.begin(), text.end(), is_digit)) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

constexpr std::array<std::pair<std::string_view, int>, 7> signals{{
    {"SIGTERM", SIGTERM},
    {"SIGINT", SIGINT},
    {"SIGHUP", SIGHUP},
    {"SIGQUIT", SIGQUIT},
    {"SIGUSR1", SIGUSR1},
    {"SIGUSR2", SIGUSR2},
    {"SIGKILL", SIGKILL},
}};

}  // namespace

parsed<core::duration> parse_duration(std::string_view text) {
  const auto hint = [&](std::string_view why) {
    return "invalid duration " + quoted(text) + " (" + std::string{why} + ")";
  };
  if (!text.empty() && text.front() == '-') return hint("must not be negative");
  std::size_t digits = 0;
  while (digits < text.size() && is_digit(text[digits])) ++digits;
  const auto unit = text.substr(digits);
  std::chrono::nanoseconds per_unit{};
  if (unit.empty() || unit == "s") {
    per_unit = 1s;
  } else if (unit == "ms") {
    per_unit = 1ms;
  } else if (unit == "m") {
    per_unit = 1min;
  } else if (unit == "h") {
    per_unit = 1h;
  }
  if (digits == 0 || per_unit == 0ns) return hint("use 500ms, 10s, 5m, 1h or seconds");

  const auto count = whole_number(text.substr(0, digits));
  const auto limit = static_cast<std::uint64_t>(core::duration::max().count()) /
                     static_cast<std::uint64_t>(per_unit.count());
  if (!count || *count > limit) return hint("too large");
  return std::chrono::duration_cast<core::duration>(
      per_unit * static_cast<std::chrono::nanoseconds::rep>(*count));
}

std::string format_duration(core::duration value) {
  if (value == core::duration::zero()) return "0s";
  const auto in = [&](auto unit, std::string_view suffix) -> std::optional<std::string> {
    if (value % unit != core::duration::zero()) return std::nullopt;
    return std::to_string(value / unit) + std::string{suffix};
  };
  if (auto text = in(1h, "h")) return *text;
  if (auto text = in(1min, "m")) return *text;
  if (auto text = in(1s, "s")) return *text;
  if (auto text = in(1ms, "ms")) return *text;
  // Finer than parse_duration can express: say so in nanoseconds rather than round.
  return std::to_string(std::chrono::nanoseconds{value}.count()) + "ns";
}

parsed<double> parse_fraction(std::string_view text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const bool whole_text = ec == std::errc{} && end == text.data() + text.size();
  // The comparison is false for NaN, which from_chars accepts as "nan".
  if (!text.empty() && whole_text && value > 0.0 && value < 1.0) return value;
  return "must be a fraction between 0 and 1, exclusive (e.g. 0.8), not " + quoted(text);
}

parsed<bool> parse_bool(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return "expected true or false, not " + quoted(text);
}

parsed<bool> parse_env_bool(std::string_view text) {
  constexpr std::array<std::string_view, 6> yes{"1", "t", "T", "TRUE", "true", "True"};
  constexpr std::array<std::string_view, 6> no{"0", "f", "F", "FALSE", "false", "False"};
  if (std::find(yes.begin(), yes.end(), text) != yes.end()) return true;
  if (std::find(no.begin(), no.end(), text) != no.end()) return false;
  return "expected true or false (or 1 or 0), not " + quoted(text);
}

parsed<std::uint64_t> parse_whole(std::string_view text, std::uint64_t low, std::uint64_t high) {
  const auto value = whole_number(text);
  if (value && *value >= low && *value <= high) return *value;
  if (high == std::numeric_limits<std::uint64_t>::max()) {
    return "expected a whole number of at least " + std::to_string(low) + ", not " + quoted(text);
  }
  return "expected a whole number from " + std::to_string(low) + " to " + std::to_string(high) +
         ", not " + quoted(text);
}

parsed<unsigned> parse_mode(std::string_view text) {
  const bool octal =
      !text.empty() && text.size() <= 4 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; });
  unsigned value = 0;
  if (octal) std::from_chars(text.data(), text.data() + text.size(), value, 8);
  if (octal && value <= 0777) return value;
  return "invalid mode " + quoted(text) + " (use octal like 0660, at most 0777)";
}

parsed<int> parse_signal(std::string_view text) {
  for (const auto& [name, number] : signals) {
    if (name == text) return number;
  }
  return "unknown signal " + quoted(text) +
         " (use SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 or SIGKILL)";
}

std::string signal_name(int number) {
  for (const auto& [name, value] : signals) {
    if (value == number) return std::string{name};
  }
  return std::to_string(number);
}

parsed<std::vector<std::string>> parse_list(std::string_view text) {
  const std::string whole = quoted(text);
  std::vector<std::string> items;
  if (core::trim_blanks(text).empty()) return items;
  for (;;) {
    const auto comma = text.find(',');
    const auto item = core::trim_blanks(text.substr(0, comma));
    if (item.empty()) return "empty item in the list " + whole;
    items.emplace_back(item);
    if (comma == std::string_view::npos) return items;
    text.remove_prefix(comma + 1);
  }
}

parsed<std::vector<std::string>> split_command(std::string_view text) {
  std::vector<std::string> arguments;
  std::string current;
  bool in_argument = false;  // "" is an argument, so emptiness of `current` cannot tell
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_blank(c)) {
      if (in_argument) arguments.push_back(std::exchange(current, {}));
      in_argument = false;
      continue;
    }
    in_argument = true;
    if (c == '\\') {
      if (i + 1 == text.size()) return std::string{"trailing backslash in the command"};
      current += text[++i];
    } else if (c == '\'') {
      const auto close = text.find('\'', i + 1);
      if (close == std::string_view::npos) return std::string{"unterminated ' in the command"};
      current.append(text.substr(i + 1, close - i - 1));
      i = close;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        // Inside double quotes a shell gives backslash a meaning only before these.
        if (text[j] == '\\' && j + 1 < text.size() &&
            std::string_view{"\"\\$`"}.find(text[j + 1]) != std::string_view::npos) {
          ++j;
        }
        current += text[j];
      }
      if (j == text.size()) return std::string{"unterminated \" in the command"};
      i = j;
    } else {
      current += c;
    }
  }
  if (in_argument) arguments.push_back(std::move(current));
  if (arguments.empty()) return std::string{"empty command"};
  return arguments;
}

std::string join_command(const std::vector<std::string>& arguments) {
  const auto plain = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
           std::string_view{"_@%+=:,./-"}.find(c) != std::string_view::npos;
  };
  std::string line;
  for (const auto& argument : arguments) {
    if (!line.empty()) line += ' ';
    if (!argument.empty() && std::all_of(argument.begin(), argument.end(), plain)) {
      line += argument;
      continue;
    }
    line += '\'';
    for (const char c : argument) line += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
    line += '\'';
  }
  return line;
}

std::optional<std::string> check_listener_address(std::string_view text) {
  const std::string expected =
      "expected host:port (e.g. 127.0.0.1:8100 or [::1]:8100), not " + quoted(text);
  std::string_view host;
  std::string_view port;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return expected;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    bracketed = true;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return expected;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return "an IPv6 address needs brackets (e.g. [::1]:8100), not " + quoted(text);
    }
  }
  if (!parse_whole(port, 1, 65535)) return "invalid port " + quoted(port) + " (1-65535)";

  const std::string host_text{host};
  bool loopback = false;
  if (!bracketed && host == "localhost") {
    loopback = true;
  } else if (in_addr v4{}; !bracketed && ::inet_pton(AF_INET, host_text.c_str(), &v4) == 1) {
    loopback = (ntohl(v4.s_addr) >> 24) == 127;
  } else if (in6_addr v6{}; bracketed && ::inet_pton(AF_INET6, host_text.c_str(), &v6) == 1) {
    loopback = IN6_IS_ADDR_LOOPBACK(&v6);
  } else {
    return quoted(host) + " is not an IP address or localhost";
  }
  if (loopback) return std::nullopt;
  return quoted(host) +
         " is not a loopback address; secrets are served without authentication, so only "
         "127.0.0.0/8, [::1] or localhost are allowed";
}

std::optional<std::string> check_vault_address(std::string_view text) {
  const std::string hint = " (use http(s)://host[:port], e.g. https://127.0.0.1:8200)";
  const auto url = boost::urls::parse_absolute_uri(text);
  if (!url) return "invalid Vault address " + quoted(text) + hint;
  if (url->scheme() != "http" && url->scheme() != "https") {
    return "Vault address " + quoted(text) + " must start with http:// or https://";
  }
  if (!url->has_authority() || url->encoded_host().empty()) {
    return "Vault address " + quoted(text) + " has no host" + hint;
  }
  if (url->has_userinfo()) return "Vault address " + quoted(text) + " must not contain user info";
  if (url->has_port() && !parse_whole(url->port(), 1, 65535)) {
    return "Vault address " + quoted(text) + " has an invalid port (1-65535)";
  }
  if (!(url->encoded_path().empty() || url->encoded_path() == "/") || url->has_query()) {
    return "Vault address " + quoted(text) + " must not have a path or query" + hint;
  }
  return std::nullopt;
}

parsed<std::vector<std::string>> template_references(std::string_view text) {
  const auto variables = core::mustache_variables(text);
  if (!variables) return tag_problem_text(variables.error(), text);
  std::vector<std::string> names;
  for (const auto variable : *variables) {
    const auto name = variable.substr(0, variable.find('.'));
    if (name.empty()) return "empty {{ }} tag in " + quoted(text);
    names.emplace_back(name);
  }
  return names;
}

}  // namespace sidecar::config
