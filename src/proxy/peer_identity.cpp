#include <sidecar/proxy/peer_identity.hpp>

#include <array>
#include <cstring>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace sidecar::proxy {
namespace {

// Closes the netlink socket on every path out.
struct descriptor {
  int fd;
  ~descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

// inet_diag's addresses are four 32-bit words in network order; IPv4 uses the first.
void copy_address(const net::ip::address& address, __be32 (&out)[4]) {
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    std::memcpy(&out[0], bytes.data(), bytes.size());
  } else {
    const auto bytes = address.to_v6().to_bytes();
    std::memcpy(&out[0], bytes.data(), bytes.size());
  }
}

struct diag_request {
  nlmsghdr header;
  inet_diag_req_v2 body;
};

}  // namespace

peer_identity unix_peer_identity(int socket_fd) noexcept {
  ucred credentials{};
  socklen_t size = sizeof credentials;
  if (::getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0 ||
      size != sizeof credentials) {
    return {};
  }
  return peer_identity{.uid = credentials.uid, .gid = credentials.gid, .pid = credentials.pid};
}

peer_identity tcp_peer_identity(const tcp::endpoint& local, const tcp::endpoint& remote,
                                std::chrono::milliseconds deadline) noexcept {
  if (local.address().is_v4() != remote.address().is_v4()) return {};
  const descriptor netlink{::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)};
  if (netlink.fd < 0) return {};
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(deadline).count();
  const timeval timeout{.tv_sec = micros / 1000000, .tv_usec = micros % 1000000};
  if (::setsockopt(netlink.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) return {};

  // Without NLM_F_DUMP the kernel looks up exactly one socket: the one whose own address and
  // port are `idiag_src`/`idiag_sport` and whose peer is `idiag_dst`/`idiag_dport` - the caller's
  // end of this connection, seen from its side.
  diag_request request{};
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.header.nlmsg_flags = NLM_F_REQUEST;
  request.header.nlmsg_seq = 1;
  auto& query = request.body;
  query.sdiag_family = remote.address().is_v4() ? AF_INET : AF_INET6;
  query.sdiag_protocol = IPPROTO_TCP;
  query.idiag_states = ~0u;
  query.id.idiag_sport = htons(remote.port());
  query.id.idiag_dport = htons(local.port());
  copy_address(remote.address(), query.id.idiag_src);
  copy_address(local.address(), query.id.idiag_dst);
  query.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  query.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(netlink.fd, &request, sizeof request, 0, reinterpret_cast<const sockaddr*>(&kernel),
               sizeof kernel) != static_cast<ssize_t>(sizeof request)) {
    return {};
  }
  alignas(nlmsghdr) std::array<char, 8192> answer{};
  const ssize_t got = ::recv(netlink.fd, answer.data(), answer.size(), 0);
  if (got <= 0) return {};
  auto length = static_cast<unsigned>(got);
  for (auto* header = reinterpret_cast<nlmsghdr*>(answer.data()); NLMSG_OK(header, length);
       header = NLMSG_NEXT(header, length)) {
    if (header->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
        header->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) {
      return {};  // NLMSG_ERROR (ENOENT: no such socket) or something unexpected
    }
    const auto* found = static_cast<const inet_diag_msg*>(NLMSG_DATA(header));
    // The kernel matched on these; checked again so a surprise can only ever mean "unknown".
    if (found->id.idiag_sport != query.id.idiag_sport ||
        found->id.idiag_dport != query.id.idiag_dport ||
        std::memcmp(found->id.idiag_src, query.id.idiag_src, sizeof query.id.idiag_src) != 0 ||
        std::memcmp(found->id.idiag_dst, query.id.idiag_dst, sizeof query.id.idiag_dst) != 0) {
      return {};
    }
    return peer_identity{.uid = found->idiag_uid, .gid = std::nullopt, .pid = std::nullopt};
  }
  return {};
}

}  // namespace sidecar::proxy
