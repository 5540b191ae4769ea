#pragma once

namespace sidecar::vault {

/// Whether an HTTP status from Vault means *Vault failing* rather than *Vault answering*: 412
/// (`required index state not present`, a standby behind the active node), 429 (a rate-limit
/// or lease-count quota) and every 5xx except 501 (not implemented, which will not change).
/// Such an answer says nothing about the secret, so the KV cache serves what it holds as stale,
/// the lease store keeps serving a live lease, reads are retried and the upstream state turns
/// to `failing`, exactly as when Vault is unreachable. Everything else (2xx, 3xx, 400, 403, 404,
/// 405, 501, ...) is Vault's answer about the request and is authoritative.
[[nodiscard]] bool is_failing_status(unsigned status) noexcept;

}  // namespace sidecar::vault
