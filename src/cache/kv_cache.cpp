#include <sidecar/cache/kv_cache.hpp>

#include <sidecar/auth/errc.hpp>
#include <sidecar/cache/cache_key.hpp>
#include <sidecar/cache/errc.hpp>
#include <sidecar/core/cancellation.hpp>
#include <sidecar/core/log.hpp>
#include <sidecar/core/text.hpp>
#include <sidecar/vault/envelope.hpp>
#include <sidecar/vault/errc.hpp>

#include <algorithm>
#include <exception>
#include <iterator>
#include <tuple>
#include <utility>

namespace sidecar::cache {
namespace {

// The sidecar's own token failing (revoked, expired), not the secret's permission.
bool says_invalid_token(const stored_answer& answer) {
  return vault::says_invalid_token(answer.status(), answer.body());
}

// judge_answer() for a stored answer.
upstream_verdict judge(const stored_answer& answer) {
  return judge_answer(answer.status(), answer.cacheable(), says_invalid_token(answer));
}

// Background re-reads in progress at once: keeps a pass over many entries short without
// flooding Vault with one request per entry.
constexpr std::size_t refresh_batch = 8;

}  // namespace

kv_cache::flight::flight(const net::any_io_executor& executor)
    : done{executor, steady_timer::time_point::max()} {}

kv_cache::kv_cache(vault::client& upstream, vault::token_source& tokens, const core::clock& clock,
                   const config::cache_config& config, core::uniform_source random)
    : upstream_{upstream},
      tokens_{tokens},
      clock_{clock},
      config_{config},
      random_{std::move(random)},
      log_{core::logger("cache")} {}

// The held answers cleanse themselves as the last reference goes.
kv_cache::~kv_cache() = default;

net::awaitable<result<cached_answer>> kv_cache::async_get(std::string target) {
  const auto key = normalise_key(target);
  if (auto hit = serve_fresh(key, clock_.now())) co_return *hit;

  const auto* token = tokens_.current_token();
  if (token == nullptr) {
    if (auto stale = serve_stale(key, clock_.now())) co_return *stale;
    co_return make_error_code(auth::errc::no_token);
  }

  // Vault failed this key: serve what is held rather than queue behind another failure; the
  // background refresh finds out when Vault is back (recovery_at()).
  if (const auto it = entries_.find(key);
      it != entries_.end() && it->second.failed_at &&
      clock_.now() < recovery_at(*it->second.failed_at, config_)) {
    if (auto stale = serve_stale(key, clock_.now())) co_return *stale;
  }

  auto pending = join_or_start(key, co_await net::this_coro::executor, *token, true);
  auto outcome = co_await wait_for(std::move(pending));
  const auto now = clock_.now();
  if (!outcome) {
    if (outcome.error() == net::error::operation_aborted) co_return outcome.error();
    if (auto stale = serve_stale(key, now)) co_return *stale;
    co_return outcome.error();
  }
  auto answer = std::move(*outcome);
  if (judge(*answer) == upstream_verdict::failure) {
    if (auto stale = serve_stale(key, now)) co_return *stale;
  }
  // Vault's answer as it came, stored or not (a 4xx, or a 5xx with nothing to stand in).
  ++stats_.misses;
  const auto age = core::whole_seconds_between(answer->fetched_at(), now);
  co_return cached_answer{std::move(answer), cache_state::miss, age};
}

std::optional<cached_answer> kv_cache::find_fresh(std::string_view target) {
  if (is_its_own_key(target)) return serve_fresh(target, clock_.now());
  return serve_fresh(normalise_key(target), clock_.now());
}

std::optional<cached_answer> kv_cache::serve_fresh(std::string_view key, core::time_point now) {
  const auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  auto& entry = it->second;
  const auto fetched = entry.answer->fetched_at();
  const bool negative = entry.answer->status() == 404;
  if (negative ? !is_negative_fresh(fetched, now, config_) : !is_fresh(fetched, now, config_)) {
    return std::nullopt;
  }
  touch(entry, now);
  ++stats_.hits;
  if (negative) ++stats_.negative_hits;
  return cached_answer{entry.answer, cache_state::hit, core::whole_seconds_between(fetched, now)};
}

std::optional<cached_answer> kv_cache::serve_stale(const std::string& key, core::time_point now) {
  // A concurrent read may have stored a fresh answer while this one failed.
  if (auto hit = serve_fresh(key, now)) return hit;
  const auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  auto& entry = it->second;
  const auto fetched = entry.answer->fetched_at();
  // An expired negative entry is never stale: "not found" must not outlive negative_ttl.
  if (entry.answer->status() == 404 || !is_stale_servable(fetched, now, config_)) {
    erase(it);  // past max_stale it can never be served again
    ++stats_.drops;
    return std::nullopt;
  }
  touch(entry, now);  // read, so the next background pass retries it
  ++stats_.stale_serves;
  return cached_answer{entry.answer, cache_state::stale, core::whole_seconds_between(fetched, now)};
}

void kv_cache::touch(slot& entry, core::time_point now) {
  entry.reads.last_read = now;
  entry.reads.read_since_refresh = true;
  lru_.splice(lru_.begin(), lru_, entry.lru);
}

std::shared_ptr<kv_cache::flight> kv_cache::join_or_start(const std::string& key,
                                                          const net::any_io_executor& executor,
                                                          const core::secret_string& token,
                                                          bool by_reader) {
  auto& pending = in_flight_[key];
  if (pending) {
    if (by_reader) {
      pending->for_reader = true;
      ++stats_.coalesced_waiters;
    }
    return pending;
  }
  pending = std::make_shared<flight>(executor);
  pending->for_reader = by_reader;
  ++stats_.upstream_requests;
  // The read runs on its own so that a caller giving up does not take it down for the others;
  // the handler always sets the outcome, so no waiter is left hanging, even on an exception.
  net::co_spawn(
      executor, fetch(key, token),
      [this, key, shared = pending](std::exception_ptr failure, result<answer_ptr> outcome) {
        if (failure) {
          log_->error("read of {} ended without an answer: {}", key, core::exception_text(failure));
          outcome = make_error_code(errc::fetch_aborted);
        }
        complete(key, *shared, std::move(outcome));
      });
  return pending;
}

// The token is copied: the token source may replace or lose its token while the read runs.
net::awaitable<result<kv_cache::answer_ptr>> kv_cache::fetch(std::string key,
                                                             core::secret_string token) {
  vault::request request;
  request.method = http::verb::get;
  request.target = std::move(key);
  request.token = &token;
  auto answer = co_await upstream_.async_send(std::move(request));
  if (!answer) co_return answer.error();
  auto stored = std::make_shared<const stored_answer>(std::move(*answer), clock_.now());
  // A 200 that is not Vault's JSON (cut short by a wrong Content-Length, garbled on the way) is
  // no answer: a failure, so a held entry stands in and the garbage reaches no caller.
  if (!stored->well_formed()) co_return make_error_code(vault::errc::malformed_response);
  co_return stored;
}

net::awaitable<result<kv_cache::answer_ptr>> kv_cache::wait_for(std::shared_ptr<flight> pending) {
  if (!pending->outcome) {
    // Ends when complete() cancels `done`, or early when this caller is cancelled.
    std::ignore = co_await pending->done.async_wait();
    if (!pending->outcome) co_return make_error_code(net::error::operation_aborted);
  }
  co_return *pending->outcome;
}

void kv_cache::complete(const std::string& key, flight& pending, result<answer_ptr> outcome) {
  if (const auto it = in_flight_.find(key);
      it != in_flight_.end() && it->second.get() == &pending) {
    in_flight_.erase(it);
  }
  pending.outcome = std::move(outcome);
  pending.done.cancel();
  const auto note_failure = [&] {
    if (const auto it = entries_.find(key); it != entries_.end()) {
      it->second.failed_at = clock_.now();
    }
  };
  if (!*pending.outcome) {
    note_failure();
    return;
  }

  const auto& answer = **pending.outcome;
  if (says_invalid_token(*answer)) tokens_.report_invalid_token();
  switch (judge(*answer)) {
    case upstream_verdict::store:
      // A refresh of an entry evicted meanwhile is not brought back; nobody asked for it.
      if (!pending.discard && (pending.for_reader || entries_.contains(key))) {
        store(key, answer, pending.for_reader);
      }
      break;
    case upstream_verdict::pass_and_drop:
      // A missing secret is kept for negative_ttl (replacing what was held: it was deleted),
      // so a caller polling it does not poll Vault.
      if (keeps_negative(answer->status(), config_) && !pending.discard &&
          (pending.for_reader || entries_.contains(key))) {
        store(key, answer, pending.for_reader);
        break;
      }
      // Revoked permission or a deleted secret must not live on in the cache.
      if (const auto it = entries_.find(key); it != entries_.end()) {
        erase(it);
        ++stats_.drops;
      }
      break;
    case upstream_verdict::failure:
      note_failure();
      break;
    case upstream_verdict::pass:
      break;
  }
}

void kv_cache::store(const std::string& key, answer_ptr answer, bool by_reader) {
  const auto now = clock_.now();
  // The maps are parsed only to tell a change, and only when someone listens: entries keep
  // their bytes, not a parsed copy (stored_answer).
  nlohmann::json held;
  nlohmann::json fresh;
  bool changed = false;
  if (const auto it = entries_.find(key); it != entries_.end()) {
    // A negative answer replacing a secret is no new content for templates: nothing to render.
    if (!change_handlers_.empty() && answer->cacheable() &&
        it->second.answer->body() != answer->body()) {
      held = it->second.answer->data();
      fresh = answer->data();
      changed = held != fresh;
    }
    it->second.answer = answer;  // the previous answer is cleansed once no caller holds it
    it->second.failed_at.reset();
    if (by_reader) touch(it->second, now);
  } else {
    const auto added =
        entries_
            .emplace(key, slot{answer,
                               read_record{now, true},
                               {},
                               std::nullopt,
                               first_refresh_at(now, config_.refresh_interval, random_())})
            .first;
    lru_.push_front(&added->first);
    added->second.lru = lru_.begin();
    stats_.entries = entries_.size();
    evict_over_capacity();
  }
  // By index: a handler may subscribe another one.
  for (std::size_t i = 0; changed && i < change_handlers_.size(); ++i) {
    change_handlers_[i](key, fresh);
  }
  cleanse_json(held);
  cleanse_json(fresh);
}

void kv_cache::note_refresh(const std::string& key, const result<answer_ptr>& outcome) {
  if (!outcome) {
    ++stats_.refreshes_failed;
    log_->warn("refresh of {} failed: {}", key, outcome.error().message());
    return;
  }
  const auto& answer = *outcome;
  switch (judge(*answer)) {
    case upstream_verdict::store:
      ++stats_.refreshes_ok;
      return;
    case upstream_verdict::pass_and_drop:
      ++stats_.refreshes_failed;
      log_->info("dropped {}: Vault answered {}", key, answer->status());
      return;
    case upstream_verdict::pass:
    case upstream_verdict::failure:
      ++stats_.refreshes_failed;
      log_->warn("refresh of {} failed: Vault answered {}", key, answer->status());
      return;
  }
}

void kv_cache::erase(slot_map::iterator at) {
  lru_.erase(at->second.lru);
  entries_.erase(at);
  stats_.entries = entries_.size();
}

void kv_cache::evict_over_capacity() {
  while (entries_.size() > config_.max_entries && !lru_.empty()) {
    erase(entries_.find(*lru_.back()));
    ++stats_.evictions;
  }
}

template <class Predicate>
void kv_cache::erase_keys_if(Predicate matches) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    const auto next = std::next(it);
    if (matches(it->first)) erase(it);
    it = next;
  }
  // A read already on its way may carry what was just cleared: answer it, do not store it.
  for (auto& [key, pending] : in_flight_) {
    if (matches(key)) pending->discard = true;
  }
}

void kv_cache::invalidate(std::string_view secret_path) {
  const auto paths = affected_paths(secret_path);
  erase_keys_if([&paths](const std::string& key) {
    return std::binary_search(paths.begin(), paths.end(), key_path(key));
  });
}

void kv_cache::clear_all() {
  erase_keys_if([](const std::string&) { return true; });
}

void kv_cache::clear_prefix(std::string_view prefix) {
  const auto normalised = normalise_key(prefix);
  erase_keys_if([&normalised](const std::string& key) { return key.starts_with(normalised); });
}

void kv_cache::apply(const config::cache_config& config) {
  const bool new_interval = config.refresh_interval != config_.refresh_interval;
  config_ = config;
  evict_over_capacity();
  if (new_interval) {  // each entry gets a phase within the new interval
    const auto now = clock_.now();
    for (auto& [key, entry] : entries_) {
      entry.refresh_at = first_refresh_at(now, config_.refresh_interval, random_());
    }
  }
  // Wakes async_run_refresh() early, which then waits one new interval: a long old interval must
  // not hold back a shorter new one.
  if (new_interval && refresh_wait_ != nullptr) refresh_wait_->cancel();
}

net::awaitable<void> kv_cache::async_run_refresh() {
  steady_timer timer{co_await net::this_coro::executor};
  for (;;) {
    timer.expires_after(refresh_tick(config_.refresh_interval));
    refresh_wait_ = &timer;
    const auto [ec] = co_await timer.async_wait();
    refresh_wait_ = nullptr;
    if (is_cancelled(co_await net::this_coro::cancellation_state)) co_return;
    if (ec) continue;  // re-armed by apply()
    co_await async_refresh_once();
    if (is_cancelled(co_await net::this_coro::cancellation_state)) co_return;
  }
}

net::awaitable<void> kv_cache::async_refresh_once() {
  const auto now = clock_.now();
  // Without a token Vault is not asked; the read marks stay so the next pass still refreshes.
  const bool can_refresh = tokens_.current_token() != nullptr;
  std::vector<std::string> due;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const auto next = std::next(it);
    if (it->second.answer->status() == 404) {  // negative: expires, never re-read
      if (!is_negative_fresh(it->second.answer->fetched_at(), now, config_)) {
        erase(it);
        ++stats_.drops;
      }
      it = next;
      continue;
    }
    auto& entry = it->second;
    if (now < entry.refresh_at) {
      it = next;  // not its turn yet: each entry is looked at once per interval, at its phase
      continue;
    }
    entry.refresh_at = next_refresh_at(entry.refresh_at, config_.refresh_interval, now);
    switch (refresh_decision(entry.reads, now, config_)) {
      case refresh_action::drop:
        erase(it);
        ++stats_.drops;
        break;
      case refresh_action::refresh:
        if (can_refresh) {
          it->second.reads.read_since_refresh = false;
          due.push_back(it->first);
        }
        break;
      case refresh_action::keep:
        break;
    }
    it = next;
  }

  const auto executor = co_await net::this_coro::executor;
  for (std::size_t first = 0; first < due.size(); first += refresh_batch) {
    const auto* token = tokens_.current_token();
    if (token == nullptr) {  // lost mid-pass: leave the rest marked for the next pass
      for (std::size_t i = first; i < due.size(); ++i) {
        if (const auto it = entries_.find(due[i]); it != entries_.end()) {
          it->second.reads.read_since_refresh = true;
        }
      }
      co_return;
    }
    std::vector<std::pair<std::string, std::shared_ptr<flight>>> batch;
    for (std::size_t i = first; i < std::min(first + refresh_batch, due.size()); ++i) {
      if (!entries_.contains(due[i])) continue;  // evicted or cleared while a batch ran
      batch.emplace_back(due[i], join_or_start(due[i], executor, *token, false));
    }
    for (auto& [key, pending] : batch) {
      const auto outcome = co_await wait_for(pending);
      if (is_cancelled(co_await net::this_coro::cancellation_state)) co_return;
      note_refresh(key, outcome);
    }
  }
}

void kv_cache::on_change(change_handler handler) { change_handlers_.push_back(std::move(handler)); }

cache_snapshot kv_cache::snapshot() const {
  cache_snapshot out{
      .entries = entries_.size(), .in_flight = in_flight_.size(), .oldest_age_seconds = 0};
  const auto now = clock_.now();
  for (const auto& [key, entry] : entries_) {
    out.oldest_age_seconds = std::max(out.oldest_age_seconds,
                                      core::whole_seconds_between(entry.answer->fetched_at(), now));
  }
  return out;
}

}  // namespace sidecar::cache
