#include <sidecar/app/local_request.hpp>

#include <sidecar/core/version.hpp>

#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <exception>
#include <optional>

namespace sidecar::app {
namespace {

using deadline_point = net::steady_timer::time_point;

/// The Host a listener's browser guard accepts: the loopback address and port as curl would
/// send them; any Host is accepted on the unix socket.
std::string host_of(const listener_target& target) {
  if (std::holds_alternative<tcp::endpoint>(target)) return describe_target(target);
  return "localhost";
}

/// One exchange over a fresh connection; every step shares the one deadline.
template <class Protocol>
net::awaitable<result<string_response>> exchange(typename Protocol::endpoint endpoint,
                                                 string_request request, deadline_point deadline,
                                                 std::uint64_t body_limit) {
  beast::basic_stream<Protocol> stream{co_await net::this_coro::executor};
  stream.expires_at(deadline);
  if (auto [ec] = co_await stream.async_connect(endpoint, use_result); ec) co_return ec;
  if (auto [ec, _] = co_await http::async_write(stream, request, use_result); ec) co_return ec;

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(body_limit);
  if (auto [ec, _] = co_await http::async_read(stream, buffer, parser, use_result); ec) {
    co_return ec;
  }
  co_return parser.release();
}

net::awaitable<result<string_response>> ask(const listener_target& target, string_request request,
                                            deadline_point deadline, std::uint64_t body_limit) {
  if (const auto* endpoint = std::get_if<tcp::endpoint>(&target)) {
    co_return co_await exchange<tcp>(*endpoint, std::move(request), deadline, body_limit);
  }
  co_return co_await exchange<net::local::stream_protocol>(
      net::local::stream_protocol::endpoint{std::get<std::string>(target)}, std::move(request),
      deadline, body_limit);
}

}  // namespace

std::string describe_target(const listener_target& target) {
  if (const auto* endpoint = std::get_if<tcp::endpoint>(&target)) {
    const auto ip = endpoint->address();
    const auto host = ip.is_v6() ? '[' + ip.to_string() + ']' : ip.to_string();
    return host + ':' + std::to_string(endpoint->port());
  }
  return "unix:" + std::get<std::string>(target);
}

result<string_response> local_request(const listener_target& target, string_request request,
                                      deadline_point deadline, std::uint64_t body_limit) {
  request.set(http::field::host, host_of(target));
  request.set(http::field::user_agent, "vault-sidecar/" + std::string{core::version});
  request.set(http::field::connection, "close");

  net::io_context io;
  std::optional<result<string_response>> answer;
  net::co_spawn(io, ask(target, std::move(request), deadline, body_limit),
                [&answer](const std::exception_ptr& failure, result<string_response> outcome) {
                  if (failure) std::rethrow_exception(failure);  // a bug: main_entry reports it
                  answer = std::move(outcome);
                });
  io.run();
  return std::move(*answer);
}

}  // namespace sidecar::app
