#pragma once

#include <sidecar/core/asio.hpp>
#include <sidecar/core/clock.hpp>
#include <sidecar/core/result.hpp>
#include <sidecar/vault/connection.hpp>

#include <cstddef>
#include <deque>
#include <list>
#include <memory>

namespace sidecar::vault {

/// Keep-alive connections to one Vault, and a cap on how many exist at once, so a slow Vault
/// cannot make the sidecar pile up sockets: past the cap a request waits for a slot.
///
/// A connection comes back to the pool only when its owner says so (after a complete answer with
/// keep-alive). Idle connections are reused newest first; one idle for `idle_timeout` (on the
/// injected clock) or closed by the server is closed when the pool is next used, before anything
/// is sent on it.
///
/// Thread affinity: io thread only. Cancellation: a cancelled wait for a slot returns
/// operation_aborted and leaves the queue. Errors: errc::timeout when the deadline passes while
/// waiting for a slot. The pool must outlive every checkout.
class connection_pool {
 public:
  /// A slot, with the connection to use (null until the owner makes one). Releases the slot when
  /// destroyed: the connection goes back to the pool only after keep().
  class checkout {
   public:
    checkout(connection_pool& pool, std::unique_ptr<connection> held) noexcept;
    checkout(checkout&& other) noexcept;
    checkout& operator=(checkout&&) = delete;
    checkout(const checkout&) = delete;
    checkout& operator=(const checkout&) = delete;
    ~checkout();

    [[nodiscard]] connection* get() const noexcept { return connection_.get(); }
    /// Puts `fresh` in the slot; the connection held so far is closed.
    void replace(std::unique_ptr<connection> fresh) noexcept;
    /// The connection may serve another request: return it to the pool on release.
    void keep() noexcept { keep_ = true; }

   private:
    connection_pool* pool_;
    std::unique_ptr<connection> connection_;
    bool keep_ = false;
  };

  connection_pool(net::any_io_executor executor, core::clock& clock, std::size_t max_connections,
                  core::duration idle_timeout);
  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;
  ~connection_pool();

  /// A slot with an idle connection when one is usable, else an empty slot; waits for a slot
  /// while `max_connections` are busy, until `until`.
  net::awaitable<result<checkout>> async_acquire(connection::deadline until);

  [[nodiscard]] std::size_t idle() const noexcept { return idle_.size(); }
  [[nodiscard]] std::size_t busy() const noexcept { return busy_; }

 private:
  struct idle_entry {
    std::unique_ptr<connection> held;
    core::time_point since;
  };
  struct waiter;

  void release(std::unique_ptr<connection> held, bool reusable) noexcept;
  void close_expired() noexcept;

  net::any_io_executor executor_;
  core::clock& clock_;
  std::size_t max_connections_;
  core::duration idle_timeout_;
  std::deque<idle_entry> idle_;  ///< oldest first
  std::size_t busy_ = 0;         ///< slots checked out
  std::list<waiter*> waiters_;   ///< first come, first served
};

}  // namespace sidecar::vault
