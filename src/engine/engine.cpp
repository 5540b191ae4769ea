#include <sidecar/engine/engine.hpp>

#include <sidecar/core/cancellation.hpp>
#include <sidecar/core/log.hpp>
#include <sidecar/core/text.hpp>
#include <sidecar/lease/dynamic_secret.hpp>

#include <algorithm>

namespace sidecar::engine {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<spdlog::logger> log() { return core::logger("engine"); }

}  // namespace

engine::engine(net::any_io_executor strand, const config::config& cfg, core::clock& clock,
               auth::credentials credentials, metrics::registry* registry)
    : config_{cfg},
      connection_{std::make_unique<vault::beast_client>(strand, cfg.vault, clock,
                                                        core::make_random_source())},
      wake_warm_{strand},
      background_{strand, log()} {
  upstream_ = connection_.get();
  if (registry != nullptr) {
    metered_ = std::make_unique<vault::metered_client>(*connection_, *registry);
    upstream_ = metered_.get();
  }
  tokens_ =
      std::make_unique<auth::token_manager>(*upstream_, clock, cfg.auth, std::move(credentials));
  // A Retry-After pause holds the token's renewal back only while the token can afford it.
  connection_->set_token_expiry(
      [this] { return tokens_->stats().expires.value_or(core::time_point::max()); });
  cache_ = std::make_unique<cache::kv_cache>(*upstream_, *tokens_, clock, cfg.cache);
  leases_ = std::make_unique<lease::lease_store>(strand, *upstream_, *tokens_, clock, cfg.database,
                                                 lease_stats_);
}

engine::~engine() = default;

void engine::on_change(change_handler handler) {
  cache_->on_change(
      [handler](const std::string& key, const nlohmann::json& data) { handler(false, key, data); });
  leases_->on_change([handler](const std::string& path, const nlohmann::json& data) {
    handler(true, path, data);
  });
}

void engine::run_background(token_end_handler token_ended) {
  background_.spawn("token renewal", async_keep_token(std::move(token_ended)));
  background_.spawn("cache refresh", cache_->async_run_refresh());
  background_.spawn("secrets kept warm", async_keep_warm());
}

void engine::stop_background() {
  stopping_ = true;
  background_.cancel_all();
  wake_warm_.cancel();
}

void engine::keep_warm(std::string path) {
  path = std::string{core::without_api_prefix(path)};
  if (std::find(warm_paths_.begin(), warm_paths_.end(), path) != warm_paths_.end()) return;
  warm_paths_.push_back(std::move(path));
  wake_warm_.cancel();  // read the new path now rather than at the next round
}

net::awaitable<void> engine::async_touch(std::string path) {
  const auto bare = std::string{core::without_api_prefix(path)};
  if (lease::is_dynamic_path(bare)) {
    (void)co_await leases_->async_get(bare);
  } else {
    (void)co_await cache_->async_get(std::string{core::api_prefix} + bare);
  }
}

net::awaitable<void> engine::async_keep_warm() {
  const auto period = std::max<core::duration>(config_.cache.refresh_interval / 2, 1s);
  while (!stopping_) {
    // By index, on a copy: keep_warm() may add a path while a read waits.
    for (std::size_t i = 0; i < warm_paths_.size() && !stopping_; ++i) {
      const auto path = warm_paths_[i];
      co_await async_touch(path);
    }
    if (stopping_ || is_cancelled(co_await net::this_coro::cancellation_state)) co_return;
    wake_warm_.expires_after(period);
    (void)co_await wake_warm_.async_wait();  // a cancel is keep_warm()'s wake or the stop
  }
}

net::awaitable<void> engine::async_keep_token(token_end_handler token_ended) {
  const auto outcome = co_await tokens_->async_run();
  if (token_ended) token_ended(outcome);
}

}  // namespace sidecar::engine
