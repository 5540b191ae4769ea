#include <sidecar/testing/corruption.hpp>

#include <boost/beast/core/string.hpp>

#include <array>
#include <utility>

namespace sidecar::testing {
namespace {

constexpr std::array<std::pair<std::string_view, corruption>, 7> names{{
    {"malformed-json", corruption::malformed_json},
    {"truncated-body", corruption::truncated_body},
    {"short-content-length", corruption::short_content_length},
    {"long-content-length", corruption::long_content_length},
    {"http10-no-length", corruption::http10_no_length},
    {"huge-content-length", corruption::huge_content_length},
    {"reset-mid-body", corruption::reset_mid_body},
}};

// Cut-off JSON that still looks like the start of Vault's envelope.
constexpr std::string_view broken_json = R"({"request_id":"corrupt","data":{"data":{"x":)";

bool framing(std::string_view field) noexcept {
  return beast::iequals(field, "Content-Length") || beast::iequals(field, "Transfer-Encoding") ||
         beast::iequals(field, "Connection");
}

// Status line and headers of `answer` for `version` (10 or 11), with `length` as Content-Length
// unless empty, ending with the blank line.
std::string head(const string_response& answer, int version, std::optional<std::string> length) {
  std::string out = version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(answer.result_int());
  out += ' ';
  out += std::string_view{answer.reason()};
  out += "\r\n";
  for (const auto& field : answer) {
    if (framing(field.name_string())) continue;
    out += std::string_view{field.name_string()};
    out += ": ";
    out += std::string_view{field.value()};
    out += "\r\n";
  }
  if (length) out += "Content-Length: " + *length + "\r\n";
  if (version == 10) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

}  // namespace

std::optional<corruption> parse_corruption(std::string_view name) noexcept {
  for (const auto& [text, mode] : names) {
    if (text == name) return mode;
  }
  return std::nullopt;
}

std::string_view name(corruption mode) noexcept {
  for (const auto& [text, candidate] : names) {
    if (candidate == mode) return text;
  }
  return "unknown";
}

corrupted_answer corrupt(const string_response& answer, corruption mode) {
  const std::string& body = answer.body();
  const auto half = body.substr(0, body.size() / 2);
  const auto size = std::to_string(body.size());
  switch (mode) {
    case corruption::malformed_json:
      return {head(answer, 11, std::to_string(broken_json.size())) + std::string{broken_json},
              after_corruption::keep_open};
    case corruption::truncated_body:
      return {head(answer, 11, size) + half, after_corruption::close};
    case corruption::short_content_length:
      return {head(answer, 11, std::to_string(half.size())) + body, after_corruption::keep_open};
    case corruption::long_content_length:
      return {head(answer, 11, std::to_string(body.size() + 100)) + body,
              after_corruption::keep_open};
    case corruption::http10_no_length:
      return {head(answer, 10, std::nullopt) + body, after_corruption::close};
    case corruption::huge_content_length:
      return {head(answer, 11, "2147483648") + body, after_corruption::keep_open};
    case corruption::reset_mid_body:
      return {head(answer, 11, size) + half, after_corruption::reset};
  }
  return {head(answer, 11, size) + body, after_corruption::keep_open};
}

}  // namespace sidecar::testing
