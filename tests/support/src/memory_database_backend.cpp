#include <sidecar/testing/memory_database_backend.hpp>

namespace sidecar::testing {

std::optional<std::string> memory_database_backend::create_user(const database_user& user) {
  std::lock_guard lock{mutex_};
  users_.insert_or_assign(user.username, user.expiration);
  return std::nullopt;
}

std::optional<std::string> memory_database_backend::renew_user(const std::string& username,
                                                               core::wall_time expiration) {
  std::lock_guard lock{mutex_};
  const auto user = users_.find(username);
  if (user == users_.end()) return "user " + username + " does not exist";
  user->second = expiration;
  return std::nullopt;
}

void memory_database_backend::drop_user(const std::string& username) {
  std::lock_guard lock{mutex_};
  users_.erase(username);
}

bool memory_database_backend::has_user(const std::string& username) const {
  std::lock_guard lock{mutex_};
  return users_.contains(username);
}

std::size_t memory_database_backend::user_count() const {
  std::lock_guard lock{mutex_};
  return users_.size();
}

std::optional<core::wall_time> memory_database_backend::expiration_of(
    const std::string& username) const {
  std::lock_guard lock{mutex_};
  const auto user = users_.find(username);
  if (user == users_.end()) return std::nullopt;
  return user->second;
}

}  // namespace sidecar::testing
