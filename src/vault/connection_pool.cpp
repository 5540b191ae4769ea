#include <sidecar/vault/connection_pool.hpp>
#include <sidecar/vault/errc.hpp>

#include <utility>

namespace sidecar::vault {

// A request waiting for a slot. release() hands its slot (and the connection, when reusable)
// straight to the first waiter and wakes it by cancelling its timer, so a request arriving in
// between cannot take the slot first; the timer expiring means the deadline passed.
struct connection_pool::waiter {
  waiter(const net::any_io_executor& executor, connection::deadline until)
      : timer{executor, until} {}
  steady_timer timer;
  bool granted = false;
  std::unique_ptr<connection> handed;
};

connection_pool::checkout::checkout(connection_pool& pool,
                                    std::unique_ptr<connection> held) noexcept
    : pool_{&pool}, connection_{std::move(held)} {}

connection_pool::checkout::checkout(checkout&& other) noexcept
    : pool_{std::exchange(other.pool_, nullptr)},
      connection_{std::move(other.connection_)},
      keep_{other.keep_} {}

connection_pool::checkout::~checkout() {
  if (pool_ != nullptr) pool_->release(std::move(connection_), keep_);
}

void connection_pool::checkout::replace(std::unique_ptr<connection> fresh) noexcept {
  if (connection_) connection_->close();
  connection_ = std::move(fresh);
  keep_ = false;
}

connection_pool::connection_pool(net::any_io_executor executor, core::clock& clock,
                                 std::size_t max_connections, core::duration idle_timeout)
    : executor_{std::move(executor)},
      clock_{clock},
      max_connections_{max_connections},
      idle_timeout_{idle_timeout} {}

connection_pool::~connection_pool() {
  for (auto& entry : idle_) entry.held->close();
}

net::awaitable<result<connection_pool::checkout>> connection_pool::async_acquire(
    connection::deadline until) {
  close_expired();
  while (!idle_.empty()) {
    auto entry = std::move(idle_.back());
    idle_.pop_back();
    if (entry.held->idle_broken()) {
      entry.held->close();
      continue;
    }
    ++busy_;
    co_return checkout{*this, std::move(entry.held)};
  }
  if (busy_ < max_connections_) {
    ++busy_;
    co_return checkout{*this, nullptr};
  }

  waiter self{executor_, until};
  const auto position = waiters_.insert(waiters_.end(), &self);
  // release() unlinks a waiter it grants; every other way out of the wait unlinks here, also
  // when this frame is destroyed without resuming.
  struct unlink {
    std::list<waiter*>& waiters;
    std::list<waiter*>::iterator position;
    const waiter& self;
    ~unlink() {
      if (!self.granted) waiters.erase(position);
    }
  } guard{waiters_, position, self};

  const auto [ec] = co_await self.timer.async_wait();
  if (self.granted) co_return checkout{*this, std::move(self.handed)};
  if (ec == net::error::operation_aborted) co_return ec;
  co_return make_error_code(errc::timeout);
}

void connection_pool::release(std::unique_ptr<connection> held, bool reusable) noexcept {
  if (held && !reusable) {
    held->close();
    held.reset();
  }
  if (!waiters_.empty()) {
    waiter* next = waiters_.front();
    waiters_.pop_front();
    next->granted = true;
    next->handed = std::move(held);
    next->timer.cancel();
    return;
  }
  --busy_;
  if (held) idle_.push_back({std::move(held), clock_.now()});
}

void connection_pool::close_expired() noexcept {
  const auto now = clock_.now();
  while (!idle_.empty() && now - idle_.front().since >= idle_timeout_) {
    idle_.front().held->close();
    idle_.pop_front();
  }
}

}  // namespace sidecar::vault
