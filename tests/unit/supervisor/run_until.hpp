#pragma once

#include <sidecar/core/asio.hpp>

#include <chrono>

namespace sidecar::testing {

/// Runs `io` on this thread until `done()` holds or `limit` has passed; whether it holds.
template <class Predicate>
bool run_until(net::io_context& io, Predicate done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds{5});
  }
  return true;
}

}  // namespace sidecar::testing
