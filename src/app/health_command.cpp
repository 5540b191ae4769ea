#include <sidecar/app/health_command.hpp>

#include <sidecar/proxy/listen_address.hpp>

#include <sidecar/app/check_command.hpp>
#include <sidecar/core/result.hpp>
#include <sidecar/core/version.hpp>

#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <charconv>
#include <cstdint>
#include <exception>
#include <optional>
#include <ostream>
#include <tuple>

namespace sidecar::app {
namespace {

using deadline_point = net::steady_timer::time_point;

/// A health answer is a small JSON document; anything bigger is not the sidecar.
constexpr std::uint64_t max_body = 64 * 1024;

/// One GET over a fresh connection; every step shares the one deadline.
template <class Protocol>
net::awaitable<result<string_response>> exchange(typename Protocol::endpoint endpoint,
                                                 deadline_point deadline) {
  beast::basic_stream<Protocol> stream{co_await net::this_coro::executor};
  stream.expires_at(deadline);
  if (auto [ec] = co_await stream.async_connect(endpoint, use_result); ec) co_return ec;

  string_request request{http::verb::get, "/sidecar/v1/health", 11};
  request.set(http::field::host, "localhost");
  request.set(http::field::user_agent, "vault-sidecar/" + std::string{core::version});
  request.set(http::field::connection, "close");
  if (auto [ec, _] = co_await http::async_write(stream, request, use_result); ec) co_return ec;

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body);
  if (auto [ec, _] = co_await http::async_read(stream, buffer, parser, use_result); ec) {
    co_return ec;
  }
  co_return parser.release();
}

net::awaitable<result<string_response>> ask(const health_target& target, deadline_point deadline) {
  if (const auto* endpoint = std::get_if<tcp::endpoint>(&target)) {
    co_return co_await exchange<tcp>(*endpoint, deadline);
  }
  co_return co_await exchange<net::local::stream_protocol>(
      net::local::stream_protocol::endpoint{std::get<std::string>(target)}, deadline);
}

}  // namespace

std::variant<health_target, health_target_error> find_health_target(
    const config::listener_config& listener) {
  if (!listener.address.empty()) {
    // Port 0 is for tests binding any free port; there is nothing to ask there.
    const auto endpoint = proxy::loopback_endpoint(listener.address);
    if (endpoint && endpoint->port() != 0) return health_target{*endpoint};
    return health_target_error{"[listener] address \"" + listener.address + "\" is not host:port"};
  }
  if (!listener.unix_socket.empty()) return health_target{listener.unix_socket};
  return health_target_error{"[listener] has neither an address nor a unix_socket"};
}

std::string describe_target(const health_target& target) {
  if (const auto* endpoint = std::get_if<tcp::endpoint>(&target)) {
    const auto ip = endpoint->address();
    const auto host = ip.is_v6() ? '[' + ip.to_string() + ']' : ip.to_string();
    return host + ':' + std::to_string(endpoint->port());
  }
  return "unix:" + std::get<std::string>(target);
}

int probe_health(const health_target& target, std::chrono::milliseconds deadline, std::ostream& out,
                 std::ostream& err) {
  net::io_context io;
  std::optional<result<string_response>> answer;
  net::co_spawn(io, ask(target, net::steady_timer::clock_type::now() + deadline),
                [&answer](const std::exception_ptr& failure, result<string_response> outcome) {
                  if (failure) std::rethrow_exception(failure);  // a bug: main_entry reports it
                  answer = std::move(outcome);
                });
  io.run();

  const auto where = describe_target(target);
  if (!answer || !*answer) {
    err << "vault-sidecar health: " << where << ": "
        << (answer ? answer->error().message() : std::string{"no answer"}) << '\n';
    return 1;
  }
  const auto& response = **answer;
  out << response.body();
  if (!response.body().empty() && response.body().back() != '\n') out << '\n';
  if (response.result_int() != 200) {
    err << "vault-sidecar health: " << where << " answered " << response.result_int() << '\n';
    return 1;
  }
  return 0;
}

int run_health(const std::string& config_path, const config::env_lookup& env, std::ostream& out,
               std::ostream& err) {
  const auto loaded = config::load(config_path, env);
  if (!loaded) {
    print_problems(loaded.error(), err);
    return 1;
  }
  const auto target = find_health_target(loaded->listener);
  if (const auto* error = std::get_if<health_target_error>(&target)) {
    err << "vault-sidecar health: " << error->message << '\n';
    return 1;
  }
  return probe_health(std::get<health_target>(target), health_deadline, out, err);
}

}  // namespace sidecar::app
