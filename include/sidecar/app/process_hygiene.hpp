#pragma once

#include <sidecar/config/config.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace sidecar::app {

/// File descriptors the daemon needs besides its listener's connections: the upstream pool
/// (32), the listeners, signal and timer fds, the log, the exec child's pipes, with room.
inline constexpr std::uint64_t fds_besides_connections = 128;

/// Whether a soft RLIMIT_NOFILE of `soft` leaves a descriptor for each of `max_connections`
/// plus fds_besides_connections. Pure.
[[nodiscard]] bool open_file_limit_suffices(std::uint64_t soft,
                                            std::size_t max_connections) noexcept;

/// Raises the soft RLIMIT_NOFILE to the hard limit (many hosts start services at a soft 1024
/// with a far higher hard limit), and warns when even that cannot hold `max_connections`:
/// past it, accept fails with EMFILE and clients wait instead of being served. Returns the
/// soft limit now in force.
std::uint64_t raise_open_file_limit(std::size_t max_connections);

/// Removes `names` from the process environment once they have been read, overwriting their
/// values in place first: unsetenv alone leaves the bytes in the environment block the kernel
/// shows in /proc/<pid>/environ for the life of the process. For VAULT_ROLE_ID and
/// VAULT_SECRET_ID, read once at start-up.
void scrub_environment(std::initializer_list<const char*> names) noexcept;

/// Keeps secrets out of places they must never reach, before any secret is read: no core dump
/// (PR_SET_DUMPABLE 0, RLIMIT_CORE 0 — which also bars ptrace attach by other users), files
/// created private (umask 077), SIGPIPE ignored, and with `[security] lock_memory` every page
/// locked in RAM (mlockall) so secrets are never swapped out. A failed mlockall is reported and
/// the daemon goes on (the operator asked for a hardening the host may not grant).
void harden_process(const config::security_config& security);

}  // namespace sidecar::app
