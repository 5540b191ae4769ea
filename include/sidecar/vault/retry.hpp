#pragma once

#include <sidecar/core/asio.hpp>

namespace sidecar::vault {

/// What one attempt came to: a transport failure (a vault::errc), or else an HTTP status.
struct attempt_outcome {
  error_code failure;
  unsigned status = 0;
};

/// Whether an attempt may be repeated after a backoff. Only reads (GET, HEAD) are: repeating a
/// write could apply it twice. A read is repeated when Vault was unreachable (nothing reached
/// it) or answered a status is_failing_status() calls Vault failing (412, 429, 5xx but 501);
/// never after a timeout (the whole request_timeout is already spent), a TLS failure
/// (the certificate will not change) or a malformed or oversized answer. At most `max_retries`
/// repeats (`retries_done` of them already happened).
[[nodiscard]] bool should_retry(http::verb method, const attempt_outcome& outcome, int retries_done,
                                int max_retries) noexcept;

/// Whether a request that failed on a connection may be sent again, once, on a fresh connection,
/// whatever its method: true only when the connection came from the pool (`reused`), failed as
/// unreachable (closed or reset) and not one byte of an answer had arrived. That is a keep-alive
/// connection the server closed while it was idle, so the request was never processed.
[[nodiscard]] bool retry_on_fresh_connection(bool reused, bool answer_started,
                                             const error_code& failure) noexcept;

/// Maps an Asio, Beast or OpenSSL error to the vault::errc the caller sees: deadline expiry to
/// timeout; body or header limits to response_too_large; a parse error or a truncated answer to
/// malformed_response; an OpenSSL error to tls_failure; refused, reset, closed before an answer
/// and DNS failures to unreachable. A cancellation (operation_aborted) is returned unchanged, so
/// a cancelled caller is not told Vault failed.
[[nodiscard]] error_code classify_transport_error(const error_code& ec) noexcept;

}  // namespace sidecar::vault
