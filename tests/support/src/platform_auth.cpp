#include <sidecar/testing/platform_auth.hpp>

#include <sidecar/testing/client_certificate.hpp>

#include <fmt/format.h>

#include <chrono>
#include <stdexcept>

namespace sidecar::testing {
namespace {

std::string string_field(const vault_request& request, const char* name) {
  return request.body.is_object() && request.body.contains(name) && request.body[name].is_string()
             ? request.body[name].get<std::string>()
             : std::string{};
}

constexpr std::string_view expired_jwt = "invalid expiration time (exp) claim: token is expired";

}  // namespace

void platform_auth::add_jwt_role(const jwt_role_spec& spec) {
  auto& mount = jwt_mounts_[spec.mount];
  mount.method = spec.method.empty() ? spec.mount : spec.method;
  if (mount.method != "kubernetes" && mount.method != "jwt") {
    throw std::invalid_argument{"a JWT role's method is kubernetes or jwt, not " + mount.method};
  }
  mount.roles.insert_or_assign(spec.name, jwt_role_entry{.spec = spec, .jwts = {}});
}

void platform_auth::add_jwt(const std::string& mount, const std::string& role, std::string jwt,
                            std::string subject, long long ttl) {
  const auto m = jwt_mounts_.find(mount);
  if (m == jwt_mounts_.end()) throw std::invalid_argument{"no such JWT mount: " + mount};
  const auto r = m->second.roles.find(role);
  if (r == m->second.roles.end()) throw std::invalid_argument{"no such JWT role: " + role};
  accepted_jwt entry{.subject = std::move(subject), .expires = {}};
  if (ttl > 0) entry.expires = clock_.now() + std::chrono::seconds{ttl};
  r->second.jwts.insert_or_assign(std::move(jwt), std::move(entry));
}

void platform_auth::add_cert_role(const cert_role_spec& spec) {
  if (!read_certificate(spec.certificate_pem)) {
    throw std::invalid_argument{"cert role " + spec.name + ": the certificate is not PEM"};
  }
  cert_roles_.insert_or_assign(spec.name, spec);
}

std::vector<std::string> platform_auth::mounts() const {
  std::vector<std::string> names;
  for (const auto& [name, mount] : jwt_mounts_) names.push_back(name);
  if (!cert_roles_.empty()) names.emplace_back("cert");
  return names;
}

bool platform_auth::has_mount(std::string_view mount) const {
  return jwt_mounts_.find(mount) != jwt_mounts_.end() || (mount == "cert" && !cert_roles_.empty());
}

vault_reply platform_auth::login(const std::string& mount, const vault_request& request) {
  if (const auto m = jwt_mounts_.find(mount); m != jwt_mounts_.end()) {
    return jwt_login(mount, m->second, request);
  }
  return cert_login(request);
}

vault_reply platform_auth::refused(const std::string& mount, const std::string& role,
                                   vault_reply reply) {
  logins_.push_back({.mount = mount, .role = role, .subject = {}, .status = reply.status});
  return reply;
}

std::optional<vault_reply> platform_auth::check_jwt(jwt_mount& mount, const std::string& role_name,
                                                    const std::string& jwt, jwt_role_entry*& role,
                                                    std::string& subject) const {
  // Each plugin checks in its own order and words its errors its own way
  // (vault-plugin-auth-kubernetes and vault-plugin-auth-jwt path_login.go).
  const bool kubernetes = mount.method == "kubernetes";
  if (role_name.empty()) return error_reply(400, {"missing role"});
  if (kubernetes && jwt.empty()) return error_reply(400, {"missing jwt"});
  const auto found = mount.roles.find(role_name);
  if (found == mount.roles.end()) {
    return error_reply(400,
                       {kubernetes ? fmt::format("invalid role name \"{}\"", role_name)
                                   : fmt::format("role \"{}\" could not be found", role_name)});
  }
  if (!kubernetes && jwt.empty()) return error_reply(400, {"missing token"});
  const auto accepted = found->second.jwts.find(jwt);
  // Kubernetes: an unknown JWT is one the TokenReview API rejects (plain permission denied), the
  // plugin's own claim checks answer 403 with their text. JWT: 400 with the validation error.
  if (accepted == found->second.jwts.end()) {
    return kubernetes ? error_reply(403, {"permission denied"})
                      : error_reply(400, {"error validating token: no known key successfully "
                                          "validated the token signature"});
  }
  if (accepted->second.expires && clock_.now() >= *accepted->second.expires) {
    return kubernetes ? error_reply(403, {std::string{expired_jwt}})
                      : error_reply(400, {fmt::format("error validating token: {}", expired_jwt)});
  }
  role = &found->second;
  subject = accepted->second.subject;
  return std::nullopt;
}

vault_reply platform_auth::jwt_login(const std::string& mount_name, jwt_mount& mount,
                                     const vault_request& request) {
  const auto role_name = string_field(request, "role");
  jwt_role_entry* role = nullptr;
  std::string subject;
  if (auto refusal = check_jwt(mount, role_name, string_field(request, "jwt"), role, subject)) {
    return refused(mount_name, role_name, std::move(*refusal));
  }
  const auto& spec = role->spec;
  token_entry token{.display_name = mount_name + "-" + subject,
                    .path = "auth/" + mount_name + "/login",
                    .policies = spec.policies,
                    .meta = {{"role", spec.name}}};
  if (mount.method == "kubernetes") {
    token.meta.emplace("service_account_name", subject);
    token.meta.emplace("service_account_namespace", "default");
  }
  token.backend_ttl = spec.token_ttl;
  token.max_ttl = spec.token_max_ttl;
  token.period = spec.token_period;
  token.renewable = spec.renewable;
  logins_.push_back({.mount = mount_name, .role = role_name, .subject = subject, .status = 200});
  return tokens_.issue_login(std::move(token), mount.method);
}

vault_reply platform_auth::cert_login(const vault_request& request) {
  // builtin/credential/cert path_login.go: with a name only that role is tried; no role whose
  // certificate vouches for the presented one (or no certificate at all) is one error.
  const auto name = string_field(request, "name");
  const cert_role_spec* match = nullptr;
  for (const auto& [role_name, spec] : cert_roles_) {
    if ((name.empty() || name == role_name) &&
        certificate_trusted(spec.certificate_pem, request.client_cert)) {
      match = &spec;
      break;
    }
  }
  if (match == nullptr) {
    return refused("cert", name,
                   error_reply(400, {"invalid certificate or no client certificate supplied"}));
  }
  const auto facts = read_certificate(request.client_cert).value_or(certificate_facts{});
  token_entry token{.display_name = "cert-" + match->name,
                    .path = "auth/cert/login",
                    .policies = match->policies,
                    .meta = {{"cert_name", match->name},
                             {"common_name", facts.common_name},
                             {"serial_number", facts.serial_number}}};
  token.backend_ttl = match->token_ttl;
  token.max_ttl = match->token_max_ttl;
  token.period = match->token_period;
  token.renewable = match->renewable;
  logins_.push_back(
      {.mount = "cert", .role = match->name, .subject = facts.common_name, .status = 200});
  return tokens_.issue_login(std::move(token), "cert");
}

}  // namespace sidecar::testing
