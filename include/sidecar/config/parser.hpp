#pragma once

#include <sidecar/config/config.hpp>
#include <sidecar/config/problem.hpp>

#include <boost/system/result.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::config {

/// Reads one environment variable; nothing when it is unset. Injected so that tests never read
/// or change the process environment.
using env_lookup = std::function<std::optional<std::string>(std::string_view name)>;

/// The process environment (getenv). For start-up only: getenv races with setenv.
[[nodiscard]] env_lookup process_environment();

/// Either a validated configuration or every problem found (never just the first), sorted by
/// line, the environment's last.
using load_result = boost::system::result<config, std::vector<problem>>;

/// Reads the INI file at `path`, gives every key its meaning and checks every rule of the
/// configuration contract (DESIGN.md), then applies the overrides VAULT_ADDR, VAULT_CACERT,
/// VAULT_CLIENT_CERT, VAULT_CLIENT_KEY, VAULT_TLS_SERVER_NAME, VAULT_SKIP_VERIFY and
/// VAULT_NAMESPACE from `env` (an empty variable counts as unset, as in Vault's own CLI).
/// Credentials (VAULT_ROLE_ID, VAULT_SECRET_ID) are not configuration: the auth module reads
/// them. An unreadable file is one problem: `path: cannot read: <reason>`.
[[nodiscard]] load_result load(const std::string& path, const env_lookup& env);

/// load() for text already in memory; `file` only locates problems. Pure.
[[nodiscard]] load_result parse(std::string_view text, const std::string& file,
                                const env_lookup& env);

}  // namespace sidecar::config
