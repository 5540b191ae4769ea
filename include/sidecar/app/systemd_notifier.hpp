#pragma once

#include <sidecar/core/clock.hpp>

#include <optional>
#include <string_view>

namespace sidecar::app {

/// Speaks systemd's notify protocol (sd_notify) when started by systemd with Type=notify:
/// READY=1 once logged in and the start-up fetches are done, STATUS= lines, WATCHDOG=1 pings
/// and STOPPING=1. Without $NOTIFY_SOCKET every call does nothing.
///
/// libsystemd is loaded (dlopen of libsystemd.so.0) only when $NOTIFY_SOCKET is set: linked in,
/// it and what it pulls in (liblzma, libzstd, liblz4, libcap, libgcrypt) were mapped into every
/// sidecar, most of which never run under systemd. When $NOTIFY_SOCKET is set but the library
/// cannot be loaded, a warning says so and notifications are off.
///
/// Thread affinity: io thread only. Errors: a failed send is ignored (systemd may be gone).
class systemd_notifier final {
 public:
  systemd_notifier();

  void ready(std::string_view status);
  void status(std::string_view status);
  void watchdog();
  void stopping();

  /// Half of WatchdogSec when systemd asked for pings, as sd_watchdog_enabled() reports it.
  [[nodiscard]] std::optional<core::duration> watchdog_interval() const noexcept {
    return watchdog_interval_;
  }

 private:
  using notify_function = int (*)(int unset_environment, const char* state);

  void send(std::string_view message);

  notify_function notify_ = nullptr;  ///< sd_notify, null when notifications are off
  std::optional<core::duration> watchdog_interval_;
};

}  // namespace sidecar::app
