#pragma once

#include <string>
#include <string_view>
#include <vector>

// Cache keys: the Vault target an entry was read from, in one canonical spelling, so
// "kv/data/x?b=2&a=1" and "/v1/kv/data/x?a=1&b=2" share an entry while "?version=1" and the
// latest version do not. The proxy has already resolved `..`, `//` and percent-encoding; these
// functions only settle the spellings that remain. A key is also the target sent to Vault.

namespace sidecar::cache {

/// "/v1/<path>" plus the query with its parameters sorted and empty ones removed. Accepts the
/// target with or without the leading "/v1/".
[[nodiscard]] std::string normalise_key(std::string_view target);
/// Whether normalise_key(target) is `target` itself ("/v1/..." without a query): then the cache
/// looks it up as it is, with no key built (the hot path of every cached hit).
[[nodiscard]] bool is_its_own_key(std::string_view target) noexcept;

/// The key without its query, without a trailing '/'.
[[nodiscard]] std::string_view key_path(std::string_view key) noexcept;

/// The paths (as key_path() spells them) whose cached answers a write to `secret_path` makes
/// wrong: the path itself; for a KV v2 path (`<mount>/{data,metadata,subkeys,delete,undelete,
/// destroy}/<name>`) also the `data/`, `metadata/` and `subkeys/` views of that name; and every
/// ancestor of these, since a listing of a folder changes when a secret in it is written.
/// Dropping one entry too many only costs a read; one too few would serve an old secret.
[[nodiscard]] std::vector<std::string> affected_paths(std::string_view secret_path);

}  // namespace sidecar::cache
