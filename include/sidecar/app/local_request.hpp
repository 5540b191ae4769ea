#pragma once

#include <sidecar/core/asio.hpp>
#include <sidecar/core/result.hpp>

#include <cstdint>
#include <string>
#include <variant>

namespace sidecar::app {

/// Where a running sidecar answers: its TCP endpoint, or the path of its unix socket.
using listener_target = std::variant<tcp::endpoint, std::string>;

/// Pure: "127.0.0.1:8100", "[::1]:8100" or "unix:/run/vault-sidecar/sidecar.sock", for messages.
[[nodiscard]] std::string describe_target(const listener_target& target);

/// Sends `request` to the sidecar at `target` over a fresh connection and reads the answer, every
/// step (connect, write, read) sharing the one `deadline`. Sets `Host` (the loopback name the
/// listener's browser guard accepts), `User-Agent` and `Connection: close`; the caller sets the
/// method, the target and any other header. An answer body over `body_limit` is an error.
/// Blocking: runs its own io_context on the calling thread. Errors: the socket's (refused, no
/// such file, reset, beast::error::timeout at the deadline) or Beast's HTTP parser's.
[[nodiscard]] result<string_response> local_request(const listener_target& target,
                                                    string_request request,
                                                    net::steady_timer::time_point deadline,
                                                    std::uint64_t body_limit);

}  // namespace sidecar::app
