#pragma once

#include <sidecar/config/config.hpp>
#include <sidecar/core/result.hpp>
#include <sidecar/metrics/registry.hpp>
#include <sidecar/proxy/peer_identity.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sidecar::proxy {

/// What the audit trail says about one answered request. Never a value, token, secret_id,
/// lease id, query or body: the path is the normalised path alone.
struct audit_record {
  std::chrono::system_clock::time_point time;
  std::string_view listener;  ///< "tcp" or "unix"
  peer_identity peer;
  std::string_view client;  ///< the [client.NAME] matched; empty: none or none configured
  std::string_view method;
  std::string_view path;  ///< normalised; empty when refused before routing
  unsigned status = 0;
  std::string_view cache;    ///< HIT, MISS, STALE or empty
  double upstream_ms = 0.0;  ///< time waiting for the cache, the lease store or Vault
  std::string_view reason;   ///< why it was refused; empty when answered
};

/// One JSON line, '\n' included: time (UTC, ms), listener, uid/gid/pid when known, client
/// ("-" for none), method, path ("-" when not routed), status, cache ("-" for none),
/// upstream_ms, and reason for a refusal. Pure.
[[nodiscard]] std::string audit_line(const audit_record& record);

/// `[audit] destination`: one audit_line per request to stderr or an append-only file (created
/// mode 0600). A request never waits for it: write() formats the line and hands it to a writer
/// thread through a bounded queue (the lock is held for a push or a swap, never for I/O); when
/// the queue is full the line is dropped and counted (`audit_lines_dropped_total`, and a
/// warning from the writer). reopen() (SIGHUP, logrotate) makes the writer open the path again
/// before its next batch.
///
/// Thread affinity: write() and reopen() from any thread. Errors: open() refuses a file that
/// cannot be opened; later write failures are counted as drops.
class audit_log final {
 public:
  /// nullptr for `destination = off`.
  static result<std::unique_ptr<audit_log>> open(const config::audit_config& config,
                                                 metrics::registry& registry);
  ~audit_log();
  audit_log(const audit_log&) = delete;
  audit_log& operator=(const audit_log&) = delete;

  void write(const audit_record& record);
  void reopen() noexcept;

  static constexpr std::size_t max_pending = 8192;

 private:
  audit_log(std::string path, int fd, metrics::registry& registry);
  void run();
  void count_dropped(std::uint64_t lines);

  std::string path_;  // empty: stderr
  int fd_;            // writer thread only, after construction
  metrics::counter& dropped_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::string> pending_;  // mutex_
  bool stopping_ = false;             // mutex_
  std::atomic<bool> reopen_{false};
  std::atomic<std::uint64_t> dropped_since_warning_{0};
  std::thread writer_;
};

}  // namespace sidecar::proxy
