#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace sidecar::auth {

/// Whether a response-wrapping token may be unwrapped, judged from its
/// `POST /v1/sys/wrapping/lookup` data: its creation_path must be exactly the configured
/// auth.secret_id_response_wrapping_path. A token made by any other request was substituted
/// for the one the orchestrator delivered (Vault's own advice: check the path before
/// unwrapping), so it is an attack and is never unwrapped.
/// nullopt: unwrap it; else the reason, naming both paths (neither is a secret).
[[nodiscard]] std::optional<std::string> wrapping_refusal(const nlohmann::json& lookup_data,
                                                          std::string_view expected_path);

}  // namespace sidecar::auth
