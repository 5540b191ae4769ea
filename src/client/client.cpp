#include <sidecar/client.hpp>

#include <sidecar/auth/credentials.hpp>
#include <sidecar/auth/errc.hpp>
#include <sidecar/cache/cache_key.hpp>
#include <sidecar/config/parser.hpp>
#include <sidecar/core/log.hpp>
#include <sidecar/core/stop_watchdog.hpp>
#include <sidecar/core/text.hpp>
#include <sidecar/engine/engine.hpp>
#include <sidecar/lease/dynamic_secret.hpp>
#include <sidecar/vault/envelope.hpp>
#include <sidecar/vault/errc.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <future>
#include <stdexcept>

namespace sidecar {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<spdlog::logger> log() { return core::logger("client"); }

/// How long stop() lets cancelled work (an in-flight Vault request) finish before the own
/// io thread abandons it.
constexpr core::duration stop_grace = 5s;

client_error failure(error_code code, std::string message) {
  return client_error{code, 0, {std::move(message)}};
}

/// Vault answered with an error status: its errors[] and the errc the sidecar classifies it as.
client_error vault_failure(unsigned status, const std::string& content_type,
                           std::string_view body) {
  const vault::response answer{status, content_type, core::secret_string{body}, {}};
  auto error = vault::parse_error(answer);
  return client_error{vault::classify(status, error.messages), status, std::move(error.messages)};
}

std::string without_v1(std::string_view path) {
  return std::string{core::without_api_prefix(path)};
}

}  // namespace

client::client(config::config cfg)
    : config_{std::move(cfg)},
      own_io_{std::make_unique<net::io_context>(1)},
      strand_{net::make_strand(net::any_io_executor{own_io_->get_executor()})} {}

client::client(config::config cfg, net::any_io_executor executor)
    : config_{std::move(cfg)}, strand_{net::make_strand(std::move(executor))} {}

// On a caller's io_context the owner has stopped the client and drained the io_context.
client::~client() {
  if (own_io_) stop();
}

template <class T>
T client::wait_on_engine(net::awaitable<T> task) {
  if (!own_io_ || std::this_thread::get_id() == thread_.get_id()) {
    return failure(client_errc::wrong_thread,
                   "a blocking call needs the own-thread mode, "
                   "from a thread other than the client's");
  }
  if (!thread_.joinable()) {
    if (stopped_) return failure(client_errc::stopped, "the client is stopped");
    return failure(client_errc::not_started, "start() has not been called");
  }
  return net::co_spawn(strand_, std::move(task), net::use_future).get();
}

client_result<std::unique_ptr<client>> client::from_file(const std::string& path) {
  auto loaded = config::load(path, config::process_environment());
  if (!loaded) {
    client_error error{client_errc::bad_config, 0, {}};
    for (const auto& problem : loaded.error()) error.messages.push_back(problem.to_string());
    return error;
  }
  return std::make_unique<client>(std::move(*loaded));
}

client_result<void> client::start() {
  if (!own_io_) return failure(client_errc::wrong_thread, "start() needs the own-thread mode");
  if (!thread_.joinable()) {
    work_.emplace(own_io_->get_executor());
    thread_ = std::thread{[this] { run_thread(); }};
  }
  return wait_on_engine(start_on_engine());
}

net::awaitable<client_result<void>> client::async_start() {
  co_return co_await net::co_spawn(strand_, start_on_engine(), net::use_awaitable);
}

net::awaitable<client_result<void>> client::start_on_engine() {
  if (stopped_) co_return failure(client_errc::stopped, "start after stop");
  if (started_) co_return client_result<void>{};
  if (!engine_) {
    auto credentials = auth::load_credentials(config_.auth, auth::process_environment());
    if (!credentials) {
      co_return failure(credentials.error(), "cannot read the AppRole credentials");
    }
    try {
      engine_ = std::make_unique<engine::engine>(strand_, config_, clock_, std::move(*credentials));
    } catch (const std::invalid_argument& e) {
      co_return failure(client_errc::bad_config, std::string{"[vault] "} + e.what());
    }
    engine_->on_change([this](bool dynamic, const std::string& path, const nlohmann::json& data) {
      notify(dynamic, path, data);
    });
  }
  if (auto login = co_await engine_->tokens().async_login(); !login) {
    // A refusal is final (the token manager never sends a second login); the caller decides.
    co_return failure(login.error(), engine_->tokens().stats().last_error);
  }
  if (stopped_) co_return failure(client_errc::stopped, "stopped during the login");
  started_ = true;
  log()->info("logged in to Vault at {}", config_.vault.address);
  engine_->run_background([this](const result<void>& outcome) { token_ended(outcome); });
  // The subscribed paths stay watched even when nobody reads them.
  for (const auto& sub : subscriptions_) engine_->keep_warm(sub.path);
  co_return client_result<void>{};
}

client_result<void> client::usable() const {
  if (stopped_) return failure(client_errc::stopped, "the client is stopped");
  if (!started_) return failure(client_errc::not_started, "start() has not succeeded");
  return {};
}

net::awaitable<client_result<nlohmann::json>> client::async_kv(std::string path) {
  co_return co_await net::co_spawn(strand_, kv_on_engine(std::move(path)), net::use_awaitable);
}

net::awaitable<client_result<dynamic_creds>> client::async_dynamic(std::string path) {
  co_return co_await net::co_spawn(strand_, dynamic_on_engine(std::move(path)), net::use_awaitable);
}

client_result<nlohmann::json> client::kv(const std::string& path) {
  return wait_on_engine(kv_on_engine(path));
}

client_result<dynamic_creds> client::dynamic(const std::string& path) {
  return wait_on_engine(dynamic_on_engine(path));
}

net::awaitable<client_result<nlohmann::json>> client::kv_on_engine(std::string path) {
  if (auto ok = usable(); !ok) co_return ok.error();
  auto got = co_await engine_->cache().async_get("/v1/" + without_v1(std::move(path)));
  if (!got) co_return client_error{got.error(), 0, {}};
  if (got->status() != 200) {
    co_return vault_failure(got->status(), got->content_type(), got->body());
  }
  auto data = got->answer->data();
  if (data.is_null()) {
    co_return failure(vault::errc::malformed_response, "not a KV secret (a lease or no data)");
  }
  co_return std::move(data);
}

net::awaitable<client_result<dynamic_creds>> client::dynamic_on_engine(std::string path) {
  if (auto ok = usable(); !ok) co_return ok.error();
  auto got = co_await engine_->leases().async_get(without_v1(std::move(path)));
  if (!got) co_return client_error{got.error(), 0, {}};
  if (got->status != 200) {
    co_return vault_failure(got->status, got->content_type, got->body->reveal());
  }
  auto envelope = nlohmann::json::parse(got->body->reveal(), nullptr, false);
  if (!envelope.is_object() || !envelope.contains("data") || !envelope["data"].is_object()) {
    co_return failure(vault::errc::malformed_response, "creds answer without a data object");
  }
  dynamic_creds creds{std::move(envelope["data"]), envelope.value("lease_duration", 0LL)};
  co_return creds;
}

void client::on_change(std::string name_or_path, change_callback callback) {
  net::dispatch(
      strand_, [this, name = std::move(name_or_path), callback = std::move(callback)]() mutable {
        std::string path = name;
        for (const auto& [secret, secret_path] : config_.secrets) {
          if (secret == name) path = secret_path;
        }
        path = without_v1(std::move(path));
        const bool dynamic = lease::is_dynamic_path(path);
        if (started_ && !stopped_) engine_->keep_warm(path);  // read now, then every round
        subscriptions_.push_back({std::move(name), std::move(path), dynamic, std::move(callback)});
      });
}

void client::notify(bool dynamic, const std::string& path, const nlohmann::json& data) {
  // Runs on the engine strand (the cache and the lease store call it there), so callbacks are
  // serialized. A callback that throws must not break the refresh or rotation that called it.
  for (std::size_t i = 0; i < subscriptions_.size(); ++i) {
    // Copies: a callback may subscribe again, which grows the vector.
    const auto sub = subscriptions_[i];
    if (sub.dynamic != dynamic) continue;
    const bool matches = dynamic ? sub.path == path : cache::normalise_key(sub.path) == path;
    if (!matches) continue;
    try {
      sub.callback(sub.name, data);
    } catch (const std::exception& e) {
      log()->error("on_change callback for {} threw: {}", sub.name, e.what());
    }
  }
}

void client::token_ended(const result<void>& outcome) {
  if (outcome) {
    log()->warn(
        "token lost: Vault is no longer called; cached KV answers are served until they "
        "expire (auth.on_renew_failure = serve_cached)");
  } else if (outcome.error() == auth::errc::token_lost) {
    log()->error("token lost ({}); the client does not log in again",
                 engine_->tokens().stats().last_error);
  }
}

auth::token_stats client::token_status() {
  const auto read = [this] { return engine_ ? engine_->tokens().stats() : auth::token_stats{}; };
  if (own_io_ && thread_.joinable() && std::this_thread::get_id() != thread_.get_id()) {
    // A promise, not a packaged_task: Asio takes a packaged_task for a completion token.
    auto promise = std::make_shared<std::promise<auth::token_stats>>();
    auto stats = promise->get_future();
    net::post(strand_, [promise, read] { promise->set_value(read()); });
    return stats.get();
  }
  return read();
}

void client::stop() {
  if (!own_io_) {
    net::dispatch(strand_, [this] { stop_on_engine(); });
    return;
  }
  if (!thread_.joinable()) {
    stopped_ = true;
    return;
  }
  if (std::this_thread::get_id() == thread_.get_id()) {
    net::dispatch(strand_, [this] { stop_on_engine(); });
    return;
  }
  net::post(strand_, [this] { stop_on_engine(); });
  // An in-flight request must not hold a stop hostage past stop_grace.
  core::stop_watchdog watchdog{*own_io_};
  watchdog.arm(stop_grace, [] {
    log()->warn("stop: work still pending after {} s; abandoning it",
                std::chrono::duration_cast<std::chrono::seconds>(stop_grace).count());
  });
  work_.reset();
  thread_.join();
  watchdog.disarm();
}

void client::stop_on_engine() {
  if (stopped_) return;
  stopped_ = true;
  if (engine_) {
    engine_->stop_background();
    engine_->leases().stop();
  }
  if (started_) log()->info("stopped");
}

void client::run_thread() { own_io_->run(); }

}  // namespace sidecar
