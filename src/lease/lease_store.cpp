#include <sidecar/lease/lease_store.hpp>

#include <sidecar/auth/errc.hpp>
#include <sidecar/core/cancellation.hpp>
#include <sidecar/core/log.hpp>
#include <sidecar/core/text.hpp>
#include <sidecar/lease/dynamic_secret.hpp>
#include <sidecar/lease/errc.hpp>
#include <sidecar/lease/held_lease.hpp>
#include <sidecar/vault/envelope.hpp>
#include <sidecar/vault/failing_status.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <algorithm>
#include <exception>
#include <optional>
#include <utility>

namespace sidecar::lease {
namespace {

using std::chrono::seconds;

// "database/creds/x", "/database/creds/x" and "/v1/database/creds/x" name the same secret.
std::string normalise(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.substr(0, 3) == "v1/") path.remove_prefix(3);
  return std::string{path};
}

// Vault's errors[] folded into one line, or the status alone for a body without them.
std::string refusal_reason(const vault::response& answer) {
  return vault::parse_error(answer).summary();
}

dynamic_answer error_answer(unsigned status, const std::string& message) {
  const nlohmann::json body = {{"errors", {message}}};
  return {.status = status,
          .content_type = "application/json",
          .body = std::make_shared<const core::secret_string>(body.dump()),
          .cache = cache_state::miss};
}

}  // namespace

struct lease_store::path_entry {
  path_entry(net::any_io_executor executor, std::string key)
      : path{std::move(key)}, first_fetch_done{executor}, wake{std::move(executor)} {
    // Waiters only wait; cancel() wakes them all. Re-arming per waiter would wake the others.
    first_fetch_done.expires_at(core::time_point::max());
  }

  std::string path;
  std::optional<held_lease> current;
  std::vector<retired_lease> retired;
  bool first_fetch_pending = true;
  /// Set when the first fetch yielded no creds: what every waiter gets.
  std::optional<result<dynamic_answer>> first_outcome;
  steady_timer first_fetch_done;
  steady_timer wake;  ///< the background task's waits; cancelled when the token was replaced
  net::cancellation_signal stop_signal;
  bool token_replaced = false;  ///< a new login since the last fetch began: fetch anew
  bool in_flight = false;
  bool last_failed = false;
  bool expiry_counted = false;
  std::string last_error;
  std::uint64_t rotations = 0;
  std::uint64_t renewals = 0;
  std::uint64_t failures = 0;
};

struct lease_store::fetch_outcome {
  std::optional<held_lease> lease;
  std::optional<vault::response> refusal;  ///< Vault answered, but not with leased creds
  error_code error;                        ///< transport failure or no token
  std::string reason;
};

lease_store::lease_store(net::any_io_executor executor, vault::client& upstream,
                         vault::token_source& tokens, core::clock& clock,
                         const config::database_config& config, lease_stats& stats,
                         retry_limits retry, core::uniform_source random)
    : executor_{std::move(executor)},
      upstream_{upstream},
      tokens_{tokens},
      clock_{clock},
      config_{config},
      stats_{stats},
      retry_{retry},
      random_{std::move(random)},
      log_{core::logger("lease")} {
  // Vault revokes a token's leases with it: after a new login every held lease is fetched
  // anew, under the new token, before the old token (and its leases) ends.
  tokens_.on_token_replaced([alive = std::weak_ptr<int>{lifetime_}, this] {
    if (alive.expired()) return;
    for (auto& [path, entry] : entries_) {
      entry->token_replaced = true;
      entry->wake.cancel();
    }
  });
}

lease_store::~lease_store() = default;

void lease_store::on_change(change_handler handler) {
  change_handlers_.push_back(std::move(handler));
}

void lease_store::stop() {
  stopped_ = true;
  for (auto& [path, entry] : entries_) {
    // A task still on its first fetch ends by itself once that is done (see maintain()).
    if (!entry->first_fetch_pending) entry->stop_signal.emit(net::cancellation_type::terminal);
  }
}

void lease_store::cancel_all() {
  stopped_ = true;
  for (auto& [path, entry] : entries_) entry->stop_signal.emit(net::cancellation_type::terminal);
}

std::shared_ptr<lease_store::path_entry> lease_store::start_entry(std::string path) {
  auto entry = std::make_shared<path_entry>(executor_, path);
  entries_.emplace(path, entry);
  net::co_spawn(executor_, maintain(entry),
                net::bind_cancellation_slot(
                    entry->stop_signal.slot(),
                    [log = log_, path = std::move(path)](const std::exception_ptr& failure) {
                      if (failure) {
                        log->error("lease task for {} ended: {}", path,
                                   core::exception_text(failure));
                      }
                    }));
  return entry;
}

net::awaitable<result<dynamic_answer>> lease_store::async_get(std::string_view path) {
  auto key = normalise(path);
  if (const auto it = entries_.find(key); it != entries_.end()) {
    co_return co_await await_answer(it->second, false);
  }
  if (stopped_) co_return make_error_code(errc::stopped);
  co_return co_await await_answer(start_entry(std::move(key)), true);
}

void lease_store::mark_served(std::string_view path) {
  const auto it = entries_.find(normalise(path));
  if (it != entries_.end() && it->second->current) it->second->current->served = true;
}

std::optional<served_lease> lease_store::describe(const path_entry& entry, bool current) const {
  const auto& lease = *entry.current;
  return lease.describe(entry.path,
                        current && choose_step(config_.strategy, lease.secret.renewable(),
                                               lease.capped) == next_step::renew);
}

std::optional<served_lease> lease_store::find_served(std::string_view lease_id) const {
  const auto now = clock_.now();
  for (const auto& [path, entry] : entries_) {
    const auto& lease = entry->current;
    if (lease && lease->secret.lease_id() == lease_id && !expired(lease->expiry(), now)) {
      return describe(*entry, true);
    }
    for (const auto& old : entry->retired) {
      if (old.lease_id == lease_id && !expired(old.expiry, now)) return old.served;
    }
  }
  return std::nullopt;
}

std::optional<dynamic_answer> lease_store::find_held(std::string_view path) const {
  const auto it = entries_.find(normalise(path));
  if (it == entries_.end() || it->second->first_fetch_pending) return std::nullopt;
  auto answer = settled_answer(*it->second, cache_state::hit);
  if (!answer) return std::nullopt;  // an error value: async_get() reports it
  return std::move(*answer);
}

result<dynamic_answer> lease_store::settled_answer(const path_entry& entry,
                                                   cache_state cache) const {
  if (entry.first_outcome) return *entry.first_outcome;
  return serve(entry, cache);
}

net::awaitable<result<dynamic_answer>> lease_store::await_answer(std::shared_ptr<path_entry> entry,
                                                                 bool started_here) {
  // A caller that started or waited for the fetch got a MISS even when the client answered
  // without suspending and the fetch was already done.
  bool waited = started_here;
  while (entry->first_fetch_pending) {
    waited = true;
    co_await entry->first_fetch_done.async_wait();
    if (entry->first_fetch_pending && is_cancelled(co_await net::this_coro::cancellation_state)) {
      co_return make_error_code(net::error::operation_aborted);
    }
  }
  co_return settled_answer(*entry, waited ? cache_state::miss : cache_state::hit);
}

net::awaitable<std::vector<prefetch_failure>> lease_store::async_prefetch(
    std::vector<std::string> paths) {
  // Every path's task is started before the first wait, so the fetches run concurrently; the
  // entries are kept here because a failed first fetch removes its entry from the map.
  std::vector<std::pair<std::shared_ptr<path_entry>, bool>> waits;
  for (const auto& path : paths) {
    auto key = normalise(path);
    if (const auto it = entries_.find(key); it != entries_.end()) {
      waits.emplace_back(it->second, false);
    } else if (!stopped_) {
      waits.emplace_back(start_entry(std::move(key)), true);
    } else {
      waits.emplace_back(nullptr, false);
    }
  }
  std::vector<prefetch_failure> failures;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    auto& [entry, started_here] = waits[i];
    result<dynamic_answer> answer{make_error_code(errc::stopped)};
    if (entry) answer = co_await await_answer(entry, started_here);
    if (!answer) {
      failures.push_back({.path = std::move(paths[i]), .reason = answer.error().message()});
    } else if (answer->status != 200) {
      const vault::response as_vault{
          .status = answer->status, .content_type = {}, .body = *answer->body, .headers = {}};
      failures.push_back({.path = std::move(paths[i]), .reason = refusal_reason(as_vault)});
    }
  }
  co_return failures;
}

dynamic_answer lease_store::serve(const path_entry& entry, cache_state cache) const {
  const auto now = clock_.now();
  if (entry.current && !expired(entry.current->expiry(), now)) {
    if (cache == cache_state::hit) ++stats_.hits;
    return {.status = 200,
            .content_type = "application/json",
            .body = entry.current->body(seconds_left(entry.current->expiry(), now)),
            .cache = cache};
  }
  const std::string why =
      entry.last_error.empty() ? "new credentials are still being fetched" : entry.last_error;
  return error_answer(503,
                      "dynamic secret " + entry.path + " expired and could not be renewed: " + why);
}

net::awaitable<void> lease_store::maintain(std::shared_ptr<path_entry> entry) {
  // Cancellation (stop()) must end this loop quietly: operations report operation_aborted
  // instead of throwing, and every wait checks for it.
  co_await net::this_coro::throw_if_cancelled(false);

  auto outcome = co_await fetch(*entry);
  if (is_cancelled(co_await net::this_coro::cancellation_state)) {
    outcome = fetch_outcome{.lease = {}, .refusal = {}, .error = errc::stopped, .reason = {}};
  }
  finish_first_fetch(*entry, outcome);
  if (!entry->current || stopped_) co_return;  // stop() came during the first fetch

  core::backoff retry{retry_.initial, retry_.max, retry_.jitter, random_};
  for (;;) {
    const auto& lease = *entry->current;
    const auto slept = co_await sleep_until(
        *entry, rotation_due(lease.granted_at, lease.granted, config_.renew_at));
    if (slept == wake_reason::stopped) co_return;
    const auto step = slept == wake_reason::token_replaced
                          ? next_step::rotate
                          : choose_step(config_.strategy, entry->current->secret.renewable(),
                                        entry->current->capped);
    if (step == next_step::renew) {
      if (co_await renew(*entry)) continue;
      if (is_cancelled(co_await net::this_coro::cancellation_state)) co_return;
    }
    if (!co_await rotate(*entry, retry)) co_return;
  }
}

void lease_store::finish_first_fetch(path_entry& entry, fetch_outcome& outcome) {
  entry.first_fetch_pending = false;
  if (outcome.lease) {
    make_current(entry, outcome);
  } else {
    // Nothing is stored for a refused or failed first fetch: the next request asks again.
    if (outcome.refusal) {
      auto& answer = *outcome.refusal;
      entry.first_outcome = dynamic_answer{
          .status = answer.status,
          .content_type = std::move(answer.content_type),
          .body = std::make_shared<const core::secret_string>(std::move(answer.body)),
          .cache = cache_state::miss,
          .headers = std::move(answer.headers)};
    } else {
      entry.first_outcome = result<dynamic_answer>{outcome.error};
    }
    log_->warn("dynamic secret {}: no credentials: {}", entry.path, outcome.reason);
    if (const auto it = entries_.find(entry.path);
        it != entries_.end() && it->second.get() == &entry) {
      entries_.erase(it);
    }
  }
  entry.first_fetch_done.cancel();
}

void lease_store::make_current(path_entry& entry, fetch_outcome& outcome) {
  const auto now = clock_.now();
  std::erase_if(entry.retired,
                [now](const retired_lease& old) { return expired(old.expiry, now); });
  const bool rotated = entry.current.has_value();
  if (rotated && !expired(entry.current->expiry(), now)) {
    // Left to run out, not revoked: a connection opened with these creds keeps its time.
    entry.retired.push_back({.lease_id = entry.current->secret.lease_id(),
                             .expiry = entry.current->expiry(),
                             .served = describe(entry, false)});
  }
  entry.current = std::move(outcome.lease);
  entry.last_failed = false;
  entry.expiry_counted = false;
  entry.last_error.clear();
  // Never the lease id: a caller holding it may renew, look up and revoke through the sidecar.
  log_->info("dynamic secret {}: new credentials, lease {}s", entry.path,
             entry.current->secret.lease_duration());
  if (!rotated) return;
  ++entry.rotations;
  ++stats_.rotations;
  if (change_handlers_.empty()) return;
  const auto data = entry.current->secret.data();
  for (const auto& handler : change_handlers_) handler(entry.path, data);
}

net::awaitable<lease_store::fetch_outcome> lease_store::fetch(path_entry& entry) {
  const auto* token = tokens_.current_token();
  if (token == nullptr) {
    const error_code error = auth::errc::no_token;
    co_return fetch_outcome{.lease = {}, .refusal = {}, .error = error, .reason = error.message()};
  }
  vault::request request{.method = http::verb::get,
                         .target = "/v1/" + entry.path,
                         .body = {},
                         .token = token,
                         .headers = {}};
  const auto sent = clock_.now();
  ++stats_.fetches;
  entry.in_flight = true;
  auto answer = co_await upstream_.async_send(std::move(request));
  entry.in_flight = false;
  if (!answer) {
    co_return fetch_outcome{
        .lease = {}, .refusal = {}, .error = answer.error(), .reason = answer.error().message()};
  }
  // Our token failing is the token manager's business now, not at its next renewal point.
  if (vault::says_invalid_token(answer->status, answer->body.reveal())) {
    tokens_.report_invalid_token();
  }
  auto secret = dynamic_secret::parse(*answer);
  if (!secret || secret->lease_duration() <= 0) {
    // A refusal, or an answer without a lease this store could track: passed on as it came.
    std::string reason = secret ? "answer without a lease" : refusal_reason(*answer);
    co_return fetch_outcome{
        .lease = {}, .refusal = std::move(*answer), .error = {}, .reason = std::move(reason)};
  }
  co_return fetch_outcome{
      .lease = held_lease{std::move(*secret), sent}, .refusal = {}, .error = {}, .reason = {}};
}

net::awaitable<bool> lease_store::renew(path_entry& entry) {
  auto& lease = *entry.current;
  const auto* token = tokens_.current_token();
  std::string reason;
  if (token == nullptr) {
    reason = error_code{auth::errc::no_token}.message();
  } else {
    const long long increment = lease.secret.lease_duration();
    const nlohmann::json body = {{"lease_id", lease.secret.lease_id()}, {"increment", increment}};
    vault::request request{.method = http::verb::put,
                           .target = "/v1/sys/leases/renew",
                           .body = core::secret_string{body.dump()},
                           .token = token,
                           .headers = {}};
    const auto sent = clock_.now();
    entry.in_flight = true;
    const auto answer = co_await upstream_.async_send(std::move(request));
    entry.in_flight = false;
    if (is_cancelled(co_await net::this_coro::cancellation_state)) co_return false;
    if (!answer) {
      reason = answer.error().message();
    } else if (auto parsed = vault::parse_envelope(*answer); !parsed) {
      // "past the max TTL, cannot renew" lands here too: new creds are the way on.
      reason = refusal_reason(*answer);
    } else if (parsed->lease_duration <= 0) {
      reason = "renewal granted no time";
    } else {
      lease.granted_at = sent;
      lease.granted = seconds{parsed->lease_duration};
      lease.capped = renewal_capped(increment, parsed->lease_duration, parsed->warnings);
      lease.renewed = true;
      ++entry.renewals;
      ++stats_.renewals;
      log_->info("dynamic secret {}: lease renewed for {}s{}", entry.path, parsed->lease_duration,
                 lease.capped ? " (max TTL reached, rotating next)" : "");
      co_return true;
    }
  }
  // Not counted as a failure: rotating is the planned way on (Vault refuses renewals past the
  // max TTL), and the rotation that follows counts its own failures.
  log_->warn("dynamic secret {}: renewal failed, rotating instead: {}", entry.path, reason);
  co_return false;
}

net::awaitable<bool> lease_store::rotate(path_entry& entry, core::backoff& retry) {
  retry.reset();
  for (;;) {
    entry.token_replaced = false;  // this fetch uses the current token
    auto outcome = co_await fetch(entry);
    if (is_cancelled(co_await net::this_coro::cancellation_state)) co_return false;
    if (outcome.lease) {
      make_current(entry, outcome);
      co_return true;
    }
    ++entry.failures;
    ++stats_.failures;
    entry.last_failed = true;
    // Vault failing (unreachable, 429, 5xx, ...) says nothing about the role: the held lease
    // stands in. An answer (403, 404, 400) says the role cannot have creds: worth an error.
    const bool vault_failing =
        !outcome.refusal || vault::is_failing_status(outcome.refusal->status);
    entry.last_error = std::move(outcome.reason);
    const auto now = clock_.now();
    const auto expiry = entry.current->expiry();
    if (expired(expiry, now) && !entry.expiry_counted) {
      entry.expiry_counted = true;
      ++stats_.expirations;
      log_->error("dynamic secret {}: lease expired, no new credentials: {}", entry.path,
                  entry.last_error);
    } else if (vault_failing) {
      log_->warn("dynamic secret {}: rotation failed, Vault failing ({}s of lease left): {}",
                 entry.path, seconds_left(expiry, now), entry.last_error);
    } else {
      log_->error("dynamic secret {}: Vault refused new credentials ({}s of lease left): {}",
                  entry.path, seconds_left(expiry, now), entry.last_error);
    }
    if (co_await sleep_until(entry, now + retry_wait(retry.next(), now, expiry)) ==
        wake_reason::stopped) {
      co_return false;
    }
  }
}

net::awaitable<lease_store::wake_reason> lease_store::sleep_until(path_entry& entry,
                                                                  core::time_point due) {
  if (entry.token_replaced) co_return wake_reason::token_replaced;
  entry.wake.expires_after(due - clock_.now());
  const auto [ec] = co_await entry.wake.async_wait();
  // stop() cancels through the task's slot; a new login cancels the timer alone.
  if (is_cancelled(co_await net::this_coro::cancellation_state)) co_return wake_reason::stopped;
  if (entry.token_replaced) co_return wake_reason::token_replaced;
  co_return ec ? wake_reason::stopped : wake_reason::due;
}

std::vector<path_status> lease_store::snapshot() const {
  const auto now = clock_.now();
  std::vector<path_status> out;
  out.reserve(entries_.size());
  for (const auto& [path, entry] : entries_) {
    const bool held = entry->current.has_value();
    const bool lease_expired = held && expired(entry->current->expiry(), now);
    out.push_back({.path = path,
                   .state = classify_state(entry->in_flight || entry->first_fetch_pending,
                                           entry->last_failed, lease_expired),
                   .seconds_left = held ? seconds_left(entry->current->expiry(), now) : 0,
                   .rotations = entry->rotations,
                   .renewals = entry->renewals,
                   .failures = entry->failures,
                   .last_error = entry->last_error});
  }
  return out;
}

net::awaitable<void> lease_store::async_revoke_all(core::duration deadline) {
  using namespace net::experimental::awaitable_operators;
  cancel_all();
  const auto now = clock_.now();
  std::vector<std::string> lease_ids;
  for (const auto& [path, entry] : entries_) {
    if (entry->current && !expired(entry->current->expiry(), now)) {
      lease_ids.push_back(entry->current->secret.lease_id());
    }
    for (const auto& old : entry->retired) {
      if (!expired(old.expiry, now)) lease_ids.push_back(old.lease_id);
    }
  }
  // Revoked creds must not be served, and nothing is left to revoke twice.
  entries_.clear();
  if (lease_ids.empty()) co_return;

  steady_timer timer{executor_};
  timer.expires_after(deadline);
  const auto outcome = co_await (revoke(std::move(lease_ids)) || timer.async_wait());
  if (outcome.index() == 1) {
    log_->warn("revoking leases at shutdown: deadline passed, the rest are left to expire");
  }
}

net::awaitable<void> lease_store::revoke(std::vector<std::string> lease_ids) {
  for (const auto& lease_id : lease_ids) {
    const auto* token = tokens_.current_token();
    if (token == nullptr) {
      log_->warn("cannot revoke {} leases at shutdown: {}", lease_ids.size(),
                 error_code{auth::errc::no_token}.message());
      co_return;
    }
    const nlohmann::json body = {{"lease_id", lease_id}};
    vault::request request{.method = http::verb::put,
                           .target = "/v1/sys/leases/revoke",
                           .body = core::secret_string{body.dump()},
                           .token = token,
                           .headers = {}};
    const auto answer = co_await upstream_.async_send(std::move(request));
    // Cut off by the deadline: async_revoke_all says so once.
    if (!answer && answer.error() == net::error::operation_aborted) co_return;
    if (answer && answer->status >= 200 && answer->status <= 299) {
      ++stats_.revocations;
    } else {
      log_->warn("revoking a lease at shutdown failed: {}",
                 answer ? refusal_reason(*answer) : answer.error().message());
    }
  }
}

}  // namespace sidecar::lease
