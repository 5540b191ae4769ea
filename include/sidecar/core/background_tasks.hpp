#pragma once

#include <sidecar/core/asio.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <spdlog/logger.h>

#include <memory>
#include <vector>

namespace sidecar::core {

/// The long-running loops of an engine (token renewal, cache refresh, watchdog, ...): spawned on
/// one executor and cancelled together when it stops. A loop that ends with an exception is
/// logged as "<name> failed: <what>" on the owner's logger; one that ends normally, silently.
///
/// Thread affinity: spawn() and cancel_all() on the executor (the engine's strand).
/// Cancellation: cancel_all() emits terminal cancellation into every task spawned so far.
class background_tasks {
 public:
  background_tasks(net::any_io_executor executor, std::shared_ptr<spdlog::logger> log);

  /// `name` is a string literal: it is kept until the task ends.
  void spawn(const char* name, net::awaitable<void> task);
  void cancel_all();

 private:
  net::any_io_executor executor_;
  std::shared_ptr<spdlog::logger> log_;
  std::vector<std::unique_ptr<net::cancellation_signal>> signals_;
};

}  // namespace sidecar::core
