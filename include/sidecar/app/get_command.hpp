#pragma once

#include <sidecar/app/command_line.hpp>
#include <sidecar/app/get_output.hpp>
#include <sidecar/app/local_request.hpp>
#include <sidecar/config/parser.hpp>

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

// `vault-sidecar get`: one secret read through the running sidecar's listener, for scripts in
// images without curl or jq. The decisions (which listener, which Vault path, what the answer
// means) are pure functions below; run_get only connects and prints.

namespace sidecar::app {

/// Where `get` connects when neither a flag, VAULT_ADDR nor a configuration file says.
inline constexpr std::string_view default_sidecar_address = "http://127.0.0.1:8100";

/// The largest answer `get` reads (a secret is a few KiB; Vault's own request limit is 32 MiB).
inline constexpr std::uint64_t max_secret_answer = 16 * 1024 * 1024;

/// Pure: the listener named by a URL as VAULT_ADDR spells it: `http://HOST[:PORT][/]` with a
/// loopback HOST (`127.0.0.1`, `[::1]`, `localhost`; port 80 when none), or `unix:///PATH`.
/// Anything else (https, another host, a path after the port) is an error saying why: the
/// sidecar listens on loopback in plain HTTP only, and a remote Vault is not the sidecar.
[[nodiscard]] std::variant<listener_target, std::string> parse_listener_url(std::string_view url);

/// Where `get` connects, and how it came to it: --address, --unix-socket, --config FILE's
/// listener, VAULT_ADDR, the default configuration file's listener when that file exists, else
/// default_sidecar_address. A bad --address is exit_code::usage; a bad VAULT_ADDR or a file with
/// problems exit_code::failed, its problems in `err`. Reads the configuration file, nothing else.
[[nodiscard]] std::variant<listener_target, get_outcome> find_get_target(
    const get_options& options, const std::string& config_path, const config::env_lookup& env);

/// A secret's path as the user wrote it.
struct secret_path {
  std::string path;       ///< relative: "kv-demo/sample"; absolute: "/v1/kv-demo/data/sample"
  bool absolute = false;  ///< given as `/v1/...`: sent as it is, no mount look-up

  friend bool operator==(const secret_path&, const secret_path&) = default;
};

/// Pure: `/v1/...` as it is (a query such as `?version=2` included), or a relative path of at
/// least a mount and a name (leading `/` dropped). Refused, with the reason: control characters
/// or blanks, an empty, `.` or `..` segment, a trailing `/`, a lone mount name.
[[nodiscard]] std::variant<secret_path, std::string> parse_secret_path(std::string_view text);

/// Pure: the Vault CLI's KV preflight for a relative path: `/v1/sys/internal/ui/mounts/<path>`.
[[nodiscard]] std::string mount_preflight_target(const secret_path& path);

/// What the preflight says about the mount holding a path.
struct mount_info {
  std::string path;    ///< "kv-demo/", with the trailing slash, as Vault writes it
  int kv_version = 1;  ///< 2 when `options.version` is "2"; 1 otherwise (KV v1, database, ...)

  friend bool operator==(const mount_info&, const mount_info&) = default;
};

/// Pure: the mount from a preflight answer, as the Vault CLI reads it (`data.path`,
/// `data.options.version`); nothing unless the answer is 200 with a `data.path` ending in `/`.
[[nodiscard]] std::optional<mount_info> parse_mount_answer(unsigned status, std::string_view body);

/// One read `get` may make.
struct read_attempt {
  std::string target;          ///< "/v1/kv-demo/data/sample", percent-encoded
  answer_shape shape;          ///< where its data map is
  bool only_if_kv_v2 = false;  ///< a guess: taken only if answered 200 in KV v2's shape

  friend bool operator==(const read_attempt&, const read_attempt&) = default;
};

/// Pure: the reads for `path`, in order; the last is always taken. Absolute: that target.
/// Relative, with the mount known: KV v2 reads `<mount>data/<rest>` (a rest already starting
/// with `data/` is kept as it is), anything else the path itself. Mount unknown (a sidecar
/// that does not answer the preflight): `<first>/data/<rest>` if answered in KV v2's shape,
/// else the path itself; a rest starting with `data/` is read as it is.
[[nodiscard]] std::vector<read_attempt> plan_reads(const secret_path& path,
                                                   const std::optional<mount_info>& mount);

/// Pure: whether the answer to `attempt` is the one to print (else the next attempt is made).
[[nodiscard]] bool settles(const read_attempt& attempt, unsigned status, std::string_view body);

/// Pure: whether a guess that failed with `guess_status` is the answer to report rather than the
/// final attempt's `final_status`: when Vault or the sidecar was failing (5xx, 429, 412) on the
/// guess and the path itself is a 404, "no such secret" would hide the outage.
[[nodiscard]] bool guess_failure_outranks(unsigned guess_status, unsigned final_status);

/// `vault-sidecar get`: finds the listener, asks the mount preflight for a relative path, reads,
/// prints. Sends `X-Vault-Request: true` and, when set, VAULT_TOKEN as `X-Vault-Token` (the
/// sidecar ignores it; a Vault-compatible listener may want it). Every connection and answer
/// shares the one deadline `options.timeout`. Exit codes as render_answer and
/// transport_failure say; a malformed path is exit_code::usage.
[[nodiscard]] int run_get(const command_line& command, const config::env_lookup& env,
                          std::ostream& out, std::ostream& err);

}  // namespace sidecar::app
