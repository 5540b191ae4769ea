#pragma once

#include <sidecar/core/secret_string.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sidecar::supervisor {

/// [env] values as rendered, in file order: variable name -> value.
using environment_values = std::vector<std::pair<std::string, core::secret_string>>;

/// The variables the sidecar reads its own AppRole credentials from: never handed to a child,
/// since keeping credentials away from the app is the point of the sidecar.
inline constexpr std::string_view credential_variables[] = {"VAULT_ROLE_ID", "VAULT_SECRET_ID"};

/// The environment of a child as "NAME=value" entries: `base` (a NULL-terminated `environ`-style
/// array: the sidecar's own environment) without the credential variables and without the
/// names `added` sets, then `added` in order. Entries are secret_strings, so the values are
/// cleansed when the caller lets go of them. Pure.
[[nodiscard]] std::vector<core::secret_string> child_environment(const char* const* base,
                                                                 const environment_values& added);

}  // namespace sidecar::supervisor
