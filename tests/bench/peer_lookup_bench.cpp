// The cost of one caller-identity look-up (issue 17), for tests/bench/bench.py: the sidecar makes
// one per accepted connection when [client.*] sections exist. Times proxy::tcp_peer_identity
// (a netlink sock_diag round trip) on a real loopback TCP connection and
// proxy::unix_peer_identity (SO_PEERCRED) on a unix socket pair, and prints one JSON line:
//   {"iterations":N,"tcp_us":X,"unix_us":Y,"tcp_uid":U,"unix_uid":U}
// Usage: peer-lookup-bench [ITERATIONS]   (default 20000)

#include <sidecar/proxy/peer_identity.hpp>

#include <boost/asio/local/connect_pair.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using namespace sidecar;
using clock_type = std::chrono::steady_clock;

/// Microseconds per call of `lookup`, over `iterations` calls; `last` keeps the final answer.
template <class Lookup>
double time_per_call(int iterations, Lookup lookup, proxy::peer_identity& last) {
  const auto started = clock_type::now();
  for (int i = 0; i < iterations; ++i) last = lookup();
  const std::chrono::duration<double, std::micro> spent = clock_type::now() - started;
  return spent.count() / iterations;
}

long long uid_or_minus_one(const proxy::peer_identity& identity) {
  return identity.uid ? static_cast<long long>(*identity.uid) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
  if (iterations <= 0) {
    std::fprintf(stderr, "usage: peer-lookup-bench [ITERATIONS > 0]\n");
    return 64;
  }
  net::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
  tcp::socket client{io};
  client.connect(acceptor.local_endpoint());
  tcp::socket accepted = acceptor.accept();
  const auto local = accepted.local_endpoint();
  const auto remote = accepted.remote_endpoint();

  net::local::stream_protocol::socket unix_a{io};
  net::local::stream_protocol::socket unix_b{io};
  net::local::connect_pair(unix_a, unix_b);
  const int unix_fd = unix_a.native_handle();

  proxy::peer_identity tcp_last;
  proxy::peer_identity unix_last;
  // A warm-up round, so the first netlink socket's set-up is not in the figure.
  time_per_call(
      100, [&] { return proxy::tcp_peer_identity(local, remote); }, tcp_last);
  const double tcp_us = time_per_call(
      iterations, [&] { return proxy::tcp_peer_identity(local, remote); }, tcp_last);
  const double unix_us = time_per_call(
      iterations, [&] { return proxy::unix_peer_identity(unix_fd); }, unix_last);
  std::printf(
      "{\"iterations\":%d,\"tcp_us\":%.3f,\"unix_us\":%.3f,\"tcp_uid\":%lld,"
      "\"unix_uid\":%lld}\n",
      iterations, tcp_us, unix_us, uid_or_minus_one(tcp_last), uid_or_minus_one(unix_last));
  // A look-up that failed is not a figure: say so by the exit status.
  return tcp_last.uid && unix_last.uid ? 0 : 1;
}
