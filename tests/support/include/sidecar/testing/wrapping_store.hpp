#pragma once

#include <sidecar/core/clock.hpp>
#include <sidecar/testing/wire.hpp>

#include <map>
#include <string>
#include <variant>

namespace sidecar::testing {

/// Vault's response wrapping (vault/wrapping.go, sys/wrapping/*): an answer put away under a
/// single-use wrapping token with a TTL and the path of the request that made it. Lookup shows
/// the creation path without spending the token; unwrap hands the answer out once.
///
/// Thread affinity: none; the vault_double serialises all access under its state lock.
/// Errors: a used, expired or unknown token answers 400 `wrapping token is not valid or does
/// not exist`, as Vault does for lookup and unwrap alike.
class wrapping_store {
 public:
  explicit wrapping_store(const core::clock& clock) : clock_{clock} {}

  /// Wraps `answer` (a whole response body) for `ttl` seconds; returns the envelope Vault sends
  /// instead, with only `wrap_info` set.
  nlohmann::json wrap(nlohmann::json answer, std::string creation_path, long long ttl);
  [[nodiscard]] bool holds(const std::string& token);
  /// sys/wrapping/lookup: data.creation_path, creation_time, creation_ttl.
  vault_reply lookup(const std::string& token);
  /// sys/wrapping/unwrap: the wrapped answer; the token is spent.
  vault_reply unwrap(const std::string& token);

 private:
  struct wrapped {
    nlohmann::json answer;
    std::string creation_path;
    std::string creation_time;  ///< RFC 3339, as wrap_info said it
    core::time_point created;
    core::time_point expires;
    long long ttl = 0;
  };

  void sweep_expired();

  const core::clock& clock_;
  std::map<std::string, wrapped> tokens_;
};

/// X-Vault-Wrap-TTL as Vault reads it (a duration string or seconds): the seconds, or the
/// error reply for a negative or unreadable value.
[[nodiscard]] std::variant<long long, vault_reply> parse_wrap_ttl(const std::string& header);

}  // namespace sidecar::testing
