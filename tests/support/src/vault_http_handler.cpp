#include <sidecar/testing/vault_http_handler.hpp>

#include <sidecar/core/log.hpp>
#include <sidecar/testing/vault_api.hpp>

#include <algorithm>

namespace sidecar::testing {
namespace {

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

std::string_view query_of(std::string_view target) {
  const auto mark = target.find('?');
  return mark == std::string_view::npos ? std::string_view{} : target.substr(mark + 1);
}

std::string token_of(const string_request& request) {
  if (const auto token = request["X-Vault-Token"]; !token.empty()) return std::string{token};
  const auto authorization = request[http::field::authorization];
  constexpr std::string_view bearer = "Bearer ";
  if (authorization.starts_with(bearer)) return std::string{authorization.substr(bearer.size())};
  return {};
}

// When a request was answered, in ms since the double's process started: lets a test or
// scripts/fleet.sh count requests per time window from the request log.
long long since_start_ms() {
  static const auto start = std::chrono::steady_clock::now();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

string_response to_http(const string_request& request, const vault_reply& reply) {
  string_response response{http::status::ok, request.version()};
  response.result(reply.status);
  response.set(http::field::cache_control, "no-store");
  for (const auto& [name, value] : reply.headers) response.set(name, value);
  if (!reply.body.is_null() && request.method() != http::verb::head) {
    response.set(http::field::content_type, "application/json");
    response.body() = reply.body.dump() + "\n";
  }
  return response;
}

}  // namespace

std::optional<vault_request> vault_http_handler::parse(const string_request& request,
                                                       vault_reply& error) {
  const std::string_view target = request.target();
  const auto path = path_of(target);
  constexpr std::string_view api = "/v1/";
  if (!path.starts_with(api)) {
    error = not_found();
    return std::nullopt;
  }
  vault_request parsed{.method = std::string{request.method_string()},
                       .path = url_decode(path.substr(api.size())),
                       .token = token_of(request)};
  parsed.wrap_ttl = std::string{request["X-Vault-Wrap-TTL"]};
  auto query = query_of(target);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    parsed.query.insert_or_assign(
        url_decode(pair.substr(0, eq)),
        eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1)));
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  if (!request.body().empty()) {
    try {
      parsed.body = nlohmann::json::parse(request.body());
    } catch (const nlohmann::json::parse_error& e) {
      error = error_reply(400, {std::string{"failed to parse JSON input: "} + e.what()});
      return std::nullopt;
    }
  }
  return parsed;
}

void vault_http_handler::accepted() {
  std::lock_guard lock{state_.mutex};
  ++state_.connections_accepted;
}

fault_decision vault_http_handler::plan(const string_request& request) {
  std::lock_guard lock{state_.mutex};
  state_.peak_in_flight = std::max(state_.peak_in_flight, ++state_.in_flight);
  return state_.faults.take(path_of(request.target()));
}

void vault_http_handler::dropped(const string_request& request) {
  std::lock_guard lock{state_.mutex};
  --state_.in_flight;
  record(request, 0);
}

string_response vault_http_handler::answer(const string_request& request, fault_decision decision,
                                           std::string_view client_cert) {
  vault_reply reply;
  std::lock_guard lock{state_.mutex};
  --state_.in_flight;
  if (decision.fail) {
    reply = std::move(*decision.fail);
  } else if (auto parsed = parse(request, reply)) {
    parsed->client_cert = client_cert;
    try {
      reply = vault_api{state_}.handle(*parsed);
    } catch (const std::exception& e) {
      core::logger("vault-double")
          ->error("{} {}: {}", request.method_string(), path_of(request.target()), e.what());
      reply = error_reply(500, {"internal error"});
    }
  }
  record(request, reply.status);
  return to_http(request, reply);
}

void vault_http_handler::record(const string_request& request, unsigned status) {
  const std::string_view target = request.target();
  state_.requests.push_back(request_record{.method = std::string{request.method_string()},
                                           .path = std::string{path_of(target)},
                                           .query = std::string{query_of(target)},
                                           .token = token_of(request),
                                           .status = status,
                                           .at_ms = since_start_ms()});
  core::logger("vault-double")
      ->info("{} {} {}", request.method_string(), path_of(target),
             status == 0 ? std::string{"dropped"} : std::to_string(status));
}

}  // namespace sidecar::testing
