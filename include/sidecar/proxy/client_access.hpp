#pragma once

#include <sidecar/config/config.hpp>
#include <sidecar/proxy/peer_identity.hpp>
#include <sidecar/proxy/router.hpp>

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace sidecar::proxy {

/// The first client, in file order, whose `users` or `groups` match `peer`: its uid among the
/// client's uids, its gid (when the kernel told it) among the client's gids, or its uid among
/// the users whose primary or supplementary groups include one of them (resolved at load).
/// nullopt for no match, and always for an unknown peer. Pure.
[[nodiscard]] std::optional<std::size_t> match_client(
    const std::vector<config::client_config>& clients, const peer_identity& peer) noexcept;

/// Applies the [client.*] sections to an allowed decision; the answer when none is configured,
/// or for a denial, is `decision` unchanged. Without a matching client (`client` nullopt) only
/// the probes pass (GET/HEAD /sidecar/v1/health and the metrics endpoints), everything else is
/// 403; a matching client may read (and, with forward_writes, write) only inside its own
/// `allow`; a lease housekeeping request carries that `allow` to the handler, which answers
/// leases outside it as unknown; a KV mount preflight passes only about a path in it
/// (mount_preflight.hpp). Checked before the handler, so a refused read takes no cache look-up,
/// no single-flight slot and no upstream call. Pure.
[[nodiscard]] route_decision check_client_access(route_decision decision,
                                                 const std::vector<config::client_config>& clients,
                                                 std::optional<std::size_t> client,
                                                 const peer_identity& peer);

}  // namespace sidecar::proxy
