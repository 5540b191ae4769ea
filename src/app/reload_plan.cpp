#include <sidecar/app/reload_plan.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace sidecar::app {
namespace {

// Collects the changed keys of one comparison into one of the plan's two lists.
class key_diff {
 public:
  explicit key_diff(std::vector<std::string>& into) : into_(into) {}

  template <class T>
  bool compare(const T& running, const T& reread, std::string key) {
    if (running == reread) return false;
    into_.push_back(std::move(key));
    return true;
  }

 private:
  std::vector<std::string>& into_;
};

// [secrets] and [env]: name -> value; an added, removed or changed name is one key.
void compare_named(const std::vector<std::pair<std::string, std::string>>& running,
                   const std::vector<std::pair<std::string, std::string>>& reread,
                   const std::string& section, std::vector<std::string>& into) {
  const std::map<std::string, std::string> before(running.begin(), running.end());
  const std::map<std::string, std::string> after(reread.begin(), reread.end());
  std::set<std::string> names;
  for (const auto& [name, value] : before) names.insert(name);
  for (const auto& [name, value] : after) names.insert(name);
  for (const auto& name : names) {
    const auto old_value = before.find(name);
    const auto new_value = after.find(name);
    const bool same = old_value != before.end() && new_value != after.end() &&
                      old_value->second == new_value->second;
    if (!same) into.push_back(section + "." + name);
  }
}

void compare_templates(const std::vector<config::template_config>& running,
                       const std::vector<config::template_config>& reread,
                       std::vector<std::string>& into) {
  std::map<std::string, const config::template_config*> before;
  std::map<std::string, const config::template_config*> after;
  for (const auto& t : running) before.emplace(t.name, &t);
  for (const auto& t : reread) after.emplace(t.name, &t);
  std::set<std::string> names;
  for (const auto& [name, t] : before) names.insert(name);
  for (const auto& [name, t] : after) names.insert(name);
  for (const auto& name : names) {
    const auto old_t = before.find(name);
    const auto new_t = after.find(name);
    const auto prefix = "template." + name;
    if (old_t == before.end() || new_t == after.end()) {  // added or removed
      into.push_back(prefix);
      continue;
    }
    key_diff diff{into};
    const auto& a = *old_t->second;
    const auto& b = *new_t->second;
    diff.compare(a.source, b.source, prefix + ".source");
    diff.compare(a.destination, b.destination, prefix + ".destination");
    diff.compare(a.perms, b.perms, prefix + ".perms");
    diff.compare(a.command, b.command, prefix + ".command");
  }
}

// [client.NAME]: an added or removed client is one key, a changed one names its keys. Every
// change is live (the listener's policy); the resolved ids follow from users and groups.
bool compare_clients(const std::vector<config::client_config>& running,
                     const std::vector<config::client_config>& reread,
                     std::vector<std::string>& into) {
  const auto before_size = into.size();
  std::set<std::string> names;
  for (const auto& c : running) names.insert(c.name);
  for (const auto& c : reread) names.insert(c.name);
  const auto find = [](const auto& clients, const std::string& name) {
    const auto at = std::find_if(clients.begin(), clients.end(),
                                 [&](const config::client_config& c) { return c.name == name; });
    return at == clients.end() ? nullptr : &*at;
  };
  for (const auto& name : names) {
    const auto* a = find(running, name);
    const auto* b = find(reread, name);
    const auto prefix = "client." + name;
    if (a == nullptr || b == nullptr) {
      into.push_back(prefix);
      continue;
    }
    const auto size_here = into.size();
    key_diff diff{into};
    diff.compare(a->users, b->users, prefix + ".users");
    diff.compare(a->groups, b->groups, prefix + ".groups");
    diff.compare(a->allow, b->allow, prefix + ".allow");
    diff.compare(a->max_connections, b->max_connections, prefix + ".max_connections");
    // Same names, other ids (the user database changed) or a moved section: still a new policy.
    if (into.size() == size_here &&
        (a->uids != b->uids || a->gids != b->gids || a->member_uids != b->member_uids)) {
      into.push_back(prefix);
    }
  }
  // File order decides the first match: a reordering alone is a change too.
  if (into.size() == before_size && running != reread) into.push_back("client order");
  return into.size() != before_size;
}

}  // namespace

reload_plan plan_reload(const config::config& running, const config::config& reread) {
  reload_plan plan;
  key_diff live{plan.applied};
  key_diff restart{plan.needs_restart};

  const auto& v0 = running.vault;
  const auto& v1 = reread.vault;
  restart.compare(v0.address, v1.address, "vault.address");
  restart.compare(v0.ca_cert, v1.ca_cert, "vault.ca_cert");
  restart.compare(v0.client_cert, v1.client_cert, "vault.client_cert");
  restart.compare(v0.client_key, v1.client_key, "vault.client_key");
  restart.compare(v0.tls_server_name, v1.tls_server_name, "vault.tls_server_name");
  restart.compare(v0.tls_skip_verify, v1.tls_skip_verify, "vault.tls_skip_verify");
  restart.compare(v0.namespace_, v1.namespace_, "vault.namespace");
  restart.compare(v0.request_timeout, v1.request_timeout, "vault.request_timeout");
  restart.compare(v0.max_retries, v1.max_retries, "vault.max_retries");
  restart.compare(v0.rate_limit, v1.rate_limit, "vault.rate_limit");
  restart.compare(v0.max_concurrent_requests, v1.max_concurrent_requests,
                  "vault.max_concurrent_requests");

  const auto& a0 = running.auth;
  const auto& a1 = reread.auth;
  restart.compare(a0.method, a1.method, "auth.method");
  restart.compare(a0.mount, a1.mount, "auth.mount");
  restart.compare(a0.role_id_file, a1.role_id_file, "auth.role_id_file");
  restart.compare(a0.secret_id_file, a1.secret_id_file, "auth.secret_id_file");
  restart.compare(a0.remove_secret_id_file_after_reading, a1.remove_secret_id_file_after_reading,
                  "auth.remove_secret_id_file_after_reading");
  restart.compare(a0.check_interval, a1.check_interval, "auth.check_interval");
  restart.compare(a0.renew_at, a1.renew_at, "auth.renew_at");
  restart.compare(a0.on_renew_failure, a1.on_renew_failure, "auth.on_renew_failure");
  restart.compare(a0.login_timeout, a1.login_timeout, "auth.login_timeout");
  restart.compare(a0.role, a1.role, "auth.role");
  restart.compare(a0.jwt_file, a1.jwt_file, "auth.jwt_file");
  restart.compare(a0.token_file, a1.token_file, "auth.token_file");
  restart.compare(a0.relogin, a1.relogin, "auth.relogin");
  restart.compare(a0.secret_id_response_wrapping_path, a1.secret_id_response_wrapping_path,
                  "auth.secret_id_response_wrapping_path");

  const auto& l0 = running.listener;
  const auto& l1 = reread.listener;
  restart.compare(l0.address, l1.address, "listener.address");
  restart.compare(l0.unix_socket, l1.unix_socket, "listener.unix_socket");
  restart.compare(l0.socket_mode, l1.socket_mode, "listener.socket_mode");
  plan.request_policy |= live.compare(l0.require_request_header, l1.require_request_header,
                                      "listener.require_request_header");
  restart.compare(l0.enable_quit, l1.enable_quit, "listener.enable_quit");
  restart.compare(l0.threads, l1.threads, "listener.threads");
  restart.compare(l0.max_connections, l1.max_connections, "listener.max_connections");

  plan.request_policy |= live.compare(running.proxy.allow, reread.proxy.allow, "proxy.allow");
  plan.request_policy |= live.compare(running.proxy.forward_writes, reread.proxy.forward_writes,
                                      "proxy.forward_writes");
  plan.request_policy |= compare_clients(running.clients, reread.clients, plan.applied);
  restart.compare(running.audit.destination, reread.audit.destination, "audit.destination");

  const auto& c0 = running.cache;
  const auto& c1 = reread.cache;
  plan.cache |= live.compare(c0.ttl, c1.ttl, "cache.ttl");
  plan.cache |= live.compare(c0.refresh_interval, c1.refresh_interval, "cache.refresh_interval");
  plan.cache |= live.compare(c0.max_stale, c1.max_stale, "cache.max_stale");
  plan.cache |= live.compare(c0.max_entries, c1.max_entries, "cache.max_entries");
  plan.cache |= live.compare(c0.negative_ttl, c1.negative_ttl, "cache.negative_ttl");

  const auto& d0 = running.database;
  const auto& d1 = reread.database;
  restart.compare(d0.renew_at, d1.renew_at, "database.renew_at");
  restart.compare(d0.strategy, d1.strategy, "database.strategy");
  restart.compare(d0.revoke_on_shutdown, d1.revoke_on_shutdown, "database.revoke_on_shutdown");

  plan.log |= live.compare(running.log.level, reread.log.level, "log.level");
  plan.log |= live.compare(running.log.format, reread.log.format, "log.format");

  const auto& e0 = running.exec;
  const auto& e1 = reread.exec;
  restart.compare(e0.command, e1.command, "exec.command");
  restart.compare(e0.restart_on_secret_changes, e1.restart_on_secret_changes,
                  "exec.restart_on_secret_changes");
  restart.compare(e0.restart_stop_signal, e1.restart_stop_signal, "exec.restart_stop_signal");
  restart.compare(e0.restart_grace, e1.restart_grace, "exec.restart_grace");

  compare_named(running.secrets, reread.secrets, "secrets", plan.needs_restart);
  compare_named(running.env, reread.env, "env", plan.needs_restart);
  compare_templates(running.templates, reread.templates, plan.needs_restart);
  restart.compare(running.security.lock_memory, reread.security.lock_memory,
                  "security.lock_memory");
  return plan;
}

}  // namespace sidecar::app
