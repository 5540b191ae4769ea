#include <sidecar/testing/memory_database_backend.hpp>

namespace sidecar::testing {

std::optional<std::string> memory_database_backend::create_user(const database_user& user) {
  std::lock_guard lock{mutex_};
  users_.insert(user.username);
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

}  // namespace sidecar::testing
