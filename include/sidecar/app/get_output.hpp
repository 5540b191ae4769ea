#pragma once

#include <sidecar/app/command_line.hpp>
#include <sidecar/core/asio.hpp>

#include <chrono>
#include <string>
#include <string_view>

// What `vault-sidecar get` prints for an answer, and with which exit code: pure functions over
// the answer's status and body, so every case is tested without a socket.

namespace sidecar::app {

/// Which map of an answer is "the secret's data".
enum class answer_shape {
  kv_v2,   ///< `data.data` (the mount is known to be KV v2)
  plain,   ///< `data` (KV v1, database creds, anything else)
  either,  ///< `data.data` when the answer looks like KV v2 (data.data and data.metadata), else
           ///< `data`: for a mount of unknown version
};

/// What to print and the exit code. `out` may hold a secret; `err` never does.
struct get_outcome {
  int exit_code = 0;
  std::string out;
  std::string err;

  friend bool operator==(const get_outcome&, const get_outcome&) = default;
};

/// Pure: whether `body` is a KV v2 read's answer: `data.data` and `data.metadata` are objects.
[[nodiscard]] bool looks_like_kv_v2(std::string_view body);

/// Pure: an environment variable name for a field: ASCII letters upper-cased, every byte outside
/// [A-Z0-9_] made `_`, and a `_` in front of a leading digit or of nothing ("" -> "_"), so the
/// name is always a valid shell identifier.
[[nodiscard]] std::string env_name(std::string_view field);

/// Pure: `value` in single quotes, each `'` written `'\''`, so that a POSIX shell's `eval` or
/// `.` reads back exactly `value` and never expands, splits or runs anything in it.
[[nodiscard]] std::string shell_quote(std::string_view value);

/// Pure: the outcome of the answer (`status`, `body`) to a read of `shown_path` (the path as the
/// user wrote it, for messages), printed as `options` asks:
/// - 200: `--field NAME` prints that field's value with nothing after it (a string as it is,
///   anything else as compact JSON); `--format json` the data map as indented JSON and a newline;
///   `env` one `NAME='value'` line per field, sorted; `raw` the body as it came. A missing field
///   is exit_code::missing; a body without a data map (or not JSON), two fields giving one
///   name, or a value holding a NUL byte (no shell variable can) is exit_code::failed.
/// - 404 exit_code::missing, 403 exit_code::refused, anything else exit_code::failed, with
///   Vault's `errors` text (control characters replaced) on `err` and nothing on `out`.
[[nodiscard]] get_outcome render_answer(const get_options& options, std::string_view shown_path,
                                        answer_shape shape, unsigned status, std::string_view body);

/// Pure: the outcome when no answer came from `where`: exit_code::unavailable for a connection
/// that could not be made, broke, or gave no answer within `timeout`; exit_code::failed when
/// something answered that is not HTTP (or a body over the limit).
[[nodiscard]] get_outcome transport_failure(std::string_view where, const error_code& error,
                                            std::chrono::milliseconds timeout);

}  // namespace sidecar::app
