#include <sidecar/testing/lease_store.hpp>

#include <sidecar/testing/memory_database_backend.hpp>

#include <fmt/format.h>

namespace sidecar::testing {
namespace {

std::string lease_id_of(std::string_view path_id, const vault_request& request) {
  if (!path_id.empty()) return std::string{path_id};
  if (request.body.is_object() && request.body.contains("lease_id") &&
      request.body["lease_id"].is_string()) {
    return request.body["lease_id"].get<std::string>();
  }
  return {};
}

}  // namespace

lease_store::lease_store(const core::clock& clock, std::shared_ptr<database_backend> backend)
    : clock_{clock},
      backend_{backend ? std::move(backend) : std::make_shared<memory_database_backend>()} {}

void lease_store::add_role(const database_role_spec& spec) {
  roles_.insert_or_assign(spec.name, spec);
}

vault_reply lease_store::creds(const std::string& role_name, const std::string& token_id,
                               const std::string& display_name) {
  const auto role = roles_.find(role_name);
  if (role == roles_.end()) return error_reply(400, {fmt::format("unknown role: {}", role_name)});
  const auto now = clock_.now();
  const auto& spec = role->second;
  const auto ttl = calculate_ttl(0, spec.default_ttl, 0, spec.max_ttl, now, now).ttl;
  const auto epoch =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.wall_now().time_since_epoch())
          .count();
  // Vault's default username template: v-{{display_name|truncate 8}}-{{role|truncate 8}}-
  // {{random 20}}-{{unix_time}}.
  database_user user{
      .username = fmt::format("v-{}-{}-{}-{}", display_name.substr(0, 8), role_name.substr(0, 8),
                              random_base62(20), epoch),
      .password = core::secret_string{"A1a-" + random_base62(16)},
      .role = role_name,
      .expiration = clock_.wall_now() + std::chrono::seconds{ttl},
  };
  if (const auto failure = backend_->create_user(user)) {
    return error_reply(500, {multierror({*failure})});
  }
  const auto id = fmt::format("database/creds/{}/{}", role_name, random_base62(24));
  leases_.insert_or_assign(id, lease_entry{.path = "database/creds/" + role_name,
                                           .username = user.username,
                                           .owner_token = token_id,
                                           .role = spec,
                                           .issued = now,
                                           .expires = now + std::chrono::seconds{ttl}});
  auto body = envelope("database");
  body["lease_id"] = id;
  body["renewable"] = spec.renewable;
  body["lease_duration"] = ttl;
  body["data"] = {{"username", user.username}, {"password", std::string{user.password.reveal()}}};
  return {200, std::move(body)};
}

vault_reply lease_store::renew(std::string_view path_id, const vault_request& request) {
  const auto id = lease_id_of(path_id, request);
  if (id.empty()) return error_reply(400, {"lease_id must be specified"});
  long long increment = 0;
  if (request.body.is_object() && request.body.contains("increment")) {
    const auto parsed = parse_duration(request.body["increment"]);
    if (!parsed || *parsed < 0) return error_reply(400, {"invalid increment"});
    increment = *parsed;
  }
  const auto lease = leases_.find(id);
  if (lease == leases_.end()) return error_reply(400, {"lease not found"});
  auto& entry = lease->second;
  if (!entry.role.renewable) return error_reply(400, {"lease is not renewable"});
  const auto now = clock_.now();
  const auto decision =
      calculate_ttl(increment, entry.role.default_ttl, 0, entry.role.max_ttl, entry.issued, now);
  if (decision.past_max) return error_reply(400, {"past the max TTL, cannot renew"});
  const auto expires = now + std::chrono::seconds{decision.ttl};
  if (const auto failure = backend_->renew_user(entry.username, to_wall(clock_, expires))) {
    return error_reply(500, {multierror({*failure})});
  }
  entry.expires = expires;
  entry.last_renewal = now;
  auto body = envelope("system");
  body["lease_id"] = id;
  body["renewable"] = true;
  body["lease_duration"] = decision.ttl;
  if (!decision.warnings.empty()) body["warnings"] = decision.warnings;
  return {200, std::move(body)};
}

vault_reply lease_store::revoke(std::string_view path_id, const vault_request& request) {
  const auto id = lease_id_of(path_id, request);
  if (id.empty()) return error_reply(400, {"lease_id must be specified"});
  // Revoking a lease that is already gone succeeds, as in Vault.
  if (const auto lease = leases_.find(id); lease != leases_.end()) end(lease);
  return {204, nullptr};
}

vault_reply lease_store::lookup(std::string_view path_id, const vault_request& request) const {
  const auto id = lease_id_of(path_id, request);
  const auto lease = leases_.find(id);
  if (id.empty() || lease == leases_.end()) return error_reply(400, {"invalid lease"});
  const auto& entry = lease->second;
  auto body = envelope("system");
  body["data"] = {
      {"expire_time", rfc3339(to_wall(clock_, entry.expires))},
      {"id", id},
      {"issue_time", rfc3339(to_wall(clock_, entry.issued))},
      {"last_renewal", entry.last_renewal
                           ? nlohmann::json(rfc3339(to_wall(clock_, *entry.last_renewal)))
                           : nlohmann::json(nullptr)},
      {"path", entry.path},
      {"renewable", entry.role.renewable},
      {"ttl", core::whole_seconds_between(clock_.now(), entry.expires)},
  };
  return {200, std::move(body)};
}

void lease_store::end(std::map<std::string, lease_entry>::iterator lease) {
  backend_->drop_user(lease->second.username);
  leases_.erase(lease);
}

void lease_store::revoke_owned_by(const std::string& token_id) {
  for (auto it = leases_.begin(); it != leases_.end();) {
    const auto next = std::next(it);
    if (it->second.owner_token == token_id) end(it);
    it = next;
  }
}

void lease_store::sweep_expired() {
  const auto now = clock_.now();
  for (auto it = leases_.begin(); it != leases_.end();) {
    const auto next = std::next(it);
    if (now >= it->second.expires) end(it);
    it = next;
  }
}

std::vector<std::string> lease_store::live_ids(std::string_view prefix) const {
  std::vector<std::string> ids;
  const auto now = clock_.now();
  for (const auto& [id, lease] : leases_) {
    if (id.starts_with(prefix) && now < lease.expires) ids.push_back(id);
  }
  return ids;
}

std::size_t lease_store::live(std::string_view prefix) const {
  std::size_t n = 0;
  const auto now = clock_.now();
  for (const auto& [id, lease] : leases_) {
    if (id.starts_with(prefix) && now < lease.expires) ++n;
  }
  return n;
}

}  // namespace sidecar::testing
