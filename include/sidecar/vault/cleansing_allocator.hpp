#pragma once

#include <openssl/crypto.h>

#include <cstddef>
#include <memory>

namespace sidecar::vault {

/// A std::allocator that overwrites memory before freeing it. Beast's fields, string bodies and
/// read buffers use it for everything that carries a token or a secret payload, so a buffer that
/// grows or is released leaves no copy of a secret in freed memory.
///
/// Thread affinity: none (stateless).
template <class T>
class cleansing_allocator {
 public:
  using value_type = T;

  cleansing_allocator() noexcept = default;
  template <class U>
  cleansing_allocator(const cleansing_allocator<U>& /*other*/) noexcept {}  // NOLINT: rebinding

  [[nodiscard]] T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    OPENSSL_cleanse(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }

  template <class U>
  friend bool operator==(const cleansing_allocator& /*a*/,
                         const cleansing_allocator<U>& /*b*/) noexcept {
    return true;
  }
};

}  // namespace sidecar::vault
