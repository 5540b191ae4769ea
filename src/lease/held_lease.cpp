#include <sidecar/lease/held_lease.hpp>

#include <utility>

namespace sidecar::lease {

held_lease::held_lease(dynamic_secret issued, core::time_point sent)
    : secret{std::move(issued)},
      issued_at{sent},
      granted_at{sent},
      granted{std::chrono::seconds{secret.lease_duration()}} {}

std::shared_ptr<const core::secret_string> held_lease::body(long long seconds_left) const {
  if (!rendered || rendered_seconds_left != seconds_left) {
    rendered = std::make_shared<const core::secret_string>(secret.render(seconds_left));
    rendered_seconds_left = seconds_left;
  }
  return rendered;
}

std::optional<served_lease> held_lease::describe(const std::string& path, bool will_renew) const {
  if (!served) return std::nullopt;
  return served_lease{.path = path,
                      .issued = issued_at,
                      .last_renewal = renewed ? std::optional{granted_at} : std::nullopt,
                      .expiry = expiry(),
                      .granted_at_issue = secret.lease_duration(),
                      .renewable = will_renew};
}

}  // namespace sidecar::lease
