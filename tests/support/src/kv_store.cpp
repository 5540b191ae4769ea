#include <sidecar/testing/kv_store.hpp>

#include <set>
#include <stdexcept>

namespace sidecar::testing {
namespace {

// KV v1 without a `ttl` key reports the mount's default lease TTL (768h).
constexpr long long kv_v1_default_lease = 2764800;

// The direct children of `prefix` among `paths`: leaf names, and folders with a trailing '/'.
template <class Map>
vault_reply list_keys(const Map& entries, std::string prefix) {
  if (!prefix.empty() && !prefix.ends_with('/')) prefix += '/';
  std::set<std::string> keys;
  for (const auto& [path, unused] : entries) {
    if (!path.starts_with(prefix)) continue;
    const auto rest = path.substr(prefix.size());
    const auto slash = rest.find('/');
    keys.insert(slash == std::string::npos ? rest : rest.substr(0, slash + 1));
  }
  if (keys.empty()) return not_found();
  auto body = envelope("kv");
  body["data"] = {{"keys", std::vector<std::string>{keys.begin(), keys.end()}}};
  return {200, std::move(body)};
}

std::string_view first_segment(std::string_view path, std::string_view& rest) {
  const auto slash = path.find('/');
  if (slash == std::string_view::npos) {
    rest = {};
    return path;
  }
  rest = path.substr(slash + 1);
  return path.substr(0, slash);
}

std::vector<int> requested_versions(const nlohmann::json& body) {
  std::vector<int> versions;
  if (!body.is_object() || !body.contains("versions") || !body["versions"].is_array()) {
    return versions;
  }
  for (const auto& v : body["versions"]) {
    if (v.is_number_integer()) versions.push_back(v.get<int>());
    if (v.is_string()) versions.push_back(std::stoi(v.get<std::string>()));
  }
  return versions;
}

}  // namespace

kv_store::kv_store(const core::clock& clock) : clock_{clock} {}

void kv_store::add_mount(const std::string& name, int version) {
  if (version != 1 && version != 2) throw std::invalid_argument{"kv version must be 1 or 2"};
  mounts_.insert_or_assign(name, mount_entry{.version = version});
}

int kv_store::version(const std::string& name) const {
  const auto it = mounts_.find(name);
  return it == mounts_.end() ? 0 : it->second.version;
}

std::vector<std::string> kv_store::mounts() const {
  std::vector<std::string> names;
  for (const auto& [name, unused] : mounts_) names.push_back(name);
  return names;
}

kv_store::mount_entry& kv_store::mount(const std::string& name) {
  const auto it = mounts_.find(name);
  if (it == mounts_.end()) throw std::invalid_argument{"no such kv mount: " + name};
  return it->second;
}

void kv_store::put(const std::string& name, const std::string& path, nlohmann::json data) {
  auto& m = mount(name);
  if (m.version == 1) {
    m.values.insert_or_assign(path, std::move(data));
    return;
  }
  append_version(m.secrets[path], std::move(data));
}

bool kv_store::write_creates(const std::string& name, std::string_view rest) const {
  const auto it = mounts_.find(name);
  if (it == mounts_.end()) return false;
  const auto& m = it->second;
  if (m.version == 1) return !m.values.contains(std::string{rest});
  std::string_view path;
  const auto kind = first_segment(rest, path);
  if (kind != "data" && kind != "metadata") return false;
  return !m.secrets.contains(std::string{path});
}

bool kv_store::is_deleted(const version_entry& v) const {
  return v.deleted && *v.deleted <= clock_.wall_now();
}

int kv_store::append_version(secret_entry& secret, nlohmann::json data) {
  const auto now = clock_.wall_now();
  if (secret.versions.empty()) secret.created = now;
  secret.updated = now;
  secret.versions.push_back(version_entry{.data = std::move(data), .created = now});
  return static_cast<int>(secret.versions.size());
}

nlohmann::json kv_store::version_metadata(const secret_entry& s, std::size_t number) const {
  const auto& v = s.versions.at(number - 1);
  return nlohmann::json{
      {"created_time", rfc3339(v.created)},
      {"custom_metadata", s.custom_metadata},
      {"deletion_time", v.deleted ? rfc3339(*v.deleted) : ""},
      {"destroyed", v.destroyed},
      {"version", number},
  };
}

vault_reply kv_store::handle(const std::string& name, std::string_view rest,
                             const vault_request& request) {
  auto& m = mount(name);
  return m.version == 1 ? handle_v1(m, rest, request) : handle_v2(m, rest, request);
}

vault_reply kv_store::handle_v1(mount_entry& m, std::string_view path_view,
                                const vault_request& request) {
  const std::string path{path_view};
  const auto op = request.operation();
  if (op == "list") return list_keys(m.values, path);
  if (path.empty()) return unsupported_path();
  if (op == "read") {
    const auto it = m.values.find(path);
    if (it == m.values.end()) return not_found();
    auto body = envelope("kv");
    body["data"] = it->second;
    long long lease = kv_v1_default_lease;
    for (const char* key : {"ttl", "lease"}) {
      if (it->second.is_object() && it->second.contains(key)) {
        lease = parse_duration(it->second[key]).value_or(lease);
      }
    }
    body["lease_duration"] = lease;
    return {200, std::move(body)};
  }
  if (op == "update") {
    if (!request.body.is_object() || request.body.empty()) {
      return error_reply(400, {"missing data fields"});
    }
    m.values.insert_or_assign(path, request.body);
    return {204, nullptr};
  }
  if (op == "delete") {
    m.values.erase(path);
    return {204, nullptr};
  }
  return unsupported_operation();
}

vault_reply kv_store::handle_v2(mount_entry& m, std::string_view rest,
                                const vault_request& request) {
  std::string_view path;
  const auto kind = first_segment(rest, path);
  if (kind == "data") return v2_data(m, std::string{path}, request);
  if (kind == "metadata") return v2_metadata(m, std::string{path}, request);
  if (kind == "delete" || kind == "undelete" || kind == "destroy") {
    return v2_versions(m, kind, std::string{path}, request);
  }
  return unsupported_path();
}

vault_reply kv_store::v2_data(mount_entry& m, const std::string& path,
                              const vault_request& request) {
  const auto op = request.operation();
  if (path.empty()) return unsupported_path();
  const auto it = m.secrets.find(path);
  if (op == "read") {
    if (it == m.secrets.end() || it->second.versions.empty()) return not_found();
    auto& secret = it->second;
    long long number = static_cast<long long>(secret.versions.size());
    if (const auto q = request.query.find("version");
        q != request.query.end() && q->second != "0") {
      try {
        number = std::stoll(q->second);
      } catch (const std::exception&) {
        return error_reply(400, {"invalid version"});
      }
    }
    if (number < 1 || number > static_cast<long long>(secret.versions.size())) return not_found();
    const auto n = static_cast<std::size_t>(number);
    const auto& v = secret.versions[n - 1];
    auto body = envelope("kv");
    // A deleted or destroyed version is a 404 that still carries its metadata.
    const bool gone = v.destroyed || is_deleted(v);
    body["data"] = {{"data", gone ? nlohmann::json(nullptr) : v.data},
                    {"metadata", version_metadata(secret, n)}};
    return {gone ? 404U : 200U, std::move(body)};
  }
  if (op == "update" || op == "patch") {
    if (!request.body.is_object() || !request.body.contains("data") ||
        !request.body["data"].is_object()) {
      return error_reply(400, {"no data provided"});
    }
    nlohmann::json data = request.body["data"];
    if (op == "patch") {
      if (it == m.secrets.end() || it->second.versions.empty()) return not_found();
      const auto& latest = it->second.versions.back();
      if (latest.destroyed || is_deleted(latest)) return not_found();
      auto merged = latest.data;
      merged.merge_patch(data);
      data = std::move(merged);
    }
    const auto current =
        it == m.secrets.end() ? 0 : static_cast<long long>(it->second.versions.size());
    const bool has_cas = request.body.contains("options") && request.body["options"].is_object() &&
                         request.body["options"].contains("cas");
    const bool cas_required = it != m.secrets.end() && it->second.cas_required;
    if (cas_required && !has_cas) {
      return error_reply(400, {"check-and-set parameter required for this call"});
    }
    if (has_cas) {
      const auto cas = parse_duration(request.body["options"]["cas"]);
      if (!cas || *cas != current) {
        return error_reply(400, {"check-and-set parameter did not match the current version"});
      }
    }
    auto& secret = m.secrets[path];
    const auto number = append_version(secret, std::move(data));
    auto body = envelope("kv");
    body["data"] = version_metadata(secret, static_cast<std::size_t>(number));
    return {200, std::move(body)};
  }
  if (op == "delete") {
    if (it != m.secrets.end() && !it->second.versions.empty()) {
      auto& latest = it->second.versions.back();
      if (!latest.deleted) latest.deleted = clock_.wall_now();
    }
    return {204, nullptr};
  }
  return unsupported_operation();
}

vault_reply kv_store::v2_metadata(mount_entry& m, const std::string& path,
                                  const vault_request& request) {
  const auto op = request.operation();
  if (op == "list") return list_keys(m.secrets, path);
  if (path.empty()) return unsupported_path();
  const auto it = m.secrets.find(path);
  if (op == "read") {
    if (it == m.secrets.end()) return not_found();
    const auto& s = it->second;
    nlohmann::json versions = nlohmann::json::object();
    for (std::size_t n = 1; n <= s.versions.size(); ++n) {
      auto meta = version_metadata(s, n);
      meta.erase("version");
      meta.erase("custom_metadata");
      versions[std::to_string(n)] = std::move(meta);
    }
    auto body = envelope("kv");
    body["data"] = {
        {"cas_required", s.cas_required},
        {"created_time", rfc3339(s.created)},
        {"current_version", s.versions.size()},
        {"custom_metadata", s.custom_metadata},
        {"delete_version_after", "0s"},
        {"max_versions", s.max_versions},
        {"oldest_version", 0},
        {"updated_time", rfc3339(s.updated)},
        {"versions", std::move(versions)},
    };
    return {200, std::move(body)};
  }
  if (op == "update" || op == "patch") {
    auto& s = m.secrets[path];
    if (s.versions.empty() && it == m.secrets.end()) s.created = s.updated = clock_.wall_now();
    const auto& b = request.body;
    if (b.is_object()) {
      if (b.contains("custom_metadata")) s.custom_metadata = b["custom_metadata"];
      if (b.contains("cas_required") && b["cas_required"].is_boolean()) {
        s.cas_required = b["cas_required"].get<bool>();
      }
      if (b.contains("max_versions") && b["max_versions"].is_number_integer()) {
        s.max_versions = b["max_versions"].get<int>();
      }
    }
    return {204, nullptr};
  }
  if (op == "delete") {
    m.secrets.erase(path);
    return {204, nullptr};
  }
  return unsupported_operation();
}

vault_reply kv_store::v2_versions(mount_entry& m, std::string_view action, const std::string& path,
                                  const vault_request& request) {
  if (request.operation() != "update") return unsupported_operation();
  if (path.empty()) return unsupported_path();
  const auto versions = requested_versions(request.body);
  if (versions.empty()) return error_reply(400, {"no version number provided"});
  const auto it = m.secrets.find(path);
  if (it == m.secrets.end()) return {204, nullptr};
  auto& all = it->second.versions;
  for (const int number : versions) {
    if (number < 1 || static_cast<std::size_t>(number) > all.size()) continue;
    auto& v = all[static_cast<std::size_t>(number - 1)];
    if (action == "delete" && !v.deleted && !v.destroyed) v.deleted = clock_.wall_now();
    if (action == "undelete" && !v.destroyed) v.deleted.reset();
    if (action == "destroy") {
      v.destroyed = true;
      v.data = nullptr;
    }
  }
  return {204, nullptr};
}

}  // namespace sidecar::testing
