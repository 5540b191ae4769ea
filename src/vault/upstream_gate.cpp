#include <sidecar/vault/upstream_gate.hpp>

#include <sidecar/vault/failing_status.hpp>

#include <boost/asio/error.hpp>

#include <algorithm>

namespace sidecar::vault {

request_kind classify_request(http::verb method, std::string_view target) noexcept {
  const auto path = target.substr(0, target.find('?'));
  if (path == "/v1/auth/token/renew-self") return request_kind::token_renewal;
  if (path == "/v1/sys/health") return request_kind::probe;
  if (path.starts_with("/v1/auth/") && method != http::verb::get && method != http::verb::head) {
    return request_kind::token;
  }
  if (path.starts_with("/v1/auth/token/lookup-self")) return request_kind::token;
  if (method == http::verb::get || method == http::verb::head) return request_kind::read;
  return request_kind::write;
}

bool renewal_may_wait(core::time_point paused_until, core::time_point token_expiry,
                      core::duration request_timeout) noexcept {
  if (token_expiry == core::time_point::max()) return true;  // a token that never expires
  return paused_until + request_timeout < token_expiry;
}

bool pauses_on(unsigned status) noexcept { return status == 429 || status == 503; }

upstream_gate::upstream_gate(const config::vault_config& config, core::time_point now)
    : bucket_{config.rate_limit, now}, max_concurrent_{config.max_concurrent_requests} {}

std::optional<core::time_point> upstream_gate::paused_until(core::time_point now) const noexcept {
  if (paused_until_ > now) return paused_until_;
  return std::nullopt;
}

void upstream_gate::note(const attempt_outcome& outcome, std::optional<core::duration> retry_after,
                         core::time_point now) noexcept {
  if (outcome.failure == net::error::operation_aborted) return;
  const bool failing = outcome.failure || is_failing_status(outcome.status);
  if (!failing) {
    failing_since_.reset();
    return;
  }
  if (!failing_since_) failing_since_ = now;
  if (!outcome.failure && pauses_on(outcome.status) && retry_after &&
      *retry_after > core::duration::zero() && now + *retry_after > paused_until_) {
    paused_until_ = now + *retry_after;
    ++stats_.pauses;
  }
}

upstream_gate::admission upstream_gate::try_admit(core::time_point now) noexcept {
  if (max_concurrent_ > 0 && in_flight_ >= max_concurrent_) {
    return {.granted = false, .wait = core::duration::max()};
  }
  if (const auto wait = bucket_.try_take(now); wait > core::duration::zero()) {
    return {.granted = false, .wait = wait};
  }
  ++in_flight_;
  return {.granted = true, .wait = core::duration::zero()};
}

void upstream_gate::release() noexcept { in_flight_ = std::max(0, in_flight_ - 1); }

upstream_state upstream_gate::state(core::time_point now) const noexcept {
  const auto since = failing_since_.value_or(core::time_point{});
  if (paused_until_ > now) {
    return {.condition = upstream_condition::paused,
            .paused_until = paused_until_,
            .failing_since = since};
  }
  if (failing_since_) {
    return {.condition = upstream_condition::failing, .paused_until = {}, .failing_since = since};
  }
  return {};
}

}  // namespace sidecar::vault
