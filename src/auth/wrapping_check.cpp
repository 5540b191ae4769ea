#include <sidecar/auth/wrapping_check.hpp>

namespace sidecar::auth {

std::optional<std::string> wrapping_refusal(const nlohmann::json& lookup_data,
                                            std::string_view expected_path) {
  if (!lookup_data.is_object() || !lookup_data.contains("creation_path") ||
      !lookup_data["creation_path"].is_string()) {
    return "the wrapping token's lookup has no creation_path; not unwrapped";
  }
  const auto& path = lookup_data["creation_path"].get_ref<const std::string&>();
  if (path == expected_path) return std::nullopt;
  return "the wrapping token was created by " + path + ", not " + std::string{expected_path} +
         ": it was substituted (a possible attack), so it is not unwrapped";
}

}  // namespace sidecar::auth
