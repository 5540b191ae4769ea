#pragma once

#include <sidecar/core/clock.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace sidecar::proxy {

/// Per-connection limits of the local listener. Not part of the INI contract: the defaults
/// suit any local client, and tests shorten the timeouts.
struct listener_limits {
  std::uint32_t header_limit = 16 * 1024;  ///< request line + headers; above: 431
  std::uint64_t body_limit = 1024 * 1024;  ///< request body; above: 413
  /// From accepting a connection, or from the first byte of a later request, to the end of
  /// the header: a client trickling bytes is cut off here.
  core::duration header_timeout = std::chrono::seconds{10};
  core::duration body_timeout = std::chrono::seconds{30};   ///< reading one request body
  core::duration write_timeout = std::chrono::seconds{30};  ///< writing one answer
  core::duration idle_timeout = std::chrono::seconds{60};   ///< keep-alive wait between requests
  /// After an error answer that closes the connection, unread request bytes are drained this
  /// long so the client reads the answer instead of a reset.
  core::duration linger_timeout = std::chrono::seconds{2};
  /// stop(): in-flight requests get this long to finish before their connections are closed.
  core::duration shutdown_grace = std::chrono::seconds{5};
  /// Open connections at most; a connection accepted beyond it is closed at once.
  std::size_t max_connections = 1024;
};

}  // namespace sidecar::proxy
