#pragma once

#include <sidecar/testing/database_backend.hpp>

#include <cstddef>
#include <mutex>
#include <set>
#include <string>

namespace sidecar::testing {

/// The default database backend: remembers which users exist, so tests can check that a
/// revoked or expired lease dropped its user.
///
/// Thread affinity: any thread (own mutex). Errors: none; create_user always succeeds.
class memory_database_backend final : public database_backend {
 public:
  [[nodiscard]] std::optional<std::string> create_user(const database_user& user) override;
  void drop_user(const std::string& username) override;

  [[nodiscard]] bool has_user(const std::string& username) const;
  [[nodiscard]] std::size_t user_count() const;

 private:
  mutable std::mutex mutex_;
  std::set<std::string> users_;
};

}  // namespace sidecar::testing
