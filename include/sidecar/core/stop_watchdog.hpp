#pragma once

#include <sidecar/core/asio.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace sidecar::core {

/// Stops an io_context that is still busy a while after a shutdown began: a pending timer or a
/// stuck peer must not hold the process hostage. The countdown runs on a thread of its own, so
/// the io thread calls io_context::run() undisturbed (run_for() in a loop would read the clock
/// and take the scheduler's lock once per handler, on every request).
///
/// Thread affinity: arm() and disarm() from any thread; `on_expiry` runs on the watchdog's
/// thread, just before io_context::stop().
class stop_watchdog {
 public:
  explicit stop_watchdog(net::io_context& io) : io_(io) {}
  stop_watchdog(const stop_watchdog&) = delete;
  stop_watchdog& operator=(const stop_watchdog&) = delete;
  ~stop_watchdog() { disarm(); }

  /// Starts the countdown; only the first call counts. Unless disarm() comes first, `on_expiry`
  /// runs after `grace` and then the io_context stops.
  void arm(std::chrono::nanoseconds grace, std::function<void()> on_expiry);
  /// Ends the countdown (the io_context finished in time) and joins the thread.
  void disarm();

 private:
  net::io_context& io_;
  std::mutex mutex_;
  std::condition_variable finished_;
  bool armed_ = false;
  bool disarmed_ = false;
  std::thread thread_;
};

}  // namespace sidecar::core
