#include <sidecar/proxy/query_filter.hpp>

#include <sidecar/core/text.hpp>
#include <sidecar/proxy/target.hpp>

#include <algorithm>
#include <array>
#include <optional>

namespace sidecar::proxy {
namespace {

// Go's url.QueryUnescape: '+' is a space. An invalid escape (normalise_target refuses those
// already) is kept as it is rather than guessed at.
std::string unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_digit_value(text[i + 1]) >= 0 &&
               hex_digit_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit_value(text[i + 1]) * 16 + hex_digit_value(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// Go's strconv.ParseBool, the parser Vault reads `list` with.
std::optional<bool> parse_go_bool(std::string_view text) noexcept {
  static constexpr std::array<std::string_view, 6> truthy{"1", "t", "T", "TRUE", "true", "True"};
  static constexpr std::array<std::string_view, 6> falsy{"0", "f", "F", "FALSE", "false", "False"};
  if (std::find(truthy.begin(), truthy.end(), text) != truthy.end()) return true;
  if (std::find(falsy.begin(), falsy.end(), text) != falsy.end()) return false;
  return std::nullopt;
}

// The KV v2 verb of a path: the first segment after the mount's first one that is "data" or
// "subkeys" (a mount may span several segments), or empty.
std::string_view kv2_read_verb(std::string_view path) noexcept {
  path = core::without_api_prefix(path);
  const auto first_end = path.find('/');
  if (first_end == std::string_view::npos) return {};
  path.remove_prefix(first_end + 1);
  while (!path.empty()) {
    const auto end = path.find('/');
    const auto segment = path.substr(0, end);
    // A verb names a secret only when a name follows it.
    if (end != std::string_view::npos && end + 1 < path.size() &&
        (segment == "data" || segment == "subkeys")) {
      return segment;
    }
    if (end == std::string_view::npos) break;
    path.remove_prefix(end + 1);
  }
  return {};
}

// A plain decimal number as Vault's weakly typed int would take it without ambiguity: digits,
// no sign, no leading zero (Go reads "010" as octal), at most 18 of them (an int64).
bool plain_decimal(std::string_view text) noexcept {
  if (text.empty() || text.size() > 18) return false;
  if (text.size() > 1 && text.front() == '0') return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

using pairs = std::vector<std::pair<std::string, std::string>>;

// The one value of a numeric parameter: absent, empty or 0 (Vault's default) is nullopt.
std::variant<std::optional<std::string>, query_refusal> numeric_parameter(const pairs& decoded,
                                                                          std::string_view name) {
  std::optional<std::string> value;
  bool seen = false;
  for (const auto& [key, v] : decoded) {
    if (key != name) continue;
    if (seen) {
      return query_refusal{"invalid query: \"" + std::string{name} + "\" given more than once"};
    }
    seen = true;
    if (v.empty() || v == "0") continue;
    if (!plain_decimal(v)) {
      return query_refusal{"invalid query: \"" + std::string{name} + "\" must be a decimal number"};
    }
    value = v;
  }
  return value;
}

}  // namespace

pairs decode_query(std::string_view raw) {
  pairs decoded;
  while (!raw.empty()) {
    const auto end = raw.find('&');
    const auto pair = raw.substr(0, end);
    raw = end == std::string_view::npos ? std::string_view{} : raw.substr(end + 1);
    if (pair.empty() || pair.find(';') != std::string_view::npos) continue;
    const auto equals = pair.find('=');
    decoded.emplace_back(unescape(pair.substr(0, equals)), equals == std::string_view::npos
                                                               ? std::string{}
                                                               : unescape(pair.substr(equals + 1)));
  }
  return decoded;
}

std::variant<kv_read_query, query_refusal> filter_kv_read_query(std::string_view path,
                                                                std::string_view raw_query,
                                                                bool list_method) {
  const auto decoded = decode_query(raw_query);
  bool list = list_method;
  if (!list_method) {
    // Vault: the first `list` value, when not empty, decides (url.Values.Get).
    const auto it = std::find_if(decoded.begin(), decoded.end(),
                                 [](const auto& p) { return p.first == "list"; });
    if (it != decoded.end() && !it->second.empty()) {
      const auto parsed = parse_go_bool(it->second);
      if (!parsed) return query_refusal{"invalid query: \"list\" must be true or false"};
      list = *parsed;
    }
  }
  if (list) return kv_read_query{.list = true, .query = "list=true"};

  const auto verb = kv2_read_verb(path);
  if (verb.empty()) return kv_read_query{};
  std::string query;
  if (verb == "subkeys") {
    auto depth = numeric_parameter(decoded, "depth");
    if (auto* refused = std::get_if<query_refusal>(&depth)) return std::move(*refused);
    if (const auto& value = std::get<std::optional<std::string>>(depth)) query = "depth=" + *value;
  }
  auto version = numeric_parameter(decoded, "version");
  if (auto* refused = std::get_if<query_refusal>(&version)) return std::move(*refused);
  if (const auto& value = std::get<std::optional<std::string>>(version)) {
    if (!query.empty()) query += '&';
    query += "version=" + *value;
  }
  return kv_read_query{.list = false, .query = std::move(query)};
}

}  // namespace sidecar::proxy
