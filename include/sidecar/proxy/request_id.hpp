#pragma once

#include <string>

namespace sidecar::proxy {

/// A random UUID (version 4, RFC 9562) for the `request_id` of an answer the sidecar writes
/// itself, as Vault gives every answer one (lease and token housekeeping). Safe from any thread:
/// a per-thread generator, seeded once.
[[nodiscard]] std::string new_request_id();

}  // namespace sidecar::proxy
