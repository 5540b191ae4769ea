#include <sidecar/proxy/peer_identity.hpp>

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

using namespace sidecar;

TEST_CASE("peer_identity: SO_PEERCRED tells uid, gid and pid on a unix socket", "[proxy]") {
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
  const auto peer = proxy::unix_peer_identity(pair[0]);
  ::close(pair[0]);
  ::close(pair[1]);
  CHECK(peer.uid == ::geteuid());
  CHECK(peer.gid == ::getegid());
  CHECK(peer.pid == ::getpid());
}

TEST_CASE("peer_identity: a descriptor that is no socket is an unknown caller", "[proxy]") {
  CHECK(proxy::unix_peer_identity(-1) == proxy::peer_identity{});
}

TEST_CASE("peer_identity: loopback TCP peers are found by their exact address pair", "[proxy]") {
  for (const auto* loopback : {"127.0.0.1", "::1"}) {
    INFO(loopback);
    net::io_context io;
    tcp::acceptor acceptor{io, tcp::endpoint{net::ip::make_address(loopback), 0}};
    tcp::socket client{io};
    client.connect(acceptor.local_endpoint());
    tcp::socket accepted = acceptor.accept();
    const auto peer =
        proxy::tcp_peer_identity(accepted.local_endpoint(), accepted.remote_endpoint());
    CHECK(peer.uid == ::geteuid());
    CHECK_FALSE(peer.gid);
    CHECK_FALSE(peer.pid);

    // Another port: no such socket, so no one (never root by default).
    auto wrong = accepted.remote_endpoint();
    wrong.port(static_cast<unsigned short>(wrong.port() == 65535 ? 1 : wrong.port() + 1));
    CHECK(proxy::tcp_peer_identity(accepted.local_endpoint(), wrong) == proxy::peer_identity{});
  }
}

TEST_CASE("peer_identity: mixed address families are an unknown caller", "[proxy]") {
  const tcp::endpoint v4{net::ip::make_address("127.0.0.1"), 8100};
  const tcp::endpoint v6{net::ip::make_address("::1"), 40000};
  CHECK(proxy::tcp_peer_identity(v4, v6) == proxy::peer_identity{});
}
