#include <sidecar/testing/control_handler.hpp>

#include <sidecar/core/log.hpp>
#include <sidecar/testing/vault_double.hpp>

#include <map>

namespace sidecar::testing {
namespace {

template <class T>
T field(const nlohmann::json& body, const char* name, T fallback) {
  if (!body.is_object() || !body.contains(name) || body[name].is_null()) return fallback;
  return body[name].get<T>();
}

vault_reply ok(nlohmann::json body = nullptr) {
  return {body.is_null() ? 204U : 200U, std::move(body)};
}

}  // namespace

string_response control_handler::answer(const string_request& request, fault_decision,
                                        std::string_view) {
  const std::string_view target = request.target();
  const auto path = target.substr(0, target.find('?'));
  vault_reply reply;
  try {
    const auto body =
        request.body().empty() ? nlohmann::json{} : nlohmann::json::parse(request.body());
    reply = handle(request.method_string(), path, body);
  } catch (const std::exception& e) {  // malformed JSON or a field of the wrong type
    reply = error_reply(400, {e.what()});
  }
  core::logger("vault-double")
      ->info("control {} {} {}", request.method_string(), path, reply.status);
  string_response response{http::status::ok, request.version()};
  response.result(reply.status);
  if (!reply.body.is_null()) {
    response.set(http::field::content_type, "application/json");
    response.body() = reply.body.dump() + "\n";
  }
  return response;
}

vault_reply control_handler::handle(std::string_view method, std::string_view path,
                                    const nlohmann::json& body) {
  using std::chrono::milliseconds;
  const auto prefix = [&] { return field<std::string>(body, "prefix", "/v1/"); };
  if (method == "GET" && path == "/control/counters") {
    std::map<std::string, std::size_t> per_path;
    for (const auto& r : target_.requests()) ++per_path[r.method + " " + r.path];
    return ok({{"connections_accepted", target_.connections_accepted()},
               {"in_flight", target_.in_flight()},
               {"peak_in_flight", target_.peak_in_flight()},
               {"live_leases", target_.live_leases()},
               {"requests", per_path}});
  }
  if (method == "GET" && path == "/control/leases") {
    return ok({{"lease_ids", target_.live_lease_ids()}});
  }
  if (method == "GET" && path == "/control/requests") {
    auto list = nlohmann::json::array();
    for (const auto& r : target_.requests()) {
      list.push_back({{"method", r.method},
                      {"path", r.path},
                      {"query", r.query},
                      {"token", r.token},
                      {"status", r.status},
                      {"at_ms", r.at_ms}});
    }
    return ok(std::move(list));
  }
  if (method == "GET" && path == "/control/logins") {
    auto list = nlohmann::json::array();
    for (const auto& l : target_.logins()) {
      list.push_back(
          {{"mount", l.mount}, {"role", l.role}, {"subject", l.subject}, {"status", l.status}});
    }
    return ok(std::move(list));
  }
  if (method != "POST" && method != "PUT") return error_reply(405, {"use POST"});
  if (path == "/control/fail") {
    target_.fail_next(prefix(), field(body, "count", 1), field(body, "status", 500U),
                      field<std::string>(body, "message", ""));
  } else if (path == "/control/fail-window") {
    // {"prefix", "seconds", "status", "message", "headers": {"Retry-After": "6"}}
    std::vector<std::pair<std::string, std::string>> headers;
    if (body.contains("headers")) {
      for (const auto& [name, value] : body.at("headers").items()) {
        headers.emplace_back(name, value.get<std::string>());
      }
    }
    target_.fail_for(
        prefix(), milliseconds{static_cast<long long>(field(body, "seconds", 1.0) * 1000)},
        field(body, "status", 429U), field<std::string>(body, "message", ""), std::move(headers));
  } else if (path == "/control/delay") {
    target_.set_delay(prefix(), milliseconds{field(body, "ms", 0LL)});
  } else if (path == "/control/drop") {
    target_.drop_next(prefix(), field(body, "count", 1));
  } else if (path == "/control/corrupt") {
    const auto mode_name = field<std::string>(body, "mode", "");
    const auto mode = parse_corruption(mode_name);
    if (!mode) return error_reply(400, {"unknown corruption mode \"" + mode_name + "\""});
    target_.corrupt_next(prefix(), field(body, "count", 1), *mode);
  } else if (path == "/control/tls") {
    target_.use_certificate(body.at("cert_file").get<std::string>(),
                            body.at("key_file").get<std::string>());
  } else if (path == "/control/clear") {
    target_.clear_faults();
  } else if (path == "/control/seal") {
    target_.seal();
  } else if (path == "/control/unseal") {
    target_.unseal();
  } else if (path == "/control/down") {
    const auto seconds = field(body, "seconds", 0.0);
    if (seconds > 0) {
      target_.go_down_for(milliseconds{static_cast<long long>(seconds * 1000)});
    } else {
      target_.go_down();
    }
  } else if (path == "/control/up") {
    target_.come_up();
  } else if (path == "/control/kv") {
    target_.put_kv(body.at("mount").get<std::string>(), body.at("path").get<std::string>(),
                   body.at("data"));
  } else if (path == "/control/revoke-all") {
    target_.revoke_all_tokens();
  } else if (path == "/control/secret-id") {
    return ok({{"secret_id", target_.add_secret_id(body.at("role").get<std::string>(),
                                                   field<std::string>(body, "secret_id", ""))}});
  } else if (path == "/control/jwt") {
    target_.add_jwt(field<std::string>(body, "mount", "kubernetes"),
                    body.at("role").get<std::string>(), body.at("jwt").get<std::string>(),
                    field<std::string>(body, "subject", ""), field(body, "ttl", 0LL));
  } else if (path == "/control/token") {
    return ok({{"token",
                target_.create_token(field(body, "policies", std::vector<std::string>{}),
                                     field(body, "ttl", 3600LL), field(body, "renewable", true))}});
  } else if (path == "/control/seed") {
    target_.apply_seed(body);
  } else {
    return error_reply(404, {"unknown control path"});
  }
  return ok();
}

}  // namespace sidecar::testing
