#include <sidecar/cache/policy.hpp>

#include <sidecar/vault/failing_status.hpp>

#include <algorithm>
#include <cmath>

namespace sidecar::cache {

bool is_fresh(core::time_point fetched, core::time_point now,
              const config::cache_config& config) noexcept {
  return now - fetched < config.ttl;
}

bool is_stale_servable(core::time_point fetched, core::time_point now,
                       const config::cache_config& config) noexcept {
  if (config.max_stale <= core::duration::zero()) return false;
  const auto age = now - fetched;
  return age >= config.ttl && age < config.ttl + config.max_stale;
}

bool keeps_negative(unsigned status, const config::cache_config& config) noexcept {
  return status == 404 && config.negative_ttl > core::duration::zero();
}

bool is_negative_fresh(core::time_point fetched, core::time_point now,
                       const config::cache_config& config) noexcept {
  return now - fetched < config.negative_ttl;
}

refresh_action refresh_decision(const read_record& reads, core::time_point now,
                                const config::cache_config& config) noexcept {
  if (now - reads.last_read >= config.ttl) return refresh_action::drop;
  return reads.read_since_refresh ? refresh_action::refresh : refresh_action::keep;
}

core::time_point first_refresh_at(core::time_point stored, core::duration interval,
                                  double unit) noexcept {
  const double within = std::clamp(unit, 0.0, std::nextafter(1.0, 0.0));
  return stored + std::chrono::duration_cast<core::duration>(interval * within);
}

core::time_point next_refresh_at(core::time_point due, core::duration interval,
                                 core::time_point now) noexcept {
  if (interval <= core::duration::zero()) return now;
  auto next = due + interval;
  if (next <= now) next += ((now - next) / interval + 1) * interval;
  return next;
}

core::duration refresh_tick(core::duration interval) noexcept {
  using namespace std::chrono_literals;
  return std::clamp<core::duration>(interval / 64, 50ms, 1s);
}

core::time_point recovery_at(core::time_point failed_at,
                             const config::cache_config& config) noexcept {
  return failed_at + std::max(failure_hold, std::min(config.refresh_interval, config.ttl));
}

upstream_verdict judge_answer(unsigned status, bool cacheable_body, bool invalid_token) noexcept {
  if (status == 200) return cacheable_body ? upstream_verdict::store : upstream_verdict::pass;
  if (status == 403 && invalid_token) return upstream_verdict::failure;
  if (status == 403 || status == 404) return upstream_verdict::pass_and_drop;
  if (vault::is_failing_status(status)) return upstream_verdict::failure;
  return upstream_verdict::pass;
}

}  // namespace sidecar::cache
