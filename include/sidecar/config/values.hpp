#pragma once

#include <sidecar/core/clock.hpp>

#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The value grammars of the configuration contract (DESIGN.md), one pure function each. A
// failure carries a reason phrase that completes "file:line: section.key: <reason>" and quotes
// the offending text, so the operator sees what was read.

namespace sidecar::config {

/// A parsed value, or why the text is not one.
template <class T>
using parsed = boost::system::result<T, std::string>;

/// `500ms`, `10s`, `5m`, `1h` or plain whole seconds (`30`). Zero is accepted here (callers
/// decide whether it makes sense); signs, fractions, blanks and overflow are not.
[[nodiscard]] parsed<core::duration> parse_duration(std::string_view text);

/// The shortest spelling parse_duration reads back to the same value: `1h`, `90s`, `500ms`.
[[nodiscard]] std::string format_duration(core::duration value);

/// A fraction strictly between 0 and 1 (`0.8`).
[[nodiscard]] parsed<double> parse_fraction(std::string_view text);

/// `true` or `false`, nothing else.
[[nodiscard]] parsed<bool> parse_bool(std::string_view text);

/// The boolean spellings Vault's own tools accept in the environment (Go's strconv.ParseBool:
/// 1, t, T, TRUE, true, True and their false counterparts), so VAULT_SKIP_VERIFY=1 works.
[[nodiscard]] parsed<bool> parse_env_bool(std::string_view text);

/// A whole number in [low, high].
[[nodiscard]] parsed<std::uint64_t> parse_whole(std::string_view text, std::uint64_t low,
                                                std::uint64_t high);

/// A file mode in octal, `0660` or `660`, at most 0777.
[[nodiscard]] parsed<unsigned> parse_mode(std::string_view text);

/// `SIGTERM`, `SIGINT`, `SIGHUP`, `SIGQUIT`, `SIGUSR1`, `SIGUSR2` or `SIGKILL` -> its number.
[[nodiscard]] parsed<int> parse_signal(std::string_view text);

/// The name parse_signal reads back to `number`, or the number itself when it has none.
[[nodiscard]] std::string signal_name(int number);

/// Comma-separated items, each trimmed; empty text is an empty list, an empty item an error.
[[nodiscard]] parsed<std::vector<std::string>> parse_list(std::string_view text);

/// A command line split into arguments the way a POSIX shell would split it, without running a
/// shell: blanks separate arguments, '...' is literal, "..." honours \" \\ \$ \` and a
/// backslash outside quotes escapes the next character. No expansion of any kind. Unbalanced
/// quotes, a trailing backslash and an empty command are errors.
[[nodiscard]] parsed<std::vector<std::string>> split_command(std::string_view text);

/// The inverse of split_command: arguments quoted only where needed.
[[nodiscard]] std::string join_command(const std::vector<std::string>& arguments);

/// Why `text` is not a loopback `host:port` (127.0.0.0/8, `[::1]` or `localhost`, port
/// 1-65535); nothing when it is. Secrets are served without authentication, so any other
/// address, 0.0.0.0 included, is refused.
[[nodiscard]] std::optional<std::string> check_listener_address(std::string_view text);

/// Why `text` is not a Vault address `http(s)://host[:port]` (a trailing `/` is tolerated);
/// nothing when it is.
[[nodiscard]] std::optional<std::string> check_vault_address(std::string_view text);

/// The secret names a template refers to: `name` in `{{name.key}}` (also `{{{...}}}` and
/// `{{& ...}}`); `{{! comments}}` are skipped. Tags are read by core::mustache_variables, as the
/// renderer reads them: an unterminated or empty tag, a section, partial or delimiter change is
/// an error.
[[nodiscard]] parsed<std::vector<std::string>> template_references(std::string_view text);

}  // namespace sidecar::config
