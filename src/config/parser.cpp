#include <sidecar/config/ini_document.hpp>
#include <sidecar/config/parser.hpp>
#include <sidecar/config/values.hpp>
#include <sidecar/core/text.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <grp.h>
#include <limits>
#include <map>
#include <memory>
#include <pwd.h>
#include <set>
#include <sys/un.h>
#include <tuple>
#include <unistd.h>
#include <utility>

namespace sidecar::config {
namespace {

using reason = std::optional<std::string>;
/// Gives one key its meaning: stores the value, or says why it cannot.
using setter = std::function<reason(std::string_view)>;
/// The keys of one section, in the order the contract lists them (also the order of the hint).
using key_table = std::vector<std::pair<std::string_view, setter>>;

using core::quoted;

template <class T, class U>
reason store(const parsed<T>& value, U& out) {
  if (!value) return value.error();
  out = static_cast<U>(*value);
  return std::nullopt;
}

setter text(std::string& out) {
  return [&out](std::string_view value) -> reason {
    out = std::string{value};
    return std::nullopt;
  };
}

setter flag(bool& out) {
  return [&out](std::string_view value) { return store(parse_bool(value), out); };
}

setter fraction(double& out) {
  return [&out](std::string_view value) { return store(parse_fraction(value), out); };
}

setter any_duration(core::duration& out) {
  return [&out](std::string_view value) { return store(parse_duration(value), out); };
}

setter positive_duration(core::duration& out) {
  return [&out](std::string_view value) -> reason {
    const auto parsed_value = parse_duration(value);
    if (parsed_value && *parsed_value == core::duration::zero()) return "must be greater than 0";
    return store(parsed_value, out);
  };
}

setter whole(int& out, int low, int high) {
  return [&out, low, high](std::string_view value) {
    return store(
        parse_whole(value, static_cast<std::uint64_t>(low), static_cast<std::uint64_t>(high)), out);
  };
}

setter count(std::size_t& out) {
  return [&out](std::string_view value) {
    return store(parse_whole(value, 1, std::numeric_limits<std::size_t>::max()), out);
  };
}

setter mode(unsigned& out) {
  return [&out](std::string_view value) { return store(parse_mode(value), out); };
}

setter signal(int& out) {
  return [&out](std::string_view value) { return store(parse_signal(value), out); };
}

template <class E>
setter choice(E& out, std::vector<std::pair<std::string_view, E>> names) {
  return [&out, names = std::move(names)](std::string_view value) -> reason {
    std::string expected;
    for (const auto& [name, e] : names) {
      if (name == value) {
        out = e;
        return std::nullopt;
      }
      expected += expected.empty() ? std::string{name} : " or " + std::string{name};
    }
    return "expected " + expected + ", not " + quoted(value);
  };
}

setter log_level(std::string& out) {
  return [&out](std::string_view value) -> reason {
    spdlog::level::level_enum level{};
    if (!core::parse_log_level(value, level)) {
      return "expected trace, debug, info, warn or error, not " + quoted(value);
    }
    out = std::string{value};
    return std::nullopt;
  };
}

// Sets the user-facing name and the enum together, so the two never disagree.
setter method_name(std::string& out, auth_method& kind) {
  return [&out, &kind](std::string_view value) -> reason {
    if (auto why = choice(kind, {{"approle", auth_method::approle},
                                 {"kubernetes", auth_method::kubernetes},
                                 {"jwt", auth_method::jwt},
                                 {"cert", auth_method::cert},
                                 {"token_file", auth_method::token_file}})(value)) {
      return "unsupported auth method: " + *why;
    }
    out = std::string{value};
    return std::nullopt;
  };
}

// A Vault path such as auth/approle/role/myapp/secret-id, compared verbatim with a wrapping
// token's creation_path (which Vault reports without a leading /).
setter wrapping_path(std::string& out) {
  return [&out](std::string_view value) -> reason {
    if (!value.empty() && (value.front() == '/' || value.back() == '/')) {
      return "expected a Vault path without leading or trailing / (e.g. "
             "auth/approle/role/myapp/secret-id), not " +
             quoted(value);
    }
    out = std::string{value};
    return std::nullopt;
  };
}

setter mount(std::string& out) {
  return [&out](std::string_view value) -> reason {
    if (value.empty() || value.front() == '/' || value.back() == '/') {
      return "expected a mount path without leading or trailing /, not " + quoted(value);
    }
    out = std::string{value};
    return std::nullopt;
  };
}

setter vault_address(std::string& out) {
  return [&out](std::string_view value) -> reason {
    if (auto why = check_vault_address(value)) return why;
    out = std::string{value};
    return std::nullopt;
  };
}

setter listener_address(std::string& out) {
  return [&out](std::string_view value) -> reason {
    if (!value.empty()) {
      if (auto why = check_listener_address(value)) return why;
    }
    out = std::string{value};
    return std::nullopt;
  };
}

setter unix_socket(std::string& out) {
  return [&out](std::string_view value) -> reason {
    constexpr auto room = sizeof(sockaddr_un::sun_path) - 1;  // the kernel wants a NUL too
    if (value.size() > room) {
      return "unix socket path is " + std::to_string(value.size()) + " bytes, at most " +
             std::to_string(room) + " fit";
    }
    out = std::string{value};
    return std::nullopt;
  };
}

setter allow_patterns(std::vector<std::string>& out) {
  return [&out](std::string_view value) -> reason {
    auto patterns = parse_list(value);
    if (!patterns) return patterns.error();
    for (const auto& pattern : *patterns) {
      if (pattern.front() != '/') return "pattern " + quoted(pattern) + " must start with /";
      const auto star = pattern.find('*');
      if (star != std::string::npos && star + 1 != pattern.size()) {
        return "pattern " + quoted(pattern) + ": * is only allowed at the end";
      }
    }
    out = std::move(*patterns);
    return std::nullopt;
  };
}

setter command(std::vector<std::string>& out) {
  return [&out](std::string_view value) { return store(split_command(value), out); };
}

// A command run after a template changed is checked the way [exec] command is, so a quoting
// mistake shows at start-up rather than when a secret first changes.
setter hook_command(std::string& out) {
  return [&out](std::string_view value) -> reason {
    if (!value.empty()) {
      if (auto split = split_command(value); !split) return split.error();
    }
    out = std::string{value};
    return std::nullopt;
  };
}

// [audit] destination: a relative path would depend on the daemon's working directory.
setter audit_destination(std::string& out) {
  return [&out](std::string_view value) -> reason {
    if (value != "off" && value != "stderr" && !value.starts_with('/')) {
      return "expected off, stderr or an absolute file path, not " + quoted(value);
    }
    out = std::string{value};
    return std::nullopt;
  };
}

setter list(std::vector<std::string>& out) {
  return [&out](std::string_view value) { return store(parse_list(value), out); };
}

// A uid or gid written as a number; (uid_t)-1 means "no id" to the kernel and is refused.
std::optional<std::uint32_t> numeric_id(std::string_view text) {
  const auto value = parse_whole(text, 0, std::numeric_limits<std::uint32_t>::max() - 1);
  if (!value) return std::nullopt;
  return static_cast<std::uint32_t>(*value);
}

// A user name or uid to a uid. A number is taken as it is (a container may run uids that have
// no name); a name must be known to the user database.
std::optional<std::uint32_t> resolve_user(const std::string& user) {
  if (auto id = numeric_id(user)) return id;
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
    return std::nullopt;
  }
  return found->pw_uid;
}

std::optional<std::uint32_t> resolve_group(const std::string& group) {
  if (auto id = numeric_id(group)) return id;
  ::group entry{};
  ::group* found = nullptr;
  std::vector<char> buffer(65536);
  if (::getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
    return std::nullopt;
  }
  return found->gr_gid;
}

// Every user of the user database whose primary or supplementary groups (getgrouplist, as
// login would set them) include one of `gids`. Done once at load: on loopback TCP the kernel
// tells only the peer's uid, and a caller's groups are then known from its uid alone.
std::vector<std::uint32_t> members_of(const std::vector<std::uint32_t>& gids) {
  std::vector<std::uint32_t> members;
  if (gids.empty()) return members;
  const auto wanted = [&](gid_t gid) {
    return std::find(gids.begin(), gids.end(), gid) != gids.end();
  };
  ::setpwent();
  while (const passwd* user = ::getpwent()) {
    bool member = wanted(user->pw_gid);
    if (!member) {
      int count = 64;
      std::vector<gid_t> groups(static_cast<std::size_t>(count));
      if (::getgrouplist(user->pw_name, user->pw_gid, groups.data(), &count) < 0) {
        groups.resize(static_cast<std::size_t>(count));
        (void)::getgrouplist(user->pw_name, user->pw_gid, groups.data(), &count);
      }
      groups.resize(static_cast<std::size_t>(std::max(count, 0)));
      member = std::any_of(groups.begin(), groups.end(), wanted);
    }
    if (member) members.push_back(user->pw_uid);
  }
  ::endpwent();
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  return members;
}

// Whether every path `inner` matches is matched by `outer` (both proxy.allow patterns).
bool pattern_within(std::string_view inner, std::string_view outer) {
  if (!outer.ends_with('*')) return inner == outer;
  const auto stem = inner.ends_with('*') ? inner.substr(0, inner.size() - 1) : inner;
  return stem.starts_with(outer.substr(0, outer.size() - 1));
}

std::optional<key_table> fixed_section(std::string_view name, config& cfg) {
  if (name == "vault") {
    auto& v = cfg.vault;
    return key_table{{"address", vault_address(v.address)},
                     {"ca_cert", text(v.ca_cert)},
                     {"client_cert", text(v.client_cert)},
                     {"client_key", text(v.client_key)},
                     {"tls_server_name", text(v.tls_server_name)},
                     {"tls_skip_verify", flag(v.tls_skip_verify)},
                     {"namespace", text(v.namespace_)},
                     {"request_timeout", positive_duration(v.request_timeout)},
                     {"max_retries", whole(v.max_retries, 0, 10)},
                     {"rate_limit", whole(v.rate_limit, 0, 1000000)},
                     {"max_concurrent_requests", whole(v.max_concurrent_requests, 0, 100000)}};
  }
  if (name == "auth") {
    auto& a = cfg.auth;
    return key_table{
        {"method", method_name(a.method, a.kind)},
        {"mount", mount(a.mount)},
        {"role_id_file", text(a.role_id_file)},
        {"secret_id_file", text(a.secret_id_file)},
        {"remove_secret_id_file_after_reading", flag(a.remove_secret_id_file_after_reading)},
        {"check_interval", positive_duration(a.check_interval)},
        {"renew_at", fraction(a.renew_at)},
        {"on_renew_failure",
         choice(a.on_renew_failure, {{"exit", renew_failure_policy::exit},
                                     {"serve_cached", renew_failure_policy::serve_cached}})},
        {"login_timeout", positive_duration(a.login_timeout)},
        {"role", text(a.role)},
        {"jwt_file", text(a.jwt_file)},
        {"token_file", text(a.token_file)},
        {"relogin", choice(a.relogin, {{"never", relogin_policy::never},
                                       {"on_expiry", relogin_policy::on_expiry}})},
        {"secret_id_response_wrapping_path", wrapping_path(a.secret_id_response_wrapping_path)}};
  }
  if (name == "listener") {
    auto& l = cfg.listener;
    return key_table{{"address", listener_address(l.address)},
                     {"unix_socket", unix_socket(l.unix_socket)},
                     {"socket_mode", mode(l.socket_mode)},
                     {"require_request_header", flag(l.require_request_header)},
                     {"enable_quit", flag(l.enable_quit)},
                     {"threads", whole(l.threads, 1, 64)},
                     {"max_connections", count(l.max_connections)}};
  }
  if (name == "proxy") {
    return key_table{{"allow", allow_patterns(cfg.proxy.allow)},
                     {"forward_writes", flag(cfg.proxy.forward_writes)}};
  }
  if (name == "cache") {
    auto& c = cfg.cache;
    return key_table{{"ttl", positive_duration(c.ttl)},
                     {"refresh_interval", positive_duration(c.refresh_interval)},
                     {"max_stale", any_duration(c.max_stale)},
                     {"max_entries", count(c.max_entries)},
                     {"negative_ttl", any_duration(c.negative_ttl)}};
  }
  if (name == "database") {
    auto& d = cfg.database;
    return key_table{{"renew_at", fraction(d.renew_at)},
                     {"strategy", choice(d.strategy, {{"rotate", lease_strategy::rotate},
                                                      {"renew", lease_strategy::renew}})},
                     {"revoke_on_shutdown", flag(d.revoke_on_shutdown)}};
  }
  if (name == "log") {
    return key_table{{"level", log_level(cfg.log.level)},
                     {"format", choice(cfg.log.format,
                                       {{"text", log_format::text}, {"json", log_format::json}})}};
  }
  if (name == "exec") {
    auto& e = cfg.exec;
    return key_table{{"command", command(e.command)},
                     {"restart_on_secret_changes",
                      choice(e.restart_on_secret_changes, {{"always", restart_policy::always},
                                                           {"never", restart_policy::never}})},
                     {"restart_stop_signal", signal(e.restart_stop_signal)},
                     {"restart_grace", positive_duration(e.restart_grace)}};
  }
  if (name == "security") return key_table{{"lock_memory", flag(cfg.security.lock_memory)}};
  if (name == "audit") return key_table{{"destination", audit_destination(cfg.audit.destination)}};
  return std::nullopt;
}

key_table template_keys(template_config& t) {
  return key_table{{"source", text(t.source)},
                   {"destination", text(t.destination)},
                   {"perms", mode(t.perms)},
                   {"command", hook_command(t.command)}};
}

bool is_name(std::string_view text, std::string_view extra) {
  const auto allowed = [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           extra.find(c) != std::string_view::npos;
  };
  return !text.empty() && !(text.front() >= '0' && text.front() <= '9') &&
         std::all_of(text.begin(), text.end(), allowed);
}

constexpr std::string_view template_prefix = "template.";
constexpr std::string_view client_prefix = "client.";

/// One parse: the config being filled, the problems found so far and where each key was set.
class reading {
 public:
  reading(const std::string& file, const env_lookup& env) : file_{file}, env_{env} {
    cfg_.file = file;
  }

  load_result run(std::string_view text) {
    auto doc = parse_ini(text, file_);
    problems_ = std::move(doc.problems);
    for (const auto& section : doc.sections) read(section);
    apply_environment();
    check_references();
    check_whole();
    check_clients();
    check_auth();
    if (problems_.empty()) return std::move(cfg_);
    sort_problems(problems_);
    return std::move(problems_);
  }

 private:
  void add(std::size_t line, std::string subject, std::string why) {
    problems_.push_back({file_, line, std::move(subject), std::move(why)});
  }

  void read(const ini_section& section) {
    if (section.name == "secrets") return read_secrets(section);
    if (section.name == "env") return read_env(section);
    if (section.name.starts_with(template_prefix)) return read_template(section);
    if (section.name.starts_with(client_prefix)) return read_client(section);
    if (section.name == "exec") exec_line_ = section.line;
    if (auto keys = fixed_section(section.name, cfg_))
      return read_keys(section, section.name, *keys);
    add(section.line, section.name,
        "unknown section [" + section.name +
            "] (known: vault, auth, listener, proxy, cache, database, log, exec, secrets, env, "
            "template.NAME, security, audit, client.NAME)");
  }

  void read_keys(const ini_section& section, const std::string& prefix, const key_table& keys) {
    for (const auto& entry : section.entries) {
      const auto subject = prefix + '.' + entry.key;
      const auto key = std::find_if(keys.begin(), keys.end(),
                                    [&](const auto& k) { return k.first == entry.key; });
      if (key == keys.end()) {
        std::string known;
        for (const auto& k : keys) known += (known.empty() ? "" : ", ") + std::string{k.first};
        add(entry.line, subject, "unknown key (known: " + known + ")");
        continue;
      }
      lines_[subject] = entry.line;
      if (auto why = key->second(entry.value)) add(entry.line, subject, std::move(*why));
    }
  }

  void read_secrets(const ini_section& section) {
    for (const auto& entry : section.entries) {
      const auto subject = "secrets." + entry.key;
      if (!is_name(entry.key, "-")) {
        add(entry.line, subject,
            "invalid secret name (letters, digits, _ and -, not starting with a digit)");
      } else if (entry.value.empty() || entry.value.front() == '/') {
        add(entry.line, subject,
            "expected a Vault path without a leading / or /v1/ (e.g. kv-demo/data/sample), "
            "not " +
                quoted(entry.value));
      } else {
        cfg_.secrets.emplace_back(entry.key, entry.value);
      }
    }
  }

  void read_env(const ini_section& section) {
    for (const auto& entry : section.entries) {
      if (!is_name(entry.key, "")) {
        add(entry.line, "env." + entry.key,
            "invalid environment variable name (letters, digits and _, not starting with a "
            "digit)");
        continue;
      }
      cfg_.env.emplace_back(entry.key, entry.value);
      env_lines_.push_back(entry.line);
    }
  }

  void read_template(const ini_section& section) {
    const auto name = std::string_view{section.name}.substr(template_prefix.size());
    if (!is_name(name, "-")) {
      add(section.line, section.name,
          "invalid template name in [template.NAME] (letters, digits, _ and -)");
      return;
    }
    template_config t;
    t.name = std::string{name};
    read_keys(section, section.name, template_keys(t));
    for (const auto& [key, value] :
         {std::pair{"source", &t.source}, {"destination", &t.destination}}) {
      if (value->empty() && !lines_.contains(section.name + '.' + key)) {
        add(section.line, section.name, std::string{"missing "} + key);
      } else if (value->empty()) {
        add(lines_[section.name + '.' + key], section.name + '.' + key, "must not be empty");
      }
    }
    const auto same = std::find_if(
        cfg_.templates.begin(), cfg_.templates.end(),
        [&](const auto& o) { return !t.destination.empty() && o.destination == t.destination; });
    if (same != cfg_.templates.end()) {
      add(lines_[section.name + ".destination"], section.name + ".destination",
          "[template." + same->name + "] already writes " + quoted(t.destination));
    }
    cfg_.templates.push_back(std::move(t));
  }

  void read_client(const ini_section& section) {
    const auto name = std::string_view{section.name}.substr(client_prefix.size());
    if (!is_name(name, "-")) {
      add(section.line, section.name,
          "invalid client name in [client.NAME] (letters, digits, _ and -)");
      return;
    }
    client_config c;
    c.name = std::string{name};
    read_keys(section, section.name,
              key_table{{"users", list(c.users)},
                        {"groups", list(c.groups)},
                        {"allow", allow_patterns(c.allow)},
                        {"max_connections", count(c.max_connections)}});
    const auto line_of = [&](const std::string& key) {
      const auto found = lines_.find(section.name + '.' + key);
      return found == lines_.end() ? section.line : found->second;
    };
    for (const auto& user : c.users) {
      if (auto uid = resolve_user(user)) {
        c.uids.push_back(*uid);
      } else {
        add(line_of("users"), section.name + ".users", "unknown user " + quoted(user));
      }
    }
    for (const auto& group : c.groups) {
      if (auto gid = resolve_group(group)) {
        c.gids.push_back(*gid);
      } else {
        add(line_of("groups"), section.name + ".groups", "unknown group " + quoted(group));
      }
    }
    c.member_uids = members_of(c.gids);
    if (c.users.empty() && c.groups.empty()) {
      add(section.line, section.name, "matches no caller: set users, groups or both");
    }
    if (c.allow.empty()) {
      add(line_of("allow"), section.name + ".allow",
          lines_.contains(section.name + ".allow") ? "must not be empty"
                                                   : "missing: the paths this client may read");
    }
    cfg_.clients.push_back(std::move(c));
  }

  // [proxy] allow stays the outer bound, wherever in the file it is set.
  void check_clients() {
    for (const auto& c : cfg_.clients) {
      const auto subject = "client." + c.name + ".allow";
      for (const auto& pattern : c.allow) {
        const bool inside =
            std::any_of(cfg_.proxy.allow.begin(), cfg_.proxy.allow.end(),
                        [&](const std::string& outer) { return pattern_within(pattern, outer); });
        if (!inside) {
          add(lines_[subject], subject,
              "pattern " + quoted(pattern) + " is not inside [proxy] allow");
        }
      }
    }
  }

  void apply_environment() {
    auto& v = cfg_.vault;
    const std::pair<std::string_view, std::string*> paths[] = {
        {"VAULT_CACERT", &v.ca_cert},        {"VAULT_CLIENT_CERT", &v.client_cert},
        {"VAULT_CLIENT_KEY", &v.client_key}, {"VAULT_TLS_SERVER_NAME", &v.tls_server_name},
        {"VAULT_NAMESPACE", &v.namespace_},
    };
    for (const auto& [name, target] : paths) {
      if (auto value = variable(name)) *target = std::move(*value);
    }
    if (auto value = variable("VAULT_ADDR")) {
      if (auto why = check_vault_address(*value)) {
        env_problem("VAULT_ADDR", std::move(*why));
      } else {
        v.address = std::move(*value);
      }
    }
    if (auto value = variable("VAULT_SKIP_VERIFY")) {
      if (auto why = store(parse_env_bool(*value), v.tls_skip_verify)) {
        env_problem("VAULT_SKIP_VERIFY", std::move(*why));
      }
    }
  }

  std::optional<std::string> variable(std::string_view name) const {
    auto value = env_(name);
    if (value && value->empty()) return std::nullopt;
    return value;
  }

  void env_problem(std::string_view name, std::string why) {
    problems_.push_back({{}, 0, "env " + std::string{name}, std::move(why)});
  }

  // [env] may name only [secrets], wherever in the file either section appears.
  void check_references() {
    std::set<std::string, std::less<>> names;
    for (const auto& [name, path] : cfg_.secrets) names.insert(name);
    for (std::size_t i = 0; i < cfg_.env.size(); ++i) {
      const auto& [variable_name, value] = cfg_.env[i];
      const auto subject = "env." + variable_name;
      const auto references = template_references(value);
      if (!references) {
        add(env_lines_[i], subject, references.error());
        continue;
      }
      for (const auto& name : *references) {
        if (!names.contains(name)) {
          add(env_lines_[i], subject, "refers to " + quoted(name) + ", which is not in [secrets]");
        }
      }
    }
  }

  void check_whole() {
    // A unix socket alone means "only the socket": TCP would open the door it closes.
    if (!cfg_.listener.unix_socket.empty() && !lines_.contains("listener.address")) {
      cfg_.listener.address.clear();
    }
    const auto& l = cfg_.listener;
    if (l.address.empty() && l.unix_socket.empty() && cfg_.exec.command.empty()) {
      add(0, "listener",
          "nothing to serve: set listener.address, listener.unix_socket or an [exec] command");
    }
    if (exec_line_ != 0 && !lines_.contains("exec.command")) {
      add(exec_line_, "exec", "missing command");
    }
    const auto& v = cfg_.vault;
    if (v.client_cert.empty() != v.client_key.empty()) {
      const auto* key = v.client_cert.empty() ? "vault.client_key" : "vault.client_cert";
      add(lines_.contains(key) ? lines_[key] : 0, key,
          "mTLS needs both client_cert and client_key (or VAULT_CLIENT_CERT and VAULT_CLIENT_KEY)");
    }
  }

  std::size_t line_of(const std::string& key) const {
    const auto found = lines_.find(key);
    return found == lines_.end() ? 0 : found->second;
  }

  // The keys each auth.method needs, the ones it cannot use, and the defaults that depend on
  // the method (mount, relogin). Runs after the environment, so VAULT_CLIENT_CERT counts.
  void check_auth() {
    auto& a = cfg_.auth;
    const auto method = a.method;
    if (!lines_.contains("auth.mount")) a.mount = method;
    const bool logs_in_with_platform_credential = a.kind == auth_method::kubernetes ||
                                                  a.kind == auth_method::jwt ||
                                                  a.kind == auth_method::cert;
    if (!lines_.contains("auth.relogin")) {
      a.relogin =
          logs_in_with_platform_credential ? relogin_policy::on_expiry : relogin_policy::never;
    } else if (a.relogin == relogin_policy::on_expiry && a.kind == auth_method::approle) {
      add(line_of("auth.relogin"), "auth.relogin",
          "on_expiry is not allowed with method = approle: never log in again after a failed "
          "renewal, the secret_id may have expired or been used up (use on_renew_failure)");
    } else if (a.relogin == relogin_policy::on_expiry && a.kind == auth_method::token_file) {
      add(line_of("auth.relogin"), "auth.relogin",
          "on_expiry is not possible with method = token_file: the sidecar has no credential "
          "to log in with");
    }
    // Keys that only one family of methods reads: given a value with another method they would
    // be silently ignored, which hides a mistake (e.g. a forgotten `method = kubernetes`). Empty
    // or default values pass, so `check`'s full listing and the example file stay valid.
    const auth_config defaults;
    const std::tuple<const char*, bool, bool> only_for[] = {
        {"role_id_file", a.kind == auth_method::approle, a.role_id_file != defaults.role_id_file},
        {"secret_id_file", a.kind == auth_method::approle,
         a.secret_id_file != defaults.secret_id_file},
        {"remove_secret_id_file_after_reading", a.kind == auth_method::approle,
         a.remove_secret_id_file_after_reading != defaults.remove_secret_id_file_after_reading},
        {"secret_id_response_wrapping_path", a.kind == auth_method::approle,
         a.secret_id_response_wrapping_path != defaults.secret_id_response_wrapping_path},
        {"role", logs_in_with_platform_credential, a.role != defaults.role},
        {"jwt_file", a.kind == auth_method::kubernetes || a.kind == auth_method::jwt,
         a.jwt_file != defaults.jwt_file},
        {"token_file", a.kind == auth_method::token_file, a.token_file != defaults.token_file},
    };
    for (const auto& [key, used, given] : only_for) {
      const auto subject = std::string{"auth."} + key;
      if (!used && given) add(line_of(subject), subject, "not used with method = " + method);
    }
    const auto require = [&](const std::string& value, const char* key) {
      if (!value.empty()) return;
      const auto subject = std::string{"auth."} + key;
      add(lines_.contains(subject) ? line_of(subject) : line_of("auth.method"), subject,
          "required with method = " + method);
    };
    if (a.kind == auth_method::kubernetes || a.kind == auth_method::jwt) {
      require(a.role, "role");
      require(a.jwt_file, "jwt_file");
    }
    if (a.kind == auth_method::token_file) require(a.token_file, "token_file");
    if (a.kind == auth_method::cert) {
      for (const auto& [key, value] : {std::pair{"vault.client_cert", &cfg_.vault.client_cert},
                                       {"vault.client_key", &cfg_.vault.client_key}}) {
        if (value->empty()) {
          add(line_of("auth.method"), key,
              "required with auth.method = cert (the client certificate is the credential)");
        }
      }
    }
  }

  const std::string& file_;
  const env_lookup& env_;
  config cfg_;
  std::vector<problem> problems_;
  std::map<std::string, std::size_t, std::less<>> lines_;  ///< "section.key" -> line it was set
  std::vector<std::size_t> env_lines_;                     ///< line of each cfg_.env entry
  std::size_t exec_line_ = 0;                              ///< of [exec], when present
};

}  // namespace

env_lookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string{name}.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string{value};
  };
}

load_result parse(std::string_view text, const std::string& file, const env_lookup& env) {
  return reading{file, env}.run(text);
}

load_result load(const std::string& path, const env_lookup& env) {
  const auto cannot_read = [&](int error) -> load_result {
    return std::vector<problem>{{path, 0, {}, "cannot read: " + std::string{std::strerror(error)}}};
  };
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file{std::fopen(path.c_str(), "rb"),
                                                             &std::fclose};
  if (!file) return cannot_read(errno);
  std::string text;
  char buffer[4096];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, got);
  // fopen succeeds on a directory; the read then fails with EISDIR.
  if (std::ferror(file.get())) return cannot_read(errno);
  return parse(text, path, env);
}

}  // namespace sidecar::config
