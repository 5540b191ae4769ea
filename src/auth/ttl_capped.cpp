#include <sidecar/auth/ttl_capped.hpp>

#include <algorithm>
#include <string_view>

namespace sidecar::auth {
namespace {

// sdk/framework/lease.go CalculateTTL words both the TTL and the period variant this way.
constexpr std::string_view capping_warning = "exceeded the effective max_ttl";

}  // namespace

bool ttl_capped(core::duration left_before, core::duration returned_ttl,
                const std::vector<std::string>& warnings) noexcept {
  const bool warned = std::any_of(warnings.begin(), warnings.end(), [](const std::string& w) {
    return w.find(capping_warning) != std::string::npos;
  });
  return warned || returned_ttl <= left_before;
}

}  // namespace sidecar::auth
