#pragma once

#include <sidecar/core/clock.hpp>
#include <sidecar/testing/auth_store.hpp>
#include <sidecar/testing/database_backend.hpp>
#include <sidecar/testing/fault_plan.hpp>
#include <sidecar/testing/kv_store.hpp>
#include <sidecar/testing/lease_store.hpp>
#include <sidecar/testing/platform_auth.hpp>
#include <sidecar/testing/specs.hpp>
#include <sidecar/testing/wrapping_store.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace sidecar::testing {

/// Everything the Vault double knows, behind one mutex: tokens and roles, KV mounts, leases,
/// wrapped answers, injected faults, the seal, and what was asked of it. Any thread that touches a
/// member holds `mutex` for the whole request, so each request sees and leaves a consistent state.
struct double_state {
  double_state(const core::clock& time, std::shared_ptr<database_backend> database)
      : clock{time},
        auth{time},
        platform{time, auth},
        kv{time},
        leases{time, std::move(database)},
        wrapping{time} {}

  mutable std::mutex mutex;
  const core::clock& clock;
  auth_store auth;
  platform_auth platform;  ///< Kubernetes, JWT and cert logins; tokens from `auth`
  kv_store kv;
  lease_store leases;
  wrapping_store wrapping;
  fault_plan faults;
  bool sealed = false;
  std::vector<request_record> requests;
  std::size_t connections_accepted = 0;
  std::size_t in_flight = 0;       ///< requests read and not yet answered, dropped or abandoned
  std::size_t peak_in_flight = 0;  ///< the most in_flight ever was
};

}  // namespace sidecar::testing
