#pragma once

#include <sidecar/testing/corruption.hpp>
#include <sidecar/testing/wire.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::testing {

/// What the server does to one request before (or instead of) answering it.
struct fault_decision {
  std::chrono::milliseconds delay{0};
  bool drop = false;                  ///< close the connection without answering
  std::optional<vault_reply> fail;    ///< answer this instead of the real reply
  std::optional<corruption> corrupt;  ///< write the real reply garbled this way
};

/// Faults injected by tests, matched by prefix of the HTTP path ("/v1/kv-demo"): the next N
/// requests fail with a status, the next N are dropped, the next N are answered garbled, all are
/// delayed. Counted faults are
/// used up in the order they were added.
///
/// Thread affinity: none; the vault_double serialises access under its state lock.
class fault_plan {
 public:
  void fail_next(std::string prefix, int count, unsigned status, std::string message);
  /// A zero delay removes the prefix's delay.
  void set_delay(std::string prefix, std::chrono::milliseconds delay);
  void drop_next(std::string prefix, int count);
  void corrupt_next(std::string prefix, int count, corruption mode);
  /// For `window` from now, every matching request is answered `status` with
  /// `{"errors":[message]}` and `headers` (e.g. a rate-limit quota: 429 and Retry-After).
  void fail_for(std::string prefix, std::chrono::milliseconds window, unsigned status,
                std::string message, std::vector<std::pair<std::string, std::string>> headers);
  void clear();

  /// Decides for one request, using up one counted fault that matches its path.
  fault_decision take(std::string_view path);

 private:
  struct counted {
    std::string prefix{};
    int left = 0;
    unsigned status = 0;  // 0: a drop, unless `mode` is set
    std::string message{};
    std::optional<corruption> mode{};
  };
  struct windowed {
    std::string prefix{};
    std::chrono::steady_clock::time_point until{};
    vault_reply reply{};
  };
  std::vector<counted> counted_;
  std::vector<windowed> windows_;
  std::vector<std::pair<std::string, std::chrono::milliseconds>> delays_;
};

}  // namespace sidecar::testing
