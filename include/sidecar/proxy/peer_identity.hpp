#pragma once

#include <sidecar/core/asio.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

namespace sidecar::proxy {

/// Who is at the other end of a local connection, as the kernel tells it. Every member is
/// nullopt when the kernel could not say: an unknown caller, never taken for root.
struct peer_identity {
  std::optional<std::uint32_t> uid;
  std::optional<std::uint32_t> gid;  ///< unix socket only (loopback TCP tells the uid alone)
  std::optional<std::int32_t> pid;   ///< unix socket only

  friend bool operator==(const peer_identity&, const peer_identity&) = default;
};

/// SO_PEERCRED of a connected unix socket: the peer's uid, gid and pid when it connected.
[[nodiscard]] peer_identity unix_peer_identity(int socket_fd) noexcept;

/// The uid owning the peer's end of a loopback TCP connection, found through the kernel's socket
/// diagnostics (NETLINK_SOCK_DIAG, inet_diag): an exact look-up of the peer's socket by its
/// address and port pair (`remote` is the peer's own address, `local` ours), IPv4 or IPv6.
/// A synchronous call into the kernel, bounded by `deadline` (SO_RCVTIMEO); any failure
/// (no netlink, a seccomp or RestrictAddressFamilies refusal, the socket gone) is an unknown
/// caller. Thread-safe: one short-lived netlink socket per call.
[[nodiscard]] peer_identity tcp_peer_identity(
    const tcp::endpoint& local, const tcp::endpoint& remote,
    std::chrono::milliseconds deadline = std::chrono::milliseconds{200}) noexcept;

}  // namespace sidecar::proxy
