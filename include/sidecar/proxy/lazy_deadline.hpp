#pragma once

#include <sidecar/core/asio.hpp>
#include <sidecar/core/clock.hpp>

#include <chrono>
#include <functional>

namespace sidecar::proxy {

/// A connection's deadline, kept by one timer that is re-armed lazily. Setting a deadline only
/// stores a time: a keep-alive request costs no timer-queue work (a timer per read and write,
/// as beast::basic_stream keeps, was a tenth of a cached hit's cost). When the timer wakes
/// before the deadline it sleeps again until it; only a deadline that moves earlier than the
/// armed one wakes it at once.
///
/// Thread affinity: everything on the executor given to the constructor (the session's strand).
class lazy_deadline {
 public:
  using clock = std::chrono::steady_clock;

  explicit lazy_deadline(const net::any_io_executor& executor);

  void expires_after(core::duration timeout);
  /// No deadline: the session is waiting on something with deadlines of its own (the handler).
  void expires_never() noexcept { deadline_ = clock::time_point::max(); }
  [[nodiscard]] clock::time_point deadline() const noexcept { return deadline_; }

  /// Runs until stop(): calls `on_expiry` each time the deadline passes, then waits for a new
  /// one. Spawn it next to the session's loop, with a completion that keeps the owner alive.
  net::awaitable<void> async_watch(std::function<void()> on_expiry);
  /// Ends async_watch() at its next wake-up, which this brings forward to now.
  void stop();

 private:
  steady_timer timer_;
  clock::time_point deadline_ = clock::time_point::max();
  clock::time_point armed_for_ = clock::time_point::max();
  bool stopped_ = false;
};

}  // namespace sidecar::proxy
