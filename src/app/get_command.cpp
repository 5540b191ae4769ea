#include <sidecar/app/get_command.hpp>

#include <sidecar/proxy/listen_address.hpp>

#include <sidecar/app/check_command.hpp>
#include <sidecar/app/exit_code.hpp>
#include <sidecar/app/health_command.hpp>
#include <sidecar/core/secret_string.hpp>
#include <sidecar/core/text.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <ostream>
#include <sstream>

namespace sidecar::app {
namespace {

using json = nlohmann::json;

using core::api_prefix;
constexpr std::string_view preflight_prefix = "/v1/sys/internal/ui/mounts/";

using core::quoted;

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '/';
}

/// A relative path as a request target's path: every byte but RFC 3986's unreserved ones and
/// `/` percent-encoded (the sidecar decodes before it matches the allow list).
std::string encode_path(std::string_view path) {
  static constexpr std::string_view hex = "0123456789ABCDEF";
  std::string out;
  for (const char c : path) {
    const auto byte = static_cast<unsigned char>(c);
    if (is_unreserved(byte)) {
      out += c;
    } else {
      out += '%';
      out += hex[byte >> 4];
      out += hex[byte & 0x0f];
    }
  }
  return out;
}

bool has_blank_or_control(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

/// Why a relative path's segments name no secret; empty when they do.
std::string segment_problem(std::string_view path) {
  std::size_t segments = 0;
  for (std::size_t start = 0; start <= path.size(); ++segments) {
    const auto end = std::min(path.find('/', start), path.size());
    const auto segment = path.substr(start, end - start);
    if (segment.empty())
      return end == path.size() ? "a trailing / names a listing, not a secret"
                                : "an empty segment (//)";
    if (segment == "." || segment == "..") return "a . or .. segment";
    start = end + 1;
  }
  return segments < 2 ? "name a mount and a secret, e.g. kv-demo/sample" : "";
}

/// `host:port`, with port 80 added when `authority` has none (`[::1]` or `localhost`).
std::string with_port(std::string_view authority) {
  const auto bracket = authority.rfind(']');
  const auto colon = authority.rfind(':');
  const bool has_port =
      colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  return std::string{authority} + (has_port ? "" : ":80");
}

std::variant<listener_target, get_outcome> from_url(std::string_view url, std::string_view source,
                                                    int exit_code_when_bad) {
  auto parsed = parse_listener_url(url);
  if (auto* target = std::get_if<listener_target>(&parsed)) return std::move(*target);
  return get_outcome{
      exit_code_when_bad,
      {},
      "vault-sidecar get: " + std::string{source} + ' ' + std::get<std::string>(parsed) + '\n'};
}

std::variant<listener_target, get_outcome> from_config(const std::string& path,
                                                       const config::env_lookup& env) {
  const auto loaded = config::load(path, env);
  if (!loaded) {
    std::ostringstream problems;
    print_problems(loaded.error(), problems);
    return get_outcome{exit_code::failed, {}, problems.str()};
  }
  auto target = find_health_target(loaded->listener);
  if (auto* found = std::get_if<health_target>(&target)) return std::move(*found);
  return get_outcome{
      exit_code::failed,
      {},
      "vault-sidecar get: " + path + ": " + std::get<health_target_error>(target).message + '\n'};
}

/// GETs of one `get`, all against one listener and one deadline.
class secret_reader {
 public:
  secret_reader(listener_target target, std::optional<std::string> token,
                std::chrono::milliseconds timeout)
      : target_{std::move(target)},
        token_{std::move(token).value_or("")},
        deadline_{net::steady_timer::clock_type::now() + timeout} {}

  [[nodiscard]] result<string_response> read(const std::string& target) const {
    string_request request{http::verb::get, target, 11};
    request.set("X-Vault-Request", "true");
    if (!token_.empty()) request.set("X-Vault-Token", token_.reveal());
    return local_request(target_, std::move(request), deadline_, max_secret_answer);
  }
  [[nodiscard]] std::string where() const { return describe_target(target_); }

 private:
  listener_target target_;
  core::secret_string token_;
  net::steady_timer::time_point deadline_;
};

int emit(get_outcome outcome, std::ostream& out, std::ostream& err) {
  out << outcome.out << std::flush;
  err << outcome.err << std::flush;
  core::cleanse(outcome.out);
  return outcome.exit_code;
}

using chosen_answer = std::pair<read_attempt, string_response>;

/// The answer to print: the first attempt of the plan that settles, or a failed guess that
/// outranks it.
std::variant<get_outcome, chosen_answer> read_secret(const secret_reader& reader,
                                                     const secret_path& path,
                                                     std::chrono::milliseconds timeout) {
  std::optional<mount_info> mount;
  if (!path.absolute) {
    auto preflight = reader.read(mount_preflight_target(path));
    if (!preflight) return transport_failure(reader.where(), preflight.error(), timeout);
    mount = parse_mount_answer(preflight->result_int(), preflight->body());
  }
  std::optional<chosen_answer> failed_guess;
  for (auto& attempt : plan_reads(path, mount)) {
    auto answer = reader.read(attempt.target);
    if (!answer) return transport_failure(reader.where(), answer.error(), timeout);
    const auto status = answer->result_int();
    if (!settles(attempt, status, answer->body())) {
      failed_guess.emplace(std::move(attempt), std::move(*answer));
      continue;
    }
    if (failed_guess && guess_failure_outranks(failed_guess->second.result_int(), status)) {
      core::cleanse(answer->body());
      return std::move(*failed_guess);
    }
    if (failed_guess) core::cleanse(failed_guess->second.body());
    return chosen_answer{std::move(attempt), std::move(*answer)};
  }
  // plan_reads ends with an attempt that always settles: getting here is a broken invariant.
  return get_outcome{exit_code::internal, {}, "vault-sidecar get: no read settled\n"};
}

}  // namespace

std::variant<listener_target, std::string> parse_listener_url(std::string_view url) {
  constexpr std::string_view http_scheme = "http://";
  constexpr std::string_view unix_scheme = "unix://";
  if (url.starts_with(unix_scheme)) {
    const auto path = url.substr(unix_scheme.size());
    if (!path.starts_with('/'))
      return quoted(url) + ": write a unix socket as unix:///absolute/path";
    return listener_target{std::string{path}};
  }
  if (url.starts_with("https://")) {
    return quoted(url) +
           ": the sidecar's listener speaks plain HTTP on loopback (is this Vault's own "
           "address?)";
  }
  if (!url.starts_with(http_scheme)) return quoted(url) + ": not an http:// or unix:// URL";
  auto authority = url.substr(http_scheme.size());
  if (authority.ends_with('/')) authority.remove_suffix(1);
  if (authority.find('/') != std::string_view::npos) {
    return quoted(url) + ": a listener URL has no path";
  }
  const auto endpoint = proxy::loopback_endpoint(with_port(authority));
  if (!endpoint || endpoint->port() == 0) {
    return quoted(url) + ": not a loopback host:port (127.0.0.1, [::1] or localhost)";
  }
  return listener_target{*endpoint};
}

std::variant<listener_target, get_outcome> find_get_target(const get_options& options,
                                                           const std::string& config_path,
                                                           const config::env_lookup& env) {
  if (!options.address.empty()) return from_url(options.address, "--address", exit_code::usage);
  if (!options.unix_socket.empty()) return listener_target{options.unix_socket};
  if (options.config_given) return from_config(config_path, env);
  if (const auto address = env("VAULT_ADDR"); address && !address->empty()) {
    return from_url(*address, "VAULT_ADDR", exit_code::failed);
  }
  std::error_code ignored;
  if (std::filesystem::exists(config_path, ignored)) return from_config(config_path, env);
  return from_url(default_sidecar_address, "default address", exit_code::internal);
}

std::variant<secret_path, std::string> parse_secret_path(std::string_view text) {
  if (has_blank_or_control(text)) return quoted(text) + ": a blank or control character";
  if (text.starts_with(api_prefix)) {
    if (text.size() == api_prefix.size()) return quoted(text) + ": names nothing after /v1/";
    return secret_path{std::string{text}, true};
  }
  const auto relative = text.substr(std::min(text.find_first_not_of('/'), text.size()));
  if (relative.empty()) return quoted(text) + ": the path is empty";
  if (auto problem = segment_problem(relative); !problem.empty()) {
    return quoted(text) + ": " + problem;
  }
  return secret_path{std::string{relative}, false};
}

std::string mount_preflight_target(const secret_path& path) {
  return std::string{preflight_prefix} + encode_path(path.path);
}

std::optional<mount_info> parse_mount_answer(unsigned status, std::string_view body) {
  if (status != 200) return std::nullopt;
  const auto document = json::parse(body, nullptr, false);
  if (!document.is_object() || !document.contains("data") || !document["data"].is_object()) {
    return std::nullopt;
  }
  const auto& data = document["data"];
  const auto path = data.find("path");
  if (path == data.end() || !path->is_string()) return std::nullopt;
  mount_info mount{path->get<std::string>()};
  if (mount.path.empty() || !mount.path.ends_with('/')) return std::nullopt;
  const auto options = data.find("options");
  if (options != data.end() && options->is_object() && options->contains("version")) {
    const auto& version = (*options)["version"];
    if (version == "2" || version == 2) mount.kv_version = 2;
  }
  return mount;
}

std::vector<read_attempt> plan_reads(const secret_path& path,
                                     const std::optional<mount_info>& mount) {
  if (path.absolute) return {{path.path, answer_shape::either}};
  const auto literal = std::string{api_prefix} + encode_path(path.path);
  if (mount && path.path.starts_with(mount->path)) {
    if (mount->kv_version != 2) return {{literal, answer_shape::plain}};
    const auto rest = std::string_view{path.path}.substr(mount->path.size());
    if (rest.starts_with("data/")) return {{literal, answer_shape::kv_v2}};
    return {{std::string{api_prefix} + encode_path(mount->path + "data/" + std::string{rest}),
             answer_shape::kv_v2}};
  }
  const auto slash = path.path.find('/');
  const auto rest = std::string_view{path.path}.substr(slash + 1);
  if (rest.starts_with("data/")) return {{literal, answer_shape::either}};
  const auto guess = path.path.substr(0, slash + 1) + "data/" + std::string{rest};
  return {{std::string{api_prefix} + encode_path(guess), answer_shape::kv_v2, true},
          {literal, answer_shape::plain}};
}

bool settles(const read_attempt& attempt, unsigned status, std::string_view body) {
  return !attempt.only_if_kv_v2 || (status == 200 && looks_like_kv_v2(body));
}

bool guess_failure_outranks(unsigned guess_status, unsigned final_status) {
  const bool outage = guess_status >= 500 || guess_status == 429 || guess_status == 412;
  return outage && final_status == 404;
}

int run_get(const command_line& command, const config::env_lookup& env, std::ostream& out,
            std::ostream& err) {
  const auto& options = command.get;
  auto target = find_get_target(options, command.config_path, env);
  if (auto* failure = std::get_if<get_outcome>(&target)) return emit(std::move(*failure), out, err);
  const auto path = parse_secret_path(options.path);
  if (const auto* problem = std::get_if<std::string>(&path)) {
    return emit({exit_code::usage, {}, "vault-sidecar get: " + *problem + '\n'}, out, err);
  }
  const secret_reader reader{std::get<listener_target>(std::move(target)), env("VAULT_TOKEN"),
                             options.timeout};
  auto read = read_secret(reader, std::get<secret_path>(path), options.timeout);
  if (auto* failure = std::get_if<get_outcome>(&read)) return emit(std::move(*failure), out, err);
  auto& [attempt, answer] = std::get<1>(read);
  auto outcome =
      render_answer(options, options.path, attempt.shape, answer.result_int(), answer.body());
  core::cleanse(answer.body());
  return emit(std::move(outcome), out, err);
}

}  // namespace sidecar::app
