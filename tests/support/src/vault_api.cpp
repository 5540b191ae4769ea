#include <sidecar/testing/vault_api.hpp>

#include <fmt/format.h>

#include <functional>
#include <variant>

namespace sidecar::testing {
namespace {

constexpr std::string_view ui_mounts_prefix = "sys/internal/ui/mounts/";

// Splits "leases/renew/<id>" into the endpoint ("leases/renew") and the id suffix.
bool endpoint_with_id(std::string_view rest, std::string_view endpoint, std::string_view& id) {
  if (rest == endpoint) {
    id = {};
    return true;
  }
  if (rest.starts_with(endpoint) && rest.size() > endpoint.size() && rest[endpoint.size()] == '/') {
    id = rest.substr(endpoint.size() + 1);
    return true;
  }
  return false;
}

// HTTPSysInjector: sys/* answers repeat their data keys at the top level (the envelope's own
// keys win, as they come last in Vault's output).
void inject_sys_data(vault_reply& reply) {
  if (!reply.body.is_object() || !reply.body.contains("data") || !reply.body["data"].is_object()) {
    return;
  }
  const auto data = reply.body["data"];
  for (const auto& [key, value] : data.items()) {
    if (!reply.body.contains(key)) reply.body[key] = value;
  }
}

unsigned query_code(const vault_request& request, const char* name, unsigned fallback) {
  const auto it = request.query.find(name);
  if (it == request.query.end()) return fallback;
  try {
    return static_cast<unsigned>(std::stoul(it->second));
  } catch (const std::exception&) {
    return fallback;
  }
}

}  // namespace

vault_reply vault_api::handle(const vault_request& request) {
  for (const auto& id : state_.auth.sweep_expired()) state_.leases.revoke_owned_by(id);
  state_.leases.sweep_expired();

  if (request.path == "sys/health") return health(request);
  if (state_.sealed) return error_reply(503, {"Vault is sealed"});
  const auto op = request.operation();
  if (op.empty()) return unsupported_operation();
  // An unwrapped answer goes out as it was wrapped (Vault writes the stored body raw).
  const bool inject = request.path.starts_with("sys/") && request.path != "sys/wrapping/unwrap";
  if (auto answer = unauthenticated(request)) {
    if (inject) inject_sys_data(*answer);
    return std::move(*answer);
  }

  auto* token = request.token.empty() ? nullptr : state_.auth.use_token(request.token);
  if (token == nullptr) return invalid_token();
  const auto token_id = token->id;
  auto reply = wrap_if_asked(authenticated(*token, request), request);
  // A token whose last use this request spent is revoked now, with its leases.
  if (state_.auth.retire_if_used_up(token_id)) state_.leases.revoke_owned_by(token_id);
  if (inject) inject_sys_data(reply);
  return reply;
}

std::optional<vault_reply> vault_api::unauthenticated(const vault_request& request) {
  const std::string_view path = request.path;
  const bool update = request.operation() == "update";
  if (path == "auth/approle/login") {
    return update ? state_.auth.login(request) : unsupported_operation();
  }
  constexpr std::string_view auth_prefix = "auth/", login_suffix = "/login";
  if (path.size() > auth_prefix.size() + login_suffix.size() && path.starts_with(auth_prefix) &&
      path.ends_with(login_suffix)) {
    const std::string mount_name{
        path.substr(auth_prefix.size(), path.size() - auth_prefix.size() - login_suffix.size())};
    if (state_.platform.has_mount(mount_name)) {
      return update ? state_.platform.login(mount_name, request) : unsupported_operation();
    }
  }
  // Lookup needs no token at all (the token to look up is in the body); unwrap takes the
  // wrapping token itself as X-Vault-Token. Unwrapping someone else's wrapping token named in
  // the body needs a real token, so that form goes through the normal checks.
  const auto body_token = request.body.is_object() && request.body.contains("token") &&
                                  request.body["token"].is_string()
                              ? request.body["token"].get<std::string>()
                              : std::string{};
  if (path == "sys/wrapping/lookup") {
    if (!update) return unsupported_operation();
    return state_.wrapping.lookup(body_token.empty() ? request.token : body_token);
  }
  if (path == "sys/wrapping/unwrap" && body_token.empty()) {
    // Vault checks the header token as a wrapping token and answers anything else with the
    // wrapping error, not with `invalid token`.
    return update ? state_.wrapping.unwrap(request.token) : unsupported_operation();
  }
  return std::nullopt;
}

vault_reply vault_api::wrap_if_asked(vault_reply reply, const vault_request& request) {
  long long ttl = request.path == "sys/wrapping/wrap" ? 300 : 0;  // wrap's default: 5 minutes
  if (!request.wrap_ttl.empty()) {
    auto parsed = parse_wrap_ttl(request.wrap_ttl);
    if (auto* refusal = std::get_if<vault_reply>(&parsed)) return std::move(*refusal);
    ttl = std::get<long long>(parsed);
  }
  if (ttl <= 0 || reply.status != 200 || reply.body.is_null()) return reply;
  return {200, state_.wrapping.wrap(std::move(reply.body), request.path, ttl)};
}

vault_reply vault_api::authenticated(token_entry& token, const vault_request& request) {
  const std::string_view path = request.path;
  const auto op = request.operation();
  if (path.starts_with(ui_mounts_prefix)) {
    if (op != "read") return unsupported_operation();
    // Any capability inside the mount grants this; an unknown mount looks the same as a
    // forbidden one so the endpoint cannot be used to discover mounts.
    const auto m = find_mount(path.substr(ui_mounts_prefix.size()));
    if (!m || !state_.auth.has_mount_access(token, m->path)) return permission_denied();
    auto body = envelope("system");
    body["data"] = mount_info(*m);
    return {200, std::move(body)};
  }

  const auto m = find_mount(path);
  const auto rest = m ? path.substr(std::min(m->path.size(), path.size())) : std::string_view{};
  std::string capability = op;
  if (op == "update" && m && m->type == "kv" &&
      state_.kv.write_creates(m->path.substr(0, m->path.size() - 1), rest)) {
    capability = "create";
  }
  if (!state_.auth.allows(token, path, capability)) return permission_denied();
  if (!m) {
    return error_reply(404,
                       {fmt::format("no handler for route \"{}\". route entry not found.", path)});
  }
  return route(token, *m, rest, request);
}

vault_reply vault_api::route(token_entry& token, const mount& m, std::string_view rest,
                             const vault_request& request) {
  if (m.type == "token") return route_token(token, rest, request);
  if (m.type == "system") return route_sys(token, rest, request);
  if (m.type == "approle") return route_approle(rest, request);
  if (m.type == "kv") return state_.kv.handle(m.path.substr(0, m.path.size() - 1), rest, request);
  if (m.type == "database" && rest.starts_with("creds/") && rest.size() > 6) {
    if (request.operation() != "read") return unsupported_operation();
    return state_.leases.creds(std::string{rest.substr(6)}, token.id, token.display_name);
  }
  return unsupported_path();
}

vault_reply vault_api::route_approle(std::string_view rest, const vault_request& request) {
  constexpr std::string_view role_prefix = "role/", secret_id_suffix = "/secret-id";
  if (rest.starts_with(role_prefix) && rest.ends_with(secret_id_suffix) &&
      rest.size() > role_prefix.size() + secret_id_suffix.size()) {
    if (request.operation() != "update") return unsupported_operation();
    return state_.auth.generate_secret_id(std::string{rest.substr(
        role_prefix.size(), rest.size() - role_prefix.size() - secret_id_suffix.size())});
  }
  return unsupported_path();
}

vault_reply vault_api::route_token(token_entry& token, std::string_view rest,
                                   const vault_request& request) {
  const auto op = request.operation();
  if (rest == "lookup-self") {
    return op == "read" || op == "update" ? state_.auth.lookup_self(token)
                                          : unsupported_operation();
  }
  if (rest == "renew-self") {
    return op == "update" ? state_.auth.renew_self(token, request) : unsupported_operation();
  }
  if (rest == "revoke-self") {
    if (op != "update") return unsupported_operation();
    const auto id = token.id;  // the entry (and token.id with it) goes away with the token
    revoke_token(id);
    return {204, nullptr};
  }
  return unsupported_path();
}

vault_reply vault_api::route_sys(token_entry& token, std::string_view rest,
                                 const vault_request& request) {
  const bool update = request.operation() == "update";
  std::string_view id;
  if (rest == "capabilities-self") {
    return update ? state_.auth.capabilities_self(token, request) : unsupported_operation();
  }
  if (endpoint_with_id(rest, "leases/renew", id) || endpoint_with_id(rest, "renew", id)) {
    return update ? state_.leases.renew(id, request) : unsupported_operation();
  }
  if (endpoint_with_id(rest, "leases/revoke", id) || endpoint_with_id(rest, "revoke", id)) {
    return update ? state_.leases.revoke(id, request) : unsupported_operation();
  }
  if (rest == "wrapping/wrap") {
    // The body becomes the wrapped answer's data; wrap_if_asked() puts it away.
    if (!update) return unsupported_operation();
    auto body = envelope("system");
    body["data"] = request.body.is_object() ? request.body : nlohmann::json::object();
    return {200, std::move(body)};
  }
  if (rest == "wrapping/unwrap") {  // {"token": <someone's wrapping token>} with a real token
    if (!update) return unsupported_operation();
    return state_.wrapping.unwrap(request.body.value("token", std::string{}));
  }
  if (rest == "leases/lookup") {
    return update ? state_.leases.lookup({}, request) : unsupported_operation();
  }
  return unsupported_path();
}

void vault_api::revoke_token(const std::string& id) {
  state_.auth.revoke(id);
  state_.leases.revoke_owned_by(id);
}

std::optional<vault_api::mount> vault_api::find_mount(std::string_view path) const {
  std::vector<mount> table{
      {"sys/", "system"}, {"auth/token/", "token"}, {"auth/approle/", "approle"}};
  for (const auto& name : state_.kv.mounts()) table.push_back({name + "/", "kv"});
  for (const auto& name : state_.platform.mounts()) table.push_back({"auth/" + name + "/", "jwt"});
  if (state_.leases.mounted()) table.push_back({"database/", "database"});
  const std::string with_slash = std::string{path} + "/";
  std::optional<mount> best;
  for (auto& m : table) {
    if (with_slash.starts_with(m.path) && (!best || m.path.size() > best->path.size())) {
      best = std::move(m);
    }
  }
  return best;
}

nlohmann::json vault_api::mount_info(const mount& m) const {
  const auto tag = std::hash<std::string>{}(m.path);
  nlohmann::json options = nullptr;
  if (m.type == "kv") {
    options = {{"version", std::to_string(state_.kv.version(m.path.substr(0, m.path.size() - 1)))}};
  }
  return nlohmann::json{
      {"accessor", fmt::format("{}_{:08x}", m.type, tag & 0xffffffffU)},
      {"config", {{"default_lease_ttl", 0}, {"force_no_cache", false}, {"max_lease_ttl", 0}}},
      {"description", ""},
      {"external_entropy_access", false},
      {"local", false},
      {"options", options},
      {"path", m.path},
      {"seal_wrap", false},
      {"type", m.type},
      {"uuid",
       fmt::format("{:08x}-0000-4000-8000-{:012x}", tag & 0xffffffffU, tag & 0xffffffffffffULL)},
  };
}

vault_reply vault_api::health(const vault_request& request) const {
  if (request.method != "GET" && request.method != "HEAD") return unsupported_operation();
  const auto status = state_.sealed ? query_code(request, "sealedcode", 503)
                                    : query_code(request, "activecode", 200);
  if (request.method == "HEAD") return {status, nullptr};
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(state_.clock.wall_now().time_since_epoch())
          .count();
  return {status, nlohmann::json{
                      {"initialized", true},
                      {"sealed", state_.sealed},
                      {"standby", false},
                      {"performance_standby", false},
                      {"replication_performance_mode", "disabled"},
                      {"replication_dr_mode", "disabled"},
                      {"server_time_utc", now},
                      {"version", "1.17.0"},
                      {"enterprise", false},
                      {"echo_duration_ms", 0},
                      {"clock_skew_ms", 0},
                      {"cluster_name", "vault-cluster-double"},
                      {"cluster_id", "00af5aa8-c87d-b5fc-e82e-97cd8dfaf731"},
                  }};
}

}  // namespace sidecar::testing
