#pragma once

#include <sidecar/cache/cache_stats.hpp>
#include <sidecar/cache/cached_answer.hpp>
#include <sidecar/cache/policy.hpp>
#include <sidecar/cache/stored_answer.hpp>
#include <sidecar/config/config.hpp>
#include <sidecar/core/asio.hpp>
#include <sidecar/core/backoff.hpp>
#include <sidecar/core/clock.hpp>
#include <sidecar/core/result.hpp>
#include <sidecar/vault/client.hpp>
#include <sidecar/vault/token_source.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sidecar::cache {

/// Read-through memory cache of KV secrets (DESIGN.md [cache]). An answer is fresh for `ttl`
/// after Vault sent it; every `refresh_interval`, at a phase of its own drawn when it was first
/// stored, an entry read since its last refresh is re-read by async_run_refresh(), so hot paths
/// never go cold, a change in Vault reaches callers within one interval, and a fleet of sidecars
/// started together does not refresh in step; entries nobody read for `ttl` are dropped. Concurrent
/// misses and refreshes of one key share a single upstream request. When Vault fails (transport
/// error, or a status vault::is_failing_status() names: 412, 429, 5xx but 501 — the sidecar's own
/// 429 while Vault's Retry-After pause lasts included) or there is no token, an expired entry is
/// served as STALE for up to `max_stale` past its expiry. 200 answers are cached for `ttl`, 404s
/// for `negative_ttl` (served as HIT, never stale, never refreshed); other 4xx pass through, and a
/// 403 (or a 404 with negative_ttl 0) drops what is held. At most `max_entries`
/// are held, the least recently read evicted first; a dropped answer's bytes are cleansed once
/// the last caller relaying it lets go. Nothing is written to disk.
///
/// Thread affinity: io thread only (no locks). Lifetime: an upstream read runs as its own
/// coroutine on the caller's executor and refers to the cache, so the cache must outlive the
/// io_context's run. Cancellation: a cancelled caller stops waiting (operation_aborted) while
/// the shared read goes on for the others and is still stored; async_run_refresh() ends when
/// cancelled. Errors: vault::errc from the transport, auth::errc::no_token; Vault's own error
/// answers are answers, not errors.
class kv_cache final {
 public:
  using answer_ptr = std::shared_ptr<const stored_answer>;
  /// Called with the key and the secret's new map when a read brings content different from
  /// what was held (values compared, not timestamps or request ids).
  using change_handler = std::function<void(const std::string& key, const nlohmann::json& data)>;

  /// `random` places each entry's first refresh in its first interval (first_refresh_at()).
  kv_cache(vault::client& upstream, vault::token_source& tokens, const core::clock& clock,
           const config::cache_config& config,
           core::uniform_source random = core::make_random_source());
  ~kv_cache();
  kv_cache(const kv_cache&) = delete;
  kv_cache& operator=(const kv_cache&) = delete;
  kv_cache(kv_cache&&) = delete;
  kv_cache& operator=(kv_cache&&) = delete;

  /// The answer for a GET of `target` ("/v1/kv/data/x?version=1" or "kv/data/x"): from the
  /// cache when fresh, else from Vault, else stale when allowed. Taken by value: a coroutine
  /// starts later than its call, when a view could already dangle.
  net::awaitable<result<cached_answer>> async_get(std::string target);
  /// The fresh answer held for `target`, counted as a hit, or nullopt; never waits. What
  /// async_get() answers at once, for a caller that can skip a coroutine when it is there.
  std::optional<cached_answer> find_fresh(std::string_view target);

  /// After a write through the sidecar: drops every entry of that secret (all versions, and for
  /// KV v2 its metadata/ and subkeys/ views and the listings above it); a read of it already in
  /// flight is still answered but not stored.
  void invalidate(std::string_view secret_path);
  /// Vault Proxy's cache-clear `all`.
  void clear_all();
  /// Vault Proxy's cache-clear `request_path`: every key starting with `prefix` ("/v1/" optional).
  void clear_prefix(std::string_view prefix);

  /// The background loop: one async_refresh_once() every refresh_tick() until cancelled.
  net::awaitable<void> async_run_refresh();
  /// One background pass: drops entries unread for `ttl`; of the entries whose refresh point
  /// has come (first_refresh_at(), then every `refresh_interval`), re-reads the ones read since
  /// their last refresh (a few at a time), and skips Vault while there is no token.
  net::awaitable<void> async_refresh_once();

  void on_change(change_handler handler);

  /// A reloaded [cache] section (SIGHUP), applied at once: freshness and stale serving are
  /// judged by the new ttl and max_stale from the next read on, a smaller max_entries evicts
  /// the least recently read entries down to the bound now, and a new refresh_interval wakes
  /// a waiting async_run_refresh() and gives every entry a new phase within the new interval. On
  /// the cache's executor.
  void apply(const config::cache_config& config);

  [[nodiscard]] cache_snapshot snapshot() const;
  [[nodiscard]] const cache_stats& stats() const noexcept { return stats_; }

 private:
  /// The keys of entries_, by address (an unordered_map never moves its nodes): a second copy
  /// of every key cost as much as the key itself.
  using lru_list = std::list<const std::string*>;

  struct slot {
    answer_ptr answer;
    read_record reads;
    lru_list::iterator lru;                       ///< position in lru_, front = most recently read
    std::optional<core::time_point> failed_at{};  ///< Vault's last failure for this key
    core::time_point refresh_at{};                ///< its next background refresh is due
  };

  /// One upstream read in progress, shared by every caller of that key. `done` never expires on
  /// its own: it is cancelled once `outcome` is set, which wakes every waiter.
  struct flight {
    explicit flight(const net::any_io_executor& executor);
    steady_timer done;
    std::optional<result<answer_ptr>> outcome;
    bool for_reader = false;  ///< a caller waits: store the answer even if the entry is gone
    bool discard = false;     ///< cleared or invalidated meanwhile: answer, but do not store
  };

  /// Looked up by string_view too (C++20 heterogeneous lookup): a hit builds no key.
  struct key_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept {
      return std::hash<std::string_view>{}(key);
    }
  };
  using slot_map = std::unordered_map<std::string, slot, key_hash, std::equal_to<>>;

  std::optional<cached_answer> serve_fresh(std::string_view key, core::time_point now);
  std::optional<cached_answer> serve_stale(const std::string& key, core::time_point now);
  void touch(slot& entry, core::time_point now);

  std::shared_ptr<flight> join_or_start(const std::string& key,
                                        const net::any_io_executor& executor,
                                        const core::secret_string& token, bool by_reader);
  net::awaitable<result<answer_ptr>> fetch(std::string key, core::secret_string token);
  static net::awaitable<result<answer_ptr>> wait_for(std::shared_ptr<flight> pending);
  void complete(const std::string& key, flight& pending, result<answer_ptr> outcome);
  void store(const std::string& key, answer_ptr answer, bool by_reader);
  void note_refresh(const std::string& key, const result<answer_ptr>& outcome);

  void erase(slot_map::iterator at);
  void evict_over_capacity();
  template <class Predicate>
  void erase_keys_if(Predicate matches);

  vault::client& upstream_;
  vault::token_source& tokens_;  // told when Vault calls the token invalid
  const core::clock& clock_;
  config::cache_config config_;
  core::uniform_source random_;
  steady_timer* refresh_wait_ = nullptr;  ///< async_run_refresh()'s timer, for apply()
  std::shared_ptr<spdlog::logger> log_;
  slot_map entries_;
  lru_list lru_;
  std::unordered_map<std::string, std::shared_ptr<flight>> in_flight_;
  std::vector<change_handler> change_handlers_;
  cache_stats stats_;
};

}  // namespace sidecar::cache
