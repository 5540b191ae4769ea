#include <sidecar/core/stop_watchdog.hpp>

#include <boost/asio/io_context.hpp>

namespace sidecar::core {

void stop_watchdog::arm(std::chrono::nanoseconds grace, std::function<void()> on_expiry) {
  const std::lock_guard lock{mutex_};
  if (armed_ || disarmed_) return;
  armed_ = true;
  thread_ = std::thread([this, grace, on_expiry = std::move(on_expiry)] {
    std::unique_lock wait_lock{mutex_};
    if (finished_.wait_for(wait_lock, grace, [this] { return disarmed_; })) return;
    wait_lock.unlock();
    if (on_expiry) on_expiry();
    io_.stop();
  });
}

void stop_watchdog::disarm() {
  {
    const std::lock_guard lock{mutex_};
    disarmed_ = true;
  }
  finished_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

}  // namespace sidecar::core
