#include <sidecar/proxy/lazy_deadline.hpp>

namespace sidecar::proxy {

lazy_deadline::lazy_deadline(const net::any_io_executor& executor) : timer_{executor} {}

void lazy_deadline::expires_after(core::duration timeout) {
  deadline_ = clock::now() + std::chrono::duration_cast<clock::duration>(timeout);
  // Later than the armed time (the common case): the timer notices when it wakes.
  if (deadline_ < armed_for_) timer_.cancel();
}

net::awaitable<void> lazy_deadline::async_watch(std::function<void()> on_expiry) {
  while (!stopped_) {
    armed_for_ = deadline_;
    timer_.expires_at(armed_for_);
    co_await timer_.async_wait();
    if (stopped_) break;
    if (clock::now() >= deadline_) {
      deadline_ = clock::time_point::max();
      on_expiry();
    }
  }
}

void lazy_deadline::stop() {
  stopped_ = true;
  timer_.cancel();
}

}  // namespace sidecar::proxy
