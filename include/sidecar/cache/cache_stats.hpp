#pragma once

#include <cstddef>
#include <cstdint>

namespace sidecar::cache {

/// The cache's counters, for the metrics endpoint. Plain data, updated on the io thread.
struct cache_stats {
  std::uint64_t hits = 0;               ///< fresh answers served without asking Vault
  std::uint64_t negative_hits = 0;      ///< of the hits, kept 404s (negative_ttl)
  std::uint64_t misses = 0;             ///< reads answered by Vault (coalesced ones included)
  std::uint64_t stale_serves = 0;       ///< expired answers served while Vault failed
  std::uint64_t upstream_requests = 0;  ///< reads sent to Vault (misses and refreshes)
  std::uint64_t coalesced_waiters = 0;  ///< reads that joined a request already in flight
  std::uint64_t refreshes_ok = 0;       ///< background re-reads that stored a 200
  std::uint64_t refreshes_failed = 0;   ///< background re-reads that got anything else
  std::uint64_t evictions = 0;          ///< entries pushed out by max_entries
  std::uint64_t drops = 0;  ///< entries dropped: unread for ttl, 403/404, past max_stale
  std::size_t entries = 0;  ///< held now
};

/// The cache's state for the health endpoint.
struct cache_snapshot {
  std::size_t entries = 0;
  std::size_t in_flight = 0;         ///< upstream reads in progress
  long long oldest_age_seconds = 0;  ///< age of the oldest held answer; 0 when empty
};

}  // namespace sidecar::cache
