#pragma once

#include <sidecar/config/config.hpp>

namespace sidecar::app {

/// Keeps secrets out of places they must never reach, before any secret is read: no core dump
/// (PR_SET_DUMPABLE 0, RLIMIT_CORE 0 — which also bars ptrace attach by other users), files
/// created private (umask 077), SIGPIPE ignored, and with `[security] lock_memory` every page
/// locked in RAM (mlockall) so secrets are never swapped out. A failed mlockall is reported and
/// the daemon goes on (the operator asked for a hardening the host may not grant).
void harden_process(const config::security_config& security);

}  // namespace sidecar::app
