#pragma once

#include <cstdint>

namespace sidecar::lease {

/// Counters of the lease store, for the metrics endpoint. Plain integers: the store runs on the
/// io thread and the exporter reads them there.
struct lease_stats {
  std::uint64_t hits = 0;         ///< answers served from a held lease
  std::uint64_t fetches = 0;      ///< creds requests sent to Vault
  std::uint64_t rotations = 0;    ///< new creds that replaced a held lease
  std::uint64_t renewals = 0;     ///< leases extended with sys/leases/renew
  std::uint64_t failures = 0;     ///< failed attempts to fetch new creds in the background
  std::uint64_t expirations = 0;  ///< leases that ran out before new creds were obtained
  std::uint64_t revocations = 0;  ///< leases revoked at shutdown
};

}  // namespace sidecar::lease
