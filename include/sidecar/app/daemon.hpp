#pragma once

#include <sidecar/config/config.hpp>

namespace sidecar::app {

/// Runs the sidecar with a validated configuration until it stops; returns the process exit
/// code (app/exit_code.hpp, or the child's code in exec mode). Logging is already configured
/// from `cfg.log` when this is called.
[[nodiscard]] int run_daemon(const config::config& cfg);

}  // namespace sidecar::app
