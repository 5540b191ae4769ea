#include <sidecar/app/health_command.hpp>

#include <sidecar/proxy/listen_address.hpp>

#include <sidecar/app/check_command.hpp>

#include <cstdint>
#include <ostream>

namespace sidecar::app {
namespace {

/// A health answer is a small JSON document; anything bigger is not the sidecar.
constexpr std::uint64_t max_body = 64 * 1024;

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

int probe_health(const health_target& target, std::chrono::milliseconds deadline, std::ostream& out,
                 std::ostream& err) {
  string_request request{http::verb::get, "/sidecar/v1/health", 11};
  const auto answer = local_request(target, std::move(request),
                                    net::steady_timer::clock_type::now() + deadline, max_body);

  const auto where = describe_target(target);
  if (!answer) {
    err << "vault-sidecar health: " << where << ": " << answer.error().message() << '\n';
    return 1;
  }
  const auto& response = *answer;
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
