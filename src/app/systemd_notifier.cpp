#include <sidecar/app/systemd_notifier.hpp>

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace sidecar::app {

systemd_notifier::systemd_notifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  if (enabled_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_interval_ = std::chrono::microseconds{usec / 2};
  }
}

void systemd_notifier::send(std::string_view message) {
  if (!enabled_) return;
  const std::string text{message};
  (void)sd_notify(0, text.c_str());
}

void systemd_notifier::ready(std::string_view status) {
  send("READY=1\nSTATUS=" + std::string{status});
}

void systemd_notifier::status(std::string_view status) { send("STATUS=" + std::string{status}); }

void systemd_notifier::watchdog() { send("WATCHDOG=1"); }

void systemd_notifier::stopping() { send("STOPPING=1"); }

}  // namespace sidecar::app
