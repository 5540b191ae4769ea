#include <sidecar/testing/auth_store.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace sidecar::testing {
namespace {

// Vault's built-in `default` policy, the parts a sidecar can reach.
const policy_rules& default_policy() {
  static const policy_rules rules{
      {"auth/token/lookup-self", {"read"}},
      {"auth/token/renew-self", {"update"}},
      {"auth/token/revoke-self", {"update"}},
      {"sys/capabilities-self", {"update"}},
      {"sys/leases/renew", {"update"}},
      {"sys/renew", {"update"}},
      {"sys/leases/lookup", {"update"}},
      {"sys/wrapping/wrap", {"update"}},
      {"sys/wrapping/lookup", {"update"}},
      {"sys/wrapping/unwrap", {"update"}},
      {"cubbyhole/*", {"create", "read", "update", "delete", "list"}},
  };
  return rules;
}

std::vector<std::string> with_default(std::vector<std::string> policies) {
  policies.emplace_back("default");
  std::sort(policies.begin(), policies.end());
  policies.erase(std::unique(policies.begin(), policies.end()), policies.end());
  return policies;
}

bool is_root(const token_entry& token) {
  return std::find(token.policies.begin(), token.policies.end(), "root") != token.policies.end();
}

// Specificity of a pattern for `path`, or -1 if it does not match: exact matches outrank every
// glob; among globs the longer prefix wins.
long long match_rank(std::string_view pattern, std::string_view path) {
  if (pattern.ends_with('*')) {
    const auto prefix = pattern.substr(0, pattern.size() - 1);
    return path.starts_with(prefix) ? static_cast<long long>(prefix.size()) : -1;
  }
  return pattern == path ? static_cast<long long>(1) << 40 : -1;
}

}  // namespace

auth_store::auth_store(const core::clock& clock) : clock_{clock} {}

approle_credentials auth_store::add_approle(const approle_spec& spec, std::string role_id,
                                            std::string secret_id) {
  role_entry role{.spec = spec, .role_id = role_id.empty() ? random_uuid() : std::move(role_id)};
  roles_.insert_or_assign(spec.name, std::move(role));
  auto id = add_secret_id(spec.name, std::move(secret_id));
  return {roles_.at(spec.name).role_id, std::move(id)};
}

std::string auth_store::add_secret_id(const std::string& role_name, std::string secret_id) {
  const auto role = roles_.find(role_name);
  if (role == roles_.end()) throw std::invalid_argument{"no such approle: " + role_name};
  if (secret_id.empty()) secret_id = random_uuid();
  secret_id_entry entry{.uses_left = role->second.spec.secret_id_num_uses};
  if (role->second.spec.secret_id_ttl > 0) {
    entry.expires = clock_.now() + std::chrono::seconds{role->second.spec.secret_id_ttl};
  }
  role->second.secret_ids.insert_or_assign(secret_id, entry);
  return secret_id;
}

void auth_store::add_policy(const std::string& name, policy_rules rules) {
  policies_.insert_or_assign(name, std::move(rules));
}

std::string auth_store::create_token(std::vector<std::string> policies, long long ttl,
                                     bool renewable, int num_uses, long long period) {
  token_entry entry{.display_name = "token",
                    .path = "auth/token/create",
                    .policies = with_default(std::move(policies))};
  entry.creation_ttl = period > 0 ? period : ttl;
  entry.backend_ttl = ttl;
  entry.period = period;
  entry.renewable = renewable;
  entry.uses_left = num_uses;
  return mint(std::move(entry)).id;
}

token_entry& auth_store::mint(token_entry entry) {
  entry.id = "hvs." + random_base62(24);
  entry.accessor = random_base62(24);
  entry.issued = clock_.now();
  entry.expires = entry.issued + std::chrono::seconds{entry.creation_ttl};
  const auto id = entry.id;
  return tokens_.insert_or_assign(id, std::move(entry)).first->second;
}

std::vector<std::string> auth_store::revoke_all() {
  std::vector<std::string> ids;
  for (const auto& [id, token] : tokens_) ids.push_back(id);
  tokens_.clear();
  return ids;
}

std::vector<std::string> auth_store::sweep_expired() {
  std::vector<std::string> ids;
  const auto now = clock_.now();
  for (auto it = tokens_.begin(); it != tokens_.end();) {
    if (now >= it->second.expires) {
      ids.push_back(it->first);
      it = tokens_.erase(it);
    } else {
      ++it;
    }
  }
  return ids;
}

token_entry* auth_store::use_token(const std::string& id) {
  const auto it = tokens_.find(id);
  if (it == tokens_.end() || it->second.used_up) return nullptr;
  auto& token = it->second;
  // Each request spends one use; the one spending the last still succeeds and the token is
  // revoked after it (Vault's tokenRevocationPending).
  if (token.uses_left > 0 && --token.uses_left == 0) token.used_up = true;
  return &token;
}

bool auth_store::retire_if_used_up(const std::string& id) {
  const auto it = tokens_.find(id);
  if (it == tokens_.end() || !it->second.used_up) return false;
  tokens_.erase(it);
  return true;
}

void auth_store::revoke(const std::string& id) { tokens_.erase(id); }

std::set<std::string> auth_store::capabilities(const token_entry& token,
                                               std::string_view path) const {
  if (is_root(token)) return {"root"};
  long long best = -1;
  std::set<std::string> caps;
  const auto consider = [&](const policy_rules& rules) {
    for (const auto& [pattern, granted] : rules) {
      const auto rank = match_rank(pattern, path);
      if (rank < 0 || rank < best) continue;
      if (rank > best) caps.clear();
      best = rank;
      caps.insert(granted.begin(), granted.end());
    }
  };
  for (const auto& name : token.policies) {
    if (name == "default") {
      consider(default_policy());
    } else if (const auto policy = policies_.find(name); policy != policies_.end()) {
      consider(policy->second);
    }
  }
  if (caps.contains("deny")) return {"deny"};
  return caps;
}

bool auth_store::allows(const token_entry& token, std::string_view path,
                        std::string_view capability) const {
  const auto caps = capabilities(token, path);
  return caps.contains("root") || caps.contains(std::string{capability});
}

bool auth_store::has_mount_access(const token_entry& token, std::string_view mount) const {
  if (is_root(token)) return true;
  for (const auto& name : token.policies) {
    const auto policy = policies_.find(name);
    if (policy == policies_.end()) continue;
    for (const auto& [pattern, granted] : policy->second) {
      const std::string_view prefix = std::string_view{pattern}.substr(
          0, pattern.ends_with('*') ? pattern.size() - 1 : pattern.size());
      const bool reaches = prefix.starts_with(mount) || mount.starts_with(prefix);
      const bool denied = std::find(granted.begin(), granted.end(), "deny") != granted.end();
      if (reaches && !denied && !granted.empty()) return true;
    }
  }
  return false;
}

vault_reply auth_store::login(const vault_request& request) {
  const auto field = [&](const char* name) {
    return request.body.is_object() && request.body.contains(name) && request.body[name].is_string()
               ? request.body[name].get<std::string>()
               : std::string{};
  };
  const auto role_id = field("role_id");
  const auto secret_id = field("secret_id");
  if (role_id.empty()) return error_reply(400, {"invalid credentials"});
  const auto role = std::find_if(roles_.begin(), roles_.end(),
                                 [&](const auto& r) { return r.second.role_id == role_id; });
  if (role == roles_.end()) return error_reply(400, {"invalid role or secret ID"});
  const auto& spec = role->second.spec;
  if (spec.bind_secret_id) {
    if (secret_id.empty()) return error_reply(400, {"missing secret_id"});
    auto& ids = role->second.secret_ids;
    const auto entry = ids.find(secret_id);
    if (entry == ids.end()) return error_reply(400, {"invalid role or secret ID"});
    // Vault's tidy removes expired secret_ids within a minute; the double removes them at once.
    if (entry->second.expires && clock_.now() >= *entry->second.expires) {
      ids.erase(entry);
      return error_reply(400, {"invalid role or secret ID"});
    }
    if (entry->second.uses_left > 0 && --entry->second.uses_left == 0) ids.erase(entry);
  }

  token_entry token{.display_name = "approle",
                    .path = "auth/approle/login",
                    .policies = with_default(spec.policies),
                    .meta = {{"role_name", spec.name}}};
  token.backend_ttl = spec.token_ttl;
  token.max_ttl = spec.token_max_ttl;
  token.period = spec.token_period;
  token.renewable = spec.renewable;
  token.uses_left = spec.token_num_uses;
  return issue_login(std::move(token), "approle");
}

vault_reply auth_store::issue_login(token_entry token, std::string_view mount_type) {
  token.policies = with_default(std::move(token.policies));
  const auto issue =
      calculate_ttl(0, token.backend_ttl, token.period, token.max_ttl, clock_.now(), clock_.now());
  token.creation_ttl = issue.ttl;
  const auto& minted = mint(std::move(token));
  auto body = envelope(mount_type);
  body["auth"] = auth_object(minted, minted.creation_ttl);
  if (!issue.warnings.empty()) body["warnings"] = issue.warnings;
  return {200, std::move(body)};
}

vault_reply auth_store::generate_secret_id(const std::string& role_name) {
  if (!roles_.contains(role_name)) {
    return error_reply(400, {fmt::format("role \"{}\" does not exist", role_name)});
  }
  const auto& spec = roles_.at(role_name).spec;
  auto body = envelope("approle");
  body["data"] = {{"secret_id", add_secret_id(role_name)},
                  {"secret_id_accessor", random_uuid()},
                  {"secret_id_ttl", spec.secret_id_ttl},
                  {"secret_id_num_uses", spec.secret_id_num_uses}};
  return {200, std::move(body)};
}

nlohmann::json auth_store::auth_object(const token_entry& token, long long lease_duration) const {
  nlohmann::json metadata = nullptr;
  for (const auto& [key, value] : token.meta) metadata[key] = value;
  return nlohmann::json{
      {"client_token", token.id},     {"accessor", token.accessor},
      {"policies", token.policies},   {"token_policies", token.policies},
      {"metadata", metadata},         {"lease_duration", lease_duration},
      {"renewable", token.renewable}, {"entity_id", ""},
      {"token_type", "service"},      {"orphan", token.path != "auth/token/create"},
      {"mfa_requirement", nullptr},   {"num_uses", token.uses_left},
  };
}

vault_reply auth_store::lookup_self(const token_entry& token) const {
  const auto now = clock_.now();
  nlohmann::json meta = nullptr;
  for (const auto& [key, value] : token.meta) meta[key] = value;
  const auto issue_wall = to_wall(clock_, token.issued);
  nlohmann::json data{
      {"accessor", token.accessor},
      {"creation_time",
       std::chrono::duration_cast<std::chrono::seconds>(issue_wall.time_since_epoch()).count()},
      {"creation_ttl", token.creation_ttl},
      {"display_name", token.display_name},
      {"entity_id", ""},
      {"expire_time", rfc3339(to_wall(clock_, token.expires))},
      {"explicit_max_ttl", 0},
      {"id", token.id},
      {"issue_time", rfc3339(issue_wall)},
      {"meta", meta},
      {"num_uses", token.uses_left},
      {"orphan", token.path != "auth/token/create"},
      {"path", token.path},
      {"policies", token.policies},
      {"renewable", token.renewable},
      {"ttl", core::whole_seconds_between(now, token.expires)},
      {"type", "service"},
  };
  if (token.period > 0) data["period"] = token.period;
  if (token.last_renewal) {
    const auto renewed = to_wall(clock_, *token.last_renewal);
    data["last_renewal"] = rfc3339(renewed);
    data["last_renewal_time"] =
        std::chrono::duration_cast<std::chrono::seconds>(renewed.time_since_epoch()).count();
  }
  auto body = envelope("token");
  body["data"] = std::move(data);
  return {200, std::move(body)};
}

vault_reply auth_store::renew_self(token_entry& token, const vault_request& request) {
  long long increment = 0;
  if (request.body.is_object() && request.body.contains("increment")) {
    const auto parsed = parse_duration(request.body["increment"]);
    if (!parsed || *parsed < 0) {
      return error_reply(400, {multierror({"error converting input for field \"increment\""})});
    }
    increment = *parsed;
  }
  if (!token.renewable) return error_reply(400, {"lease is not renewable"});
  const auto now = clock_.now();
  const auto decision =
      calculate_ttl(increment, token.backend_ttl, token.period, token.max_ttl, token.issued, now);
  if (decision.past_max) return error_reply(400, {"past the max TTL, cannot renew"});
  token.expires = now + std::chrono::seconds{decision.ttl};
  token.last_renewal = now;
  auto body = envelope("token");
  body["auth"] = auth_object(token, decision.ttl);
  if (!decision.warnings.empty()) body["warnings"] = decision.warnings;
  return {200, std::move(body)};
}

vault_reply auth_store::capabilities_self(const token_entry& token,
                                          const vault_request& request) const {
  std::vector<std::string> paths;
  for (const char* key : {"paths", "path"}) {
    if (!request.body.is_object() || !request.body.contains(key)) continue;
    const auto& value = request.body[key];
    if (value.is_string()) paths.push_back(value.get<std::string>());
    if (value.is_array()) {
      for (const auto& p : value) {
        if (p.is_string()) paths.push_back(p.get<std::string>());
      }
    }
  }
  if (paths.empty()) return error_reply(400, {"paths must be supplied"});
  nlohmann::json data = nlohmann::json::object();
  std::vector<std::string> last;
  for (const auto& path : paths) {
    const auto caps = capabilities(token, path);
    last = caps.empty() ? std::vector<std::string>{"deny"}
                        : std::vector<std::string>{caps.begin(), caps.end()};
    data[path] = last;
  }
  if (paths.size() == 1) data["capabilities"] = last;
  auto body = envelope("system");
  body["data"] = std::move(data);
  return {200, std::move(body)};
}

}  // namespace sidecar::testing
