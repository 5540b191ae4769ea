#pragma once

#include <sidecar/core/asio.hpp>

#include <string_view>

namespace sidecar::app {

/// The exit code for a failed login (DESIGN.md "Command line"): 77 refused, 69 unreachable for
/// login_timeout, else 70. Shared by the daemon and `check --online`. Pure.
[[nodiscard]] int login_exit_code(const error_code& ec) noexcept;

}  // namespace sidecar::app
