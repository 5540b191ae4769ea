#pragma once

#include <sidecar/app/local_request.hpp>
#include <sidecar/config/config.hpp>
#include <sidecar/config/parser.hpp>
#include <sidecar/core/asio.hpp>

#include <chrono>
#include <iosfwd>
#include <string>
#include <variant>

namespace sidecar::app {

/// How long `vault-sidecar health` waits for the whole exchange (connect, request, answer).
inline constexpr std::chrono::seconds health_deadline{2};

/// Where the running sidecar answers: its TCP endpoint, or the path of its unix socket.
using health_target = listener_target;

/// Why a listener configuration offers nothing to ask.
struct health_target_error {
  std::string message;
};

/// Pure: the TCP listener when one is configured (`host:port`, `[v6]:port`, `localhost` is
/// 127.0.0.1), else the unix socket; an error when neither is usable.
[[nodiscard]] std::variant<health_target, health_target_error> find_health_target(
    const config::listener_config& listener);

/// Asks `GET /sidecar/v1/health` at `target` within `deadline`. Prints the answer's body (the
/// health JSON) to `out`; 0 when the answer is 200 (ready), 1 for anything else — 503 while
/// starting or degraded, no listener, a timeout — with the reason on `err`. Blocking: runs its
/// own io_context on the calling thread.
[[nodiscard]] int probe_health(const health_target& target, std::chrono::milliseconds deadline,
                               std::ostream& out, std::ostream& err);

/// `vault-sidecar health [--config FILE]`: finds the listener in the configuration and
/// probe_health()s it with health_deadline. Returns 0 or 1 only, as Docker's HEALTHCHECK and
/// Kubernetes' exec probes expect; a bad configuration is 1, with its problems on `err`.
[[nodiscard]] int run_health(const std::string& config_path, const config::env_lookup& env,
                             std::ostream& out, std::ostream& err);

}  // namespace sidecar::app
