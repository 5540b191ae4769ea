#include <sidecar/app/systemd_notifier.hpp>
#include <sidecar/core/log.hpp>

#include <dlfcn.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace sidecar::app {
namespace {

using watchdog_function = int (*)(int unset_environment, std::uint64_t* usec);

// dlsym hands back an object pointer; POSIX guarantees it converts to the function's type.
template <class Function>
Function symbol(void* library, const char* name) {
  return reinterpret_cast<Function>(dlsym(library, name));
}

}  // namespace

systemd_notifier::systemd_notifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  if (socket == nullptr || *socket == '\0') return;
  // Never closed: the notifier speaks to systemd until the process ends.
  void* library = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (library != nullptr) notify_ = symbol<notify_function>(library, "sd_notify");
  if (notify_ == nullptr) {
    const char* why = dlerror();
    core::logger("app")->warn(
        "NOTIFY_SOCKET is set but libsystemd.so.0 could not be loaded ({}): no readiness, "
        "status or watchdog notifications to systemd",
        why != nullptr ? why : "no sd_notify");
    return;
  }
  const auto watchdog_enabled = symbol<watchdog_function>(library, "sd_watchdog_enabled");
  std::uint64_t usec = 0;
  if (watchdog_enabled != nullptr && watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_interval_ = std::chrono::microseconds{usec / 2};
  }
}

void systemd_notifier::send(std::string_view message) {
  if (notify_ == nullptr) return;
  const std::string text{message};
  (void)notify_(0, text.c_str());
}

void systemd_notifier::ready(std::string_view status) {
  send("READY=1\nSTATUS=" + std::string{status});
}

void systemd_notifier::status(std::string_view status) { send("STATUS=" + std::string{status}); }

void systemd_notifier::watchdog() { send("WATCHDOG=1"); }

void systemd_notifier::stopping() { send("STOPPING=1"); }

}  // namespace sidecar::app
