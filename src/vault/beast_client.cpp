#include <sidecar/core/cancellation.hpp>
#include <sidecar/core/log.hpp>
#include <sidecar/core/version.hpp>
#include <sidecar/vault/address.hpp>
#include <sidecar/vault/beast_client.hpp>
#include <sidecar/vault/errc.hpp>
#include <sidecar/vault/retry.hpp>
#include <sidecar/vault/retry_after.hpp>
#include <sidecar/vault/tls_context.hpp>

#include <boost/beast/core/string.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>

namespace sidecar::vault {
namespace {

// Headers only this client may set: a caller's copy would leak a second token or break framing.
constexpr std::array<std::string_view, 5> reserved_headers{
    "X-Vault-Token", "Host", "Content-Length", "Transfer-Encoding", "Connection",
};

bool reserved(std::string_view name) noexcept {
  for (const auto candidate : reserved_headers) {
    if (beast::iequals(name, candidate)) return true;
  }
  return false;
}

upstream_address parse_or_throw(const std::string& text) {
  auto parsed = parse_address(text);
  if (!parsed) {
    throw std::invalid_argument{"vault.address: " + parsed.error() + ": \"" + text + "\""};
  }
  return std::move(*parsed);
}

std::optional<boost::asio::ssl::context> tls_for(const upstream_address& address,
                                                 const config::vault_config& vault) {
  if (!address.tls) return std::nullopt;
  return make_tls_context(vault);
}

connection_target target_for(upstream_address address, const config::vault_config& vault,
                             std::optional<boost::asio::ssl::context>& tls) {
  connection_target target;
  target.tls = tls ? &*tls : nullptr;
  target.verify_name = vault.tls_server_name.empty() ? address.host : vault.tls_server_name;
  target.verify = !vault.tls_skip_verify;
  target.address = std::move(address);
  return target;
}

std::string describe(const result<response>& answer) {
  if (answer) return "status " + std::to_string(answer->status);
  return answer.error().message();
}

// The sidecar's own 429, in Vault's {"errors":[...]} shape, for a request it did not send.
response local_rate_limited(long long retry_after_seconds, const std::string& message) {
  const nlohmann::json body{{"errors", nlohmann::json::array({message})}};
  return response{.status = 429,
                  .content_type = "application/json",
                  .body = core::secret_string{body.dump()},
                  .headers = {{"Retry-After", std::to_string(retry_after_seconds)}},
                  .local = true};
}

// Whole seconds until `until`, rounded up and at least 1: a client told "0" would come back at
// once and be refused again.
long long seconds_until(core::time_point now, core::time_point until) noexcept {
  const auto left = std::chrono::ceil<std::chrono::seconds>(until - now).count();
  return std::max<long long>(1, left);
}

std::optional<std::string_view> header(const response& answer, std::string_view name) {
  for (const auto& [key, value] : answer.headers) {
    if (beast::iequals(key, name)) return std::string_view{value};
  }
  return std::nullopt;
}

}  // namespace

beast_client::beast_client(net::any_io_executor executor, const config::vault_config& vault,
                           core::clock& clock, core::uniform_source random, client_limits limits)
    : beast_client{std::move(executor), vault, parse_or_throw(vault.address), clock,
                   std::move(random),   limits} {}

beast_client::beast_client(net::any_io_executor executor, const config::vault_config& vault,
                           upstream_address address, core::clock& clock,
                           core::uniform_source random, client_limits limits)
    : executor_{std::move(executor)},
      config_{vault},
      clock_{clock},
      random_{std::move(random)},
      limits_{limits},
      tls_{tls_for(address, vault)},
      target_{target_for(std::move(address), vault, tls_)},
      pool_{executor_, clock, limits.max_connections, limits.idle_timeout},
      gate_{vault, clock.now()} {
  if (target_.tls != nullptr && vault.tls_skip_verify) {
    core::logger("vault")->warn(
        "vault.tls_skip_verify is set: the certificate of {} is NOT verified; anyone on the "
        "network path can impersonate Vault and read the token and every secret",
        vault.address);
  }
}

beast_client::~beast_client() = default;

wire_request beast_client::make_wire(const request& req) const {
  wire_request wire{req.method, req.target, 11};
  wire.set(http::field::host, target_.address.host_header);
  wire.set(http::field::user_agent, "vault-sidecar/" + std::string{core::version});
  wire.set("X-Vault-Request", "true");
  if (!config_.namespace_.empty()) wire.set("X-Vault-Namespace", config_.namespace_);
  for (const auto& [name, value] : req.headers) {
    if (!reserved(name)) wire.insert(name, value);
  }
  if (req.token != nullptr && !req.token->empty()) wire.set("X-Vault-Token", req.token->reveal());
  if (!req.body.empty()) {
    wire.set(http::field::content_type, "application/json");
    wire.body().assign(req.body.reveal());
  }
  wire.keep_alive(true);
  wire.prepare_payload();
  return wire;
}

/// A request waiting for a concurrent slot: release_budget() unlinks it, sets `woken` and
/// cancels `timer`; every other way out of the wait (deadline, cancellation, a frame destroyed
/// at shutdown) unlinks it in the destructor, as connection_pool's waiters do.
struct beast_client::slot_waiter {
  slot_waiter(const net::any_io_executor& executor, core::duration wait,
              std::list<slot_waiter*>& waiters)
      : timer{executor, wait}, waiters_{waiters} {
    waiters_.push_back(this);
  }
  slot_waiter(const slot_waiter&) = delete;
  slot_waiter& operator=(const slot_waiter&) = delete;
  ~slot_waiter() {
    if (!woken) waiters_.remove(this);
  }

  steady_timer timer;
  bool woken = false;

 private:
  std::list<slot_waiter*>& waiters_;
};

void beast_client::budget_hold::release() noexcept {
  if (owner_ == nullptr) return;
  std::exchange(owner_, nullptr)->release_budget();
}

void beast_client::release_budget() noexcept {
  gate_.release();
  if (slot_waiters_.empty()) return;
  auto* first = slot_waiters_.front();
  slot_waiters_.pop_front();
  first->woken = true;
  first->timer.cancel();
}

net::awaitable<result<std::optional<response>>> beast_client::async_admit(request_kind kind,
                                                                          budget_hold& hold) {
  const auto now = clock_.now();
  const auto paused = gate_.paused_until(now);
  switch (kind) {
    case request_kind::token:
      co_return std::nullopt;  // a login never waits: without a token nothing works
    case request_kind::token_renewal:
      if (paused && token_expiry_ &&
          renewal_may_wait(*paused, token_expiry_(), config_.request_timeout)) {
        core::logger("vault")->info("token renewal waits {} s for Vault's Retry-After",
                                    seconds_until(now, *paused));
        steady_timer timer{executor_, *paused - now};
        std::ignore = co_await timer.async_wait();
        if (is_cancelled(co_await net::this_coro::cancellation_state)) {
          co_return make_error_code(net::error::operation_aborted);
        }
      }
      co_return std::nullopt;
    case request_kind::read:
      if (paused) {
        gate_.count_paused_refusal();
        co_return local_rate_limited(
            seconds_until(now, *paused),
            "vault-sidecar: Vault asked for a pause (Retry-After); reads resume in " +
                std::to_string(seconds_until(now, *paused)) + " s");
      }
      break;
    case request_kind::write:
    case request_kind::probe:
      break;
  }
  co_return co_await async_take_budget(hold);
}

net::awaitable<result<std::optional<response>>> beast_client::async_take_budget(budget_hold& hold) {
  const auto deadline = clock_.now() + config_.request_timeout;
  for (;;) {
    const auto now = clock_.now();
    const auto admitted = gate_.try_admit(now);
    if (admitted.granted) {
      hold.hold(*this);
      co_return std::nullopt;
    }
    if (now >= deadline) {
      gate_.count_budget_refusal();
      co_return local_rate_limited(
          1,
          "vault-sidecar: upstream budget (vault.rate_limit, vault.max_concurrent_requests) "
          "exhausted for vault.request_timeout; retry later");
    }
    if (admitted.wait == core::duration::max()) {
      // Woken by release_budget(), or at the deadline.
      slot_waiter waiter{executor_, deadline - now, slot_waiters_};
      std::ignore = co_await waiter.timer.async_wait();
    } else {
      steady_timer timer{executor_, std::min(admitted.wait, deadline - now)};
      std::ignore = co_await timer.async_wait();
    }
    if (is_cancelled(co_await net::this_coro::cancellation_state)) {
      co_return make_error_code(net::error::operation_aborted);
    }
  }
}

std::optional<core::duration> beast_client::note_outcome(const result<response>& answer) {
  std::optional<core::duration> retry_after;
  if (answer && !answer->local && pauses_on(answer->status)) {
    if (const auto value = header(*answer, "Retry-After")) {
      retry_after = parse_retry_after(*value, clock_.wall_now());
    }
  }
  const attempt_outcome outcome{answer ? error_code{} : answer.error(),
                                answer ? answer->status : 0U};
  const bool was_paused = gate_.paused_until(clock_.now()).has_value();
  gate_.note(outcome, retry_after, clock_.now());
  if (const auto until = gate_.paused_until(clock_.now()); until && !was_paused) {
    core::logger("vault")->warn(
        "Vault answered {} with Retry-After: reads to Vault paused for {} s", answer->status,
        seconds_until(clock_.now(), *until));
  }
  return retry_after;
}

net::awaitable<result<response>> beast_client::async_send(request req) {
  const auto kind = classify_request(req.method, req.target);
  const auto wire = make_wire(req);
  core::backoff delays{limits_.retry_initial, limits_.retry_max, 0.25, random_};
  for (int retries = 0;; ++retries) {
    budget_hold hold;
    auto admitted = co_await async_admit(kind, hold);
    if (!admitted) co_return admitted.error();
    if (*admitted) co_return std::move(**admitted);

    auto answer = co_await async_attempt(wire);
    hold.release();
    const attempt_outcome outcome{answer ? error_code{} : answer.error(),
                                  answer ? answer->status : 0U};
    // Never retried before Retry-After: the gate now pauses reads, and the caller gets Vault's
    // answer at once (a cache serves what it holds meanwhile). "Retry-After: 0" (newer Vault
    // rounds a sub-second quota reset down to it) asks for no wait: backed off like no header.
    if (const auto retry_after = kind == request_kind::probe ? std::nullopt : note_outcome(answer);
        retry_after && *retry_after > core::duration::zero()) {
      co_return answer;
    }
    if (!should_retry(req.method, outcome, retries, config_.max_retries)) co_return answer;
    // Another request's Retry-After paused reads while this one was out: Vault's answer stands.
    if (gate_.paused_until(clock_.now())) co_return answer;

    const auto wait = delays.next();
    core::logger("vault")->debug(
        "{} {}: {}; retry {}/{} in {} ms", std::string_view{http::to_string(req.method)},
        req.target, describe(answer), retries + 1, config_.max_retries,
        std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
    ++stats_.retries;
    steady_timer timer{executor_, wait};
    if (const auto [ec] = co_await timer.async_wait(); ec) co_return ec;
  }
}

net::awaitable<result<response>> beast_client::async_attempt(const wire_request& wire) {
  const auto until = std::chrono::steady_clock::now() + config_.request_timeout;
  auto slot = co_await pool_.async_acquire(until);
  if (!slot) co_return slot.error();

  bool retried_on_fresh = false;
  for (;;) {
    if (slot->get() == nullptr) slot->replace(std::make_unique<connection>(executor_, target_));
    auto& upstream = *slot->get();
    if (!upstream.is_open()) {
      if (const auto ec = co_await upstream.async_open(until)) co_return ec;
      ++stats_.connections_opened;
    }

    ++stats_.requests_sent;
    auto outcome = co_await upstream.async_exchange(wire, until, limits_.max_body);
    if (!outcome.failure) {
      if (outcome.keep_alive) slot->keep();
      co_return std::move(outcome.answer);
    }
    if (retried_on_fresh ||
        !retry_on_fresh_connection(upstream.reused(), outcome.answer_started, outcome.failure)) {
      co_return outcome.failure;
    }
    // Vault closed this keep-alive connection while it sat in the pool; the request never
    // reached it, so sending it again cannot apply it twice.
    core::logger("vault")->debug("{} {}: pooled connection was closed by Vault; sending again",
                                 std::string_view{http::to_string(wire.method())},
                                 std::string_view{wire.target()});
    retried_on_fresh = true;
    ++stats_.stale_retries;
    slot->replace(nullptr);
  }
}

}  // namespace sidecar::vault
