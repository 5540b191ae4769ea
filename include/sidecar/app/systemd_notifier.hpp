#pragma once

#include <sidecar/core/clock.hpp>

#include <optional>
#include <string_view>

namespace sidecar::app {

/// Speaks systemd's notify protocol (sd_notify) when started by systemd with Type=notify:
/// READY=1 once logged in and the start-up fetches are done, STATUS= lines, WATCHDOG=1 pings
/// and STOPPING=1. Without $NOTIFY_SOCKET every call does nothing.
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
  void send(std::string_view message);

  bool enabled_ = false;
  std::optional<core::duration> watchdog_interval_;
};

}  // namespace sidecar::app
