#include <sidecar/supervisor/child_environment.hpp>

#include <algorithm>

namespace sidecar::supervisor {

std::vector<core::secret_string> child_environment(const char* const* base,
                                                   const environment_values& added) {
  const auto dropped = [&added](std::string_view name) {
    return std::find(std::begin(credential_variables), std::end(credential_variables), name) !=
               std::end(credential_variables) ||
           std::any_of(added.begin(), added.end(),
                       [name](const auto& entry) { return entry.first == name; });
  };
  std::vector<core::secret_string> entries;
  for (; base != nullptr && *base != nullptr; ++base) {
    const std::string_view entry{*base};
    if (!dropped(entry.substr(0, entry.find('=')))) entries.emplace_back(entry);
  }
  for (const auto& [name, value] : added) {
    std::string entry;
    entry.reserve(name.size() + 1 + value.size());
    entry.append(name).append(1, '=').append(value.reveal());
    entries.emplace_back(std::string_view{entry});
    core::cleanse(entry);
  }
  return entries;
}

}  // namespace sidecar::supervisor
