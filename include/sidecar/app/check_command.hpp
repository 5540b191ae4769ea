#pragma once

#include <sidecar/config/config.hpp>
#include <sidecar/config/parser.hpp>
#include <sidecar/config/problem.hpp>

#include <iosfwd>
#include <string>
#include <vector>

namespace sidecar::app {

/// `vault-sidecar check`: loads and validates the file at `config_path` (with the VAULT_*
/// overrides from `env`). Valid: prints describe() to `out`, returns 0. Otherwise prints every
/// problem to `err` and returns 78. Never contacts Vault and never reads credential files.
[[nodiscard]] int run_check(const std::string& config_path, const config::env_lookup& env,
                            std::ostream& out, std::ostream& err);

/// The effective configuration as INI text (defaults filled in, overrides applied), which
/// parses back to the same configuration. Credentials are never shown: for role_id and
/// secret_id it says only which file or variable they will come from and whether it is set.
[[nodiscard]] std::string describe(const config::config& cfg, const config::env_lookup& env);

/// A count line, then one `file:line: section.key: reason` line per problem.
void print_problems(const std::vector<config::problem>& problems, std::ostream& err);

}  // namespace sidecar::app
