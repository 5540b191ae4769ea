#include <sidecar/proxy/errc.hpp>
#include <sidecar/proxy/target.hpp>

#include <algorithm>
#include <array>
#include <vector>

namespace sidecar::proxy {
namespace {

// Raw bytes refused anywhere in a target: controls, space, DEL, non-ASCII (clients must
// percent-encode them) and '#' (a fragment is never sent on the wire).
bool refused_raw(char c) noexcept {
  const auto byte = static_cast<unsigned char>(c);
  return byte <= 0x20 || byte >= 0x7f || c == '#';
}

// Checks every %XX of a raw component (the query is forwarded as received, so it is only
// checked, never decoded).
bool percent_encoding_valid(std::string_view text) noexcept {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') continue;
    if (i + 2 >= text.size()) return false;
    if (hex_digit_value(text[i + 1]) < 0 || hex_digit_value(text[i + 2]) < 0) return false;
    i += 2;
  }
  return true;
}

// Decodes once. Decoded controls (%00 ...) and backslashes are refused like raw ones; a
// decoded '%' is kept as a literal byte and is never looked at again.
result<std::string> decode_path(std::string_view raw) {
  std::string decoded;
  decoded.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      if (i + 2 >= raw.size()) return errc::invalid_percent_encoding;
      const int high = hex_digit_value(raw[i + 1]);
      const int low = hex_digit_value(raw[i + 2]);
      if (high < 0 || low < 0) return errc::invalid_percent_encoding;
      c = static_cast<char>(high * 16 + low);
      i += 2;
      const auto byte = static_cast<unsigned char>(c);
      if (byte < 0x20 || byte == 0x7f) return errc::invalid_character;
    }
    if (c == '\\') return errc::backslash_in_path;
    decoded += c;
  }
  return decoded;
}

// RFC 3986 §5.2.4 over the decoded path, with empty segments dropped and ".." above the root
// refused. A path that ends in '/', '.' or '..' keeps a trailing '/'.
result<std::string> resolve_segments(std::string_view decoded) {
  // Sized up front: the proxy's hot path runs this on every request (callgrind: growing the
  // vector and the path one step at a time was most of its cost).
  std::vector<std::string_view> kept;
  kept.reserve(static_cast<std::size_t>(std::count(decoded.begin(), decoded.end(), '/')) + 1);
  bool trailing_slash = false;
  std::size_t start = 0;
  while (start <= decoded.size()) {
    auto end = decoded.find('/', start);
    if (end == std::string_view::npos) end = decoded.size();
    const auto segment = decoded.substr(start, end - start);
    start = end + 1;
    if (segment.empty()) {
      if (end == decoded.size()) break;
      continue;
    }
    trailing_slash = false;
    if (segment == ".") {
      trailing_slash = true;
    } else if (segment == "..") {
      if (kept.empty()) return errc::above_root;
      kept.pop_back();
      trailing_slash = true;
    } else {
      kept.push_back(segment);
    }
  }
  if (!decoded.empty() && decoded.back() == '/') trailing_slash = true;
  std::string path;
  path.reserve(decoded.size() + 1);
  for (const auto segment : kept) {
    path += '/';
    path += segment;
  }
  if (path.empty() || trailing_slash) path += '/';
  return path;
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) noexcept {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    auto c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// Bytes sent upstream unencoded: RFC 3986 pchar minus '%' (unreserved, sub-delims, ':' '@')
// and the '/' separator.
bool plain_path_char_rule(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
    case '/':
      return true;
    default:
      return false;
  }
}

// plain_path_char_rule as a table: upstream_target() asks it for every byte of every request.
const std::array<bool, 256> plain_path_chars = [] {
  std::array<bool, 256> table{};
  for (std::size_t byte = 0; byte < table.size(); ++byte) {
    table[byte] = plain_path_char_rule(static_cast<char>(byte));
  }
  return table;
}();

bool plain_path_char(char c) noexcept { return plain_path_chars[static_cast<unsigned char>(c)]; }

// A path that resolve_segments() and decode_path() would return unchanged: nothing encoded, no
// backslash, no empty segment ("//") and no segment starting with a dot ("/.", which covers "."
// and ".."). Most paths are like this; they skip both passes and their copies.
bool already_normal(std::string_view raw_path) noexcept {
  char previous = '\0';
  for (const char c : raw_path) {
    if (c == '%' || c == '\\') return false;
    if (previous == '/' && (c == '/' || c == '.')) return false;
    previous = c;
  }
  return true;
}

// Appends `path` to `out` with every byte that is not a plain path character as %XX.
void percent_encode_path(std::string_view path, std::string& out) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (const char c : path) {
    if (plain_path_char(c)) {
      out += c;
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += hex[byte >> 4];
    out += hex[byte & 0x0f];
  }
}

}  // namespace

std::string normalised_target::upstream_target() const {
  std::string out;
  out.reserve(path.size() + query.size() + 1);
  if (std::all_of(path.begin(), path.end(), plain_path_char)) {
    out += path;  // the common case: nothing to encode
  } else {
    percent_encode_path(path, out);
  }
  if (!query.empty()) {
    out += '?';
    out += query;
  }
  return out;
}

result<normalised_target> normalise_target(std::string_view target) {
  if (target.size() > max_target_length) return errc::target_too_long;
  for (const char c : target) {
    if (refused_raw(c)) return errc::invalid_character;
  }
  // Absolute-form: drop "scheme://authority"; the path starts at the next '/' or '?'.
  for (const std::string_view scheme : {"http://", "https://"}) {
    if (starts_with_ignoring_case(target, scheme)) {
      target.remove_prefix(scheme.size());
      const auto path_start = target.find_first_of("/?");
      target =
          path_start == std::string_view::npos ? std::string_view{} : target.substr(path_start);
      if (target.empty() || target.front() == '?') {
        // "http://host" and "http://host?x" name the root.
        return normalise_target(std::string{"/"} + std::string{target});
      }
      break;
    }
  }
  if (target.empty() || target.front() != '/') return errc::unsupported_target_form;

  const auto query_start = target.find('?');
  const auto raw_path = target.substr(0, query_start);
  const auto raw_query =
      query_start == std::string_view::npos ? std::string_view{} : target.substr(query_start + 1);
  if (!percent_encoding_valid(raw_query)) return errc::invalid_percent_encoding;

  if (already_normal(raw_path)) {
    return normalised_target{.path = std::string{raw_path}, .query = std::string{raw_query}};
  }
  // Most paths have nothing to decode: resolved as they are, without a decoded copy.
  std::string decoded_copy;
  std::string_view decoded = raw_path;
  if (raw_path.find_first_of("%\\") != std::string_view::npos) {
    auto decoding = decode_path(raw_path);
    if (!decoding) return decoding.error();
    decoded_copy = std::move(*decoding);
    decoded = decoded_copy;
  }
  auto path = resolve_segments(decoded);
  if (!path) return path.error();
  return normalised_target{.path = std::move(*path), .query = std::string{raw_query}};
}

}  // namespace sidecar::proxy
