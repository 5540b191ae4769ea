#pragma once

#include <sidecar/cache/stored_answer.hpp>

#include <memory>
#include <string_view>

namespace sidecar::cache {

/// Where an answer came from, for the proxy's `X-Cache` header.
enum class cache_state {
  hit,    ///< fresh from the cache, Vault not asked
  miss,   ///< read from Vault for this request (or shared with a concurrent one)
  stale,  ///< expired, served because Vault failed or there is no token
};

/// "HIT", "MISS" or "STALE": the `X-Cache` value.
[[nodiscard]] std::string_view to_string(cache_state state) noexcept;

/// What kv_cache::async_get hands the proxy: Vault's answer to relay (shared, not copied), how
/// it was obtained, and its `Age`. A stale answer also gets `Warning: 110 - "Response is Stale"`.
struct cached_answer {
  std::shared_ptr<const stored_answer> answer;
  cache_state state = cache_state::miss;
  long long age_seconds = 0;  ///< whole seconds since Vault sent it, rounded down

  [[nodiscard]] unsigned status() const noexcept { return answer->status(); }
  [[nodiscard]] const std::string& content_type() const noexcept { return answer->content_type(); }
  [[nodiscard]] std::string_view body() const noexcept { return answer->body(); }
};

}  // namespace sidecar::cache
