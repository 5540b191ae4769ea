#pragma once

// The process exit codes (DESIGN.md "Command line"), from sysexits.h so that init systems and
// scripts can tell a configuration mistake from an outage. In exec mode the child's own code is
// returned instead.

namespace sidecar::app::exit_code {

inline constexpr int ok = 0;       ///< clean stop, or `check` found nothing wrong
inline constexpr int failed = 1;   ///< `check --online`, `health`, `get`: any other failure
inline constexpr int missing = 2;  ///< `get`: no such secret (404) or no such field
inline constexpr int refused = 3;  ///< `get`: the sidecar refused the path (403)
inline constexpr int usage = 64;   ///< EX_USAGE: bad command line
inline constexpr int unavailable =
    69;  ///< EX_UNAVAILABLE: Vault unreachable at start; `get`: the sidecar
inline constexpr int internal = 70;       ///< EX_SOFTWARE: a bug or an unexpected failure
inline constexpr int token_lost = 75;     ///< EX_TEMPFAIL: renewal failed, policy `exit`
inline constexpr int login_refused = 77;  ///< EX_NOPERM: Vault refused the AppRole login
inline constexpr int bad_config = 78;     ///< EX_CONFIG: the configuration has problems

}  // namespace sidecar::app::exit_code
