#pragma once

#include <sidecar/core/asio.hpp>
#include <sidecar/core/result.hpp>

#include <string_view>

namespace sidecar::proxy {

/// The endpoint of a `listener.address` ("host:port" or "[v6]:port"; "localhost" is
/// 127.0.0.1; port 0 binds any free port, which tests use). proxy::errc
/// invalid_listen_address for anything unparsable, not_loopback for any other host: config
/// validation refuses those already, and this is the second line of defence, since a mistake here
/// would publish the sidecar's token to the network. Pure; also used by `vault-sidecar health` to
/// find the listener.
[[nodiscard]] result<tcp::endpoint> loopback_endpoint(std::string_view address);

}  // namespace sidecar::proxy
