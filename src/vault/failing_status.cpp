#include <sidecar/vault/failing_status.hpp>

namespace sidecar::vault {

bool is_failing_status(unsigned status) noexcept {
  if (status == 412 || status == 429) return true;
  return status >= 500 && status <= 599 && status != 501;
}

}  // namespace sidecar::vault
