#pragma once

#include <sidecar/testing/database_backend.hpp>

#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace sidecar::testing {

/// The default database backend: remembers which users exist and until when, so tests can
/// check that a revoked or expired lease dropped its user and that a renewal moved its expiry.
///
/// Thread affinity: any thread (own mutex). Errors: none; create_user always succeeds, renew_user
/// fails only for a user that does not exist.
class memory_database_backend final : public database_backend {
 public:
  [[nodiscard]] std::optional<std::string> create_user(const database_user& user) override;
  [[nodiscard]] std::optional<std::string> renew_user(const std::string& username,
                                                      core::wall_time expiration) override;
  void drop_user(const std::string& username) override;

  [[nodiscard]] bool has_user(const std::string& username) const;
  [[nodiscard]] std::size_t user_count() const;
  /// The user's current expiry; empty when there is no such user.
  [[nodiscard]] std::optional<core::wall_time> expiration_of(const std::string& username) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, core::wall_time> users_;  // username -> expiry
};

}  // namespace sidecar::testing
