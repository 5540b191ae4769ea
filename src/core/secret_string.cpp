#include <sidecar/core/secret_string.hpp>

#include <openssl/crypto.h>

#include <ostream>

namespace sidecar::core {

void cleanse(std::string& buffer) noexcept {
  // capacity(), not size(): bytes past size() may still hold an older, longer value. After a
  // move the source points at its small-string buffer, which this also covers.
  OPENSSL_cleanse(buffer.data(), buffer.capacity());
  buffer.clear();
}

secret_string::secret_string(secret_string&& other) noexcept : value_{std::move(other.value_)} {
  cleanse(other.value_);
}

secret_string& secret_string::operator=(const secret_string& other) {
  if (this != &other) {
    cleanse(value_);
    value_ = other.value_;
  }
  return *this;
}

secret_string& secret_string::operator=(secret_string&& other) noexcept {
  if (this != &other) {
    cleanse(value_);
    value_ = std::move(other.value_);
    cleanse(other.value_);
  }
  return *this;
}

secret_string::~secret_string() { cleanse(value_); }

void secret_string::clear() noexcept { cleanse(value_); }

std::ostream& operator<<(std::ostream& out, const secret_string&) { return out << "***"; }

}  // namespace sidecar::core
