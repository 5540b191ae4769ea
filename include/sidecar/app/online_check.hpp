#pragma once

#include <sidecar/config/config.hpp>
#include <sidecar/config/parser.hpp>
#include <sidecar/vault/client.hpp>

#include <iosfwd>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::app {

/// Exit code of `check --online` when a [secrets] entry cannot be read. Not one of the daemon's
/// sysexits codes on purpose: 77 stays "Vault refused the login", so a script can tell a wrong
/// secret_id from a policy that lacks a path.
inline constexpr int secrets_unreadable = 1;

/// What capabilities-self said about one path.
struct capabilities {
  std::vector<std::string> granted;  ///< e.g. {"read", "list"}; {"deny"} when nothing is granted
  std::string error;  ///< non-empty: no answer for this path, and why; `granted` is then empty
};

/// Whether one secret could be read once.
struct read_outcome {
  unsigned status = 0;  ///< Vault's HTTP status; 0 when no answer came
  std::string reason;   ///< Vault's error summary or the transport error; empty on a 2xx
};

/// One line of the `check --online` table. Never holds a secret value.
struct access_row {
  std::string source;  ///< "allow /v1/kv-demo/*" or "secret app"
  std::string path;    ///< the Vault path asked about, without /v1/
  bool readable = false;
  std::string reason;
  bool required = false;  ///< a [secrets] entry: unreadable fails the check

  friend bool operator==(const access_row&, const access_row&) = default;
};

/// Pure: the path whose capabilities stand for a `[proxy] allow` pattern: the part before the
/// `*`, without `/v1/` ("/v1/kv-demo/*" -> "kv-demo/", "/v1/kv-*" -> "kv-"). Vault evaluates
/// capabilities on that literal path, so a prefix that ends mid-name ("kv-") only reflects rules
/// that match it, not rules for the longer paths below it.
[[nodiscard]] std::string capability_path(std::string_view allow_pattern);

/// Pure: the granted capabilities include reading ("read", or "root" for everything).
[[nodiscard]] bool grants_read(const std::vector<std::string>& granted);

/// Pure: capabilities-self's answer split per asked path. Vault puts `path: [caps]` in `data`
/// (and, in older versions, at the top level too); a path missing from both, an error status
/// or a body that is not JSON gives every path an `error`.
[[nodiscard]] std::map<std::string, capabilities> parse_capabilities(
    const vault::response& answer, const std::vector<std::string>& paths);

/// Pure: the row of an allow pattern: readable when its prefix grants read.
[[nodiscard]] access_row allow_row(std::string_view pattern, const capabilities& caps);

/// Pure: the row of a [secrets] entry: readable when the one read answered 200, whatever the
/// capabilities say (a missing secret is unreadable even with `read`). `dynamic` notes in the
/// reason that the read minted credentials, revoked with the check's token.
[[nodiscard]] access_row secret_row(std::string_view name, std::string_view path,
                                    const capabilities& caps, const read_outcome& read,
                                    bool dynamic);

/// Pure: the rows as an aligned table with a heading: SOURCE, PATH, READABLE (yes/no), REASON;
/// then one summary line.
[[nodiscard]] std::string format_table(const std::vector<access_row>& rows);

/// Pure: 0, or secrets_unreadable when a required row is not readable.
[[nodiscard]] int online_exit_code(const std::vector<access_row>& rows);

/// `vault-sidecar check --online`: validates the file like run_check (78 and every problem on
/// a bad file), then logs in with the configured AppRole (77 refused, 69 unreachable within
/// login_timeout, 78 credentials unreadable), asks `POST /v1/sys/capabilities-self` about every
/// allow prefix and [secrets] path in one request, reads each [secrets] entry once, revokes its
/// own token (`revoke-self`, which also revokes any database credentials the reads minted) and
/// prints the table to `out`. Returns online_exit_code(). Logs go to stderr as configured in
/// [log]; no secret value is ever printed.
///
/// The login spends one use of a secret_id that has `secret_id_num_uses`, and the secret_id
/// file is never removed here even with remove_secret_id_file_after_reading: the daemon still
/// needs it. Blocking: runs its own io_context on the calling thread until done.
[[nodiscard]] int run_online_check(const std::string& config_path, const config::env_lookup& env,
                                   std::ostream& out, std::ostream& err);

}  // namespace sidecar::app
