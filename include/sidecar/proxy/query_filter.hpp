#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace sidecar::proxy {

/// A raw query split into decoded (name, value) pairs, in order, the way Go's url.ParseQuery
/// reads it (Vault's reading): '&' separates pairs, '+' is a space, %XX is decoded, a pair
/// holding a ';' is skipped (Go >= 1.17) and so is an empty one. The target has already been
/// checked for valid percent-encoding (target.hpp). Pure.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> decode_query(std::string_view raw);

/// What a KV read keeps of its query. Vault looks only at `list` (any path), `version` (KV v2
/// `data/` and `subkeys/` reads) and `depth` (`subkeys/`), so everything else is dropped before
/// the cache key is built and before the request goes out: `?x=1` and `?x=2` are one entry and
/// one upstream read, and junk cannot bust the cache.
struct kv_read_query {
  /// Vault will list: the first decoded `list` is true for Go's strconv.ParseBool.
  bool list = false;
  /// The canonical query sent upstream and keyed on: "", "list=true", "version=3",
  /// "depth=1&version=3". A version or depth of 0 (Vault's "latest", "no limit") is dropped.
  std::string query;

  friend bool operator==(const kv_read_query&, const kv_read_query&) = default;
};

/// The refusal of a query Vault would refuse as well (400): a `list` that is no boolean, a
/// `version` or `depth` that is not a plain decimal number or is given twice.
struct query_refusal {
  std::string reason;
};

/// Filters the raw query of a KV read of `path` (normalised, "/v1/<mount>/..."). `list_method`:
/// the request's method was LIST, which lists whatever the query says. Pure and total.
[[nodiscard]] std::variant<kv_read_query, query_refusal> filter_kv_read_query(
    std::string_view path, std::string_view raw_query, bool list_method);

}  // namespace sidecar::proxy
