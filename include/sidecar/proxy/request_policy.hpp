#pragma once

#include <sidecar/config/config.hpp>

namespace sidecar::proxy {

/// What the listener checks each request against: `proxy.allow`, `proxy.forward_writes`, of
/// the listener section `require_request_header` and `enable_quit` (router.hpp), and the
/// [client.*] sections (client_access.hpp). Immutable
/// once published; a reload (SIGHUP) publishes a new one instead of changing this one, so a
/// request is routed by one consistent policy from start to end.
struct request_policy {
  config::proxy_config proxy;
  config::listener_config listener;
  std::vector<config::client_config> clients;  ///< empty: every caller may read all of `proxy`
};

}  // namespace sidecar::proxy
