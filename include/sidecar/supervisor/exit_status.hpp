#pragma once

#include <sidecar/core/result.hpp>

// How a child's end becomes the sidecar's exit code in exec mode (DESIGN.md "Command line": the
// child's code), spelled the way a shell reports it.

namespace sidecar::supervisor {

/// The exit code of a child reaped with waitid(), from its siginfo's si_code and si_status: its
/// own code when it exited (CLD_EXITED), 128 + the signal number when a signal ended it
/// (CLD_KILLED, CLD_DUMPED). Pure.
[[nodiscard]] int exit_code_of(int code, int status) noexcept;

/// What a shell answers when a command cannot be run: 127 when it was not found (ENOENT),
/// 126 when it was found but could not be executed (EACCES, ENOEXEC, ...). Pure.
[[nodiscard]] int exit_code_of_spawn_failure(const boost::system::error_code& ec) noexcept;

}  // namespace sidecar::supervisor
