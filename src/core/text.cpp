#include <sidecar/core/text.hpp>

namespace sidecar::core {
namespace {

std::string_view trim_any_of(std::string_view text, std::string_view characters) noexcept {
  const auto first = text.find_first_not_of(characters);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(characters) - first + 1);
}

}  // namespace

std::string_view trim_blanks(std::string_view text) noexcept { return trim_any_of(text, " \t"); }

std::string_view trim_whitespace(std::string_view text) noexcept {
  return trim_any_of(text, " \t\n\r\f\v");
}

std::string quoted(std::string_view text) { return '"' + std::string{text} + '"'; }

std::string_view without_api_prefix(std::string_view path) noexcept {
  if (path.starts_with(api_prefix)) path.remove_prefix(api_prefix.size());
  return path;
}

std::string_view without_api_prefix_or_slash(std::string_view path) noexcept {
  if (path.starts_with(api_prefix)) return path.substr(api_prefix.size());
  if (path.starts_with('/')) return path.substr(1);
  return path;
}

std::string exception_text(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace sidecar::core
