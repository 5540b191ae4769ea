#include <sidecar/proxy/request_id.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <random>

namespace sidecar::proxy {

std::string new_request_id() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  const std::uint64_t high = random();
  const std::uint64_t low = random();
  // RFC 9562: version 4 in the 13th hex digit, variant 10xx in the 17th.
  const std::uint64_t a = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const std::uint64_t b = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff,
                     b >> 48, b & 0xffffffffffffULL);
}

}  // namespace sidecar::proxy
