#include <sidecar/lease/held_lease.hpp>

namespace sidecar::lease {

std::shared_ptr<const core::secret_string> held_lease::body(long long seconds_left) const {
  if (!rendered || rendered_seconds_left != seconds_left) {
    rendered = std::make_shared<const core::secret_string>(secret.render(seconds_left));
    rendered_seconds_left = seconds_left;
  }
  return rendered;
}

}  // namespace sidecar::lease
