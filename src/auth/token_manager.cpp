#include <sidecar/auth/token_manager.hpp>

#include <sidecar/auth/errc.hpp>
#include <sidecar/auth/login_failure.hpp>
#include <sidecar/auth/login_request.hpp>
#include <sidecar/auth/next_wakeup.hpp>
#include <sidecar/auth/relogin_due.hpp>
#include <sidecar/auth/renewal_due.hpp>
#include <sidecar/auth/renewal_failure.hpp>
#include <sidecar/auth/ttl_capped.hpp>
#include <sidecar/auth/wrapping_check.hpp>
#include <sidecar/core/cancellation.hpp>
#include <sidecar/core/log.hpp>
#include <sidecar/vault/envelope.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <initializer_list>
#include <stdexcept>

namespace sidecar::auth {

using namespace std::chrono_literals;

namespace {

// Vault's auto-auth backs off the same way (vault-api.md §5 1.14), with a lower cap so a Vault
// that comes back is noticed within half a minute.
constexpr core::duration login_backoff_initial = 1s;
constexpr core::duration login_backoff_max = 30s;
constexpr core::duration renew_backoff_initial = 1s;
constexpr double backoff_jitter = 0.25;

std::shared_ptr<spdlog::logger> auth_log() { return core::logger("auth"); }

std::string seconds_text(core::duration d) {
  return fmt::format("{:.1f}s", std::chrono::duration<double>(d).count());
}

// AppRole echoes a secret_id in one of its errors (`invalid secret_id "<id>"`), so every
// message from Vault is stripped of the secrets this class holds before it is kept or logged.
std::string redacted(std::string text, std::initializer_list<const core::secret_string*> secrets) {
  for (const auto* secret : secrets) {
    const auto value = secret->reveal();
    if (value.empty()) continue;
    for (auto at = text.find(value); at != std::string::npos; at = text.find(value, at + 3)) {
      text.replace(at, value.size(), "***");
    }
  }
  return text;
}

}  // namespace

const char* to_string(token_status status) noexcept {
  switch (status) {
    case token_status::starting:
      return "starting";
    case token_status::ok:
      return "ok";
    case token_status::degraded:
      return "degraded";
    case token_status::lost:
      return "lost";
  }
  return "unknown";
}

token_manager::token_manager(vault::client& vault, core::clock& clock,
                             const config::auth_config& config, credentials login_credentials,
                             core::uniform_source random)
    : vault_{vault},
      clock_{clock},
      config_{config},
      credentials_{std::move(login_credentials)},
      login_backoff_{login_backoff_initial, login_backoff_max, backoff_jitter, random},
      renew_backoff_{std::min(renew_backoff_initial, config.check_interval), config.check_interval,
                     backoff_jitter, std::move(random)} {}

net::awaitable<result<vault::envelope>> token_manager::async_auth_call(vault::request request,
                                                                       bool auth_expected) {
  auto sent = co_await vault_.async_send(std::move(request));
  if (!sent) {
    last_error_ = sent.error().message();
    co_return sent.error();
  }
  auto answer = vault::parse_envelope(*sent);
  if (!answer) {
    // Vault's own words when it sent some ({"errors":[...]}), else the status and our reading.
    const auto error = vault::parse_error(*sent);
    last_error_ = redacted(error.messages.empty()
                               ? fmt::format("{}: {}", sent->status, answer.error().message())
                               : error.summary(),
                           {&credentials_.role_id, &credentials_.secret_id, &credentials_.jwt,
                            &credentials_.token, &token_, &accessor_});
  } else if (auth_expected && !answer->auth) {
    last_error_ = "Vault answered without an auth object";
    co_return make_error_code(vault::errc::malformed_response);
  }
  co_return answer;
}

net::awaitable<result<void>> token_manager::async_login() {
  if (!token_.empty()) co_return result<void>{};  // once per process: the secret_id is gone
  const auto deadline = clock_.now() + config_.login_timeout;
  const auto cancellation = co_await net::this_coro::cancellation_state;
  steady_timer timer{co_await net::this_coro::executor};
  for (;;) {
    auto attempt = config_.kind == config::auth_method::token_file
                       ? co_await async_adopt_file_token()
                       : co_await async_login_once();
    if (attempt) co_return attempt;
    // An unreadable JWT file or an unusable lookup answer: retrying cannot help.
    if (attempt.error().category() == error_category()) co_return attempt.error();
    if (is_cancelled(cancellation)) co_return net::error::operation_aborted;
    if (login_failure_kind(attempt.error()) == login_failure::refused) {
      auth_log()->error("login refused by Vault: {}", last_error_);
      co_return make_error_code(errc::login_refused);
    }
    const auto now = clock_.now();
    if (now >= deadline) {
      auth_log()->error("Vault unavailable for login within login_timeout {}: {}",
                        seconds_text(config_.login_timeout), last_error_);
      co_return make_error_code(errc::vault_unavailable);
    }
    const auto wait = std::min(login_backoff_.next(), deadline - now);
    auth_log()->warn("login failed: {}; retrying in {}", last_error_, seconds_text(wait));
    timer.expires_after(wait);
    if (auto [ec] = co_await timer.async_wait(); ec) co_return ec;
    if (is_cancelled(cancellation)) co_return net::error::operation_aborted;
  }
}

net::awaitable<result<void>> token_manager::async_login_once() {
  // The platform rotates the JWT on disk (a projected service-account token lives an hour):
  // each attempt sends what the file holds now, not what it held at start-up.
  if (config_.kind == config::auth_method::kubernetes || config_.kind == config::auth_method::jwt) {
    auto jwt = read_jwt(config_);
    if (!jwt) co_return jwt.error();
    credentials_.jwt = std::move(*jwt);
  }
  if (config_.kind == config::auth_method::approle &&
      !config_.secret_id_response_wrapping_path.empty() && !secret_id_unwrapped_) {
    if (auto unwrapped = co_await async_unwrap_secret_id(); !unwrapped) co_return unwrapped;
  }
  auto built = make_login_request(config_, credentials_);
  // A named request, not a temporary in the co_await expression: GCC 12 destroys such
  // temporaries twice (a double free under ASan).
  vault::request login{.method = http::verb::post,
                       .target = std::move(built.target),
                       .body = std::move(built.body),
                       .token = nullptr,
                       .headers = {}};
  const auto sent = clock_.now();
  auto answer = co_await async_auth_call(std::move(login));
  if (!answer) co_return answer.error();
  adopt_login(*answer, sent);
  co_return result<void>{};
}

net::awaitable<result<void>> token_manager::async_unwrap_secret_id() {
  // The lookup does not spend the token (and needs no X-Vault-Token): it shows which request
  // made it before anything is consumed.
  vault::request lookup{.method = http::verb::post,
                        .target = "/v1/sys/wrapping/lookup",
                        .body = wrapping_lookup_body(credentials_.secret_id),
                        .token = nullptr,
                        .headers = {}};
  auto looked = co_await async_auth_call(std::move(lookup), false);
  if (!looked) {
    // Vault answers 400 "wrapping token is not valid or does not exist" for a token already
    // unwrapped (by us earlier, or by someone who intercepted it), expired or never issued.
    last_error_ =
        "wrapping token lookup: " + last_error_ + " (already unwrapped, expired or never issued)";
    co_return looked.error();
  }
  if (auto refusal = wrapping_refusal(looked->data, config_.secret_id_response_wrapping_path)) {
    last_error_ = std::move(*refusal);
    auth_log()->error("login refused: {}", last_error_);
    co_return make_error_code(errc::login_refused);
  }
  vault::request unwrap{.method = http::verb::post,
                        .target = "/v1/sys/wrapping/unwrap",
                        .body = {},
                        .token = &credentials_.secret_id,
                        .headers = {}};
  auto unwrapped = co_await async_auth_call(std::move(unwrap), false);
  if (!unwrapped) {
    last_error_ = "wrapping token unwrap: " + last_error_;
    co_return unwrapped.error();
  }
  const auto& data = unwrapped->data;
  // Spent either way: a retry must not unwrap it again.
  secret_id_unwrapped_ = true;
  if (!data.is_object() || !data.contains("secret_id") || !data["secret_id"].is_string() ||
      data["secret_id"].get_ref<const std::string&>().empty()) {
    last_error_ = "the unwrapped answer holds no secret_id (was it wrapped from " +
                  config_.secret_id_response_wrapping_path + "?)";
    auth_log()->error("login refused: {}", last_error_);
    co_return make_error_code(errc::login_refused);
  }
  credentials_.secret_id = core::secret_string{data["secret_id"].get_ref<const std::string&>()};
  auth_log()->info("unwrapped the secret_id (wrapping token created by {})",
                   config_.secret_id_response_wrapping_path);
  co_return remove_secret_id_file(config_);  // only now: a refused token's file is evidence
}

net::awaitable<result<void>> token_manager::async_adopt_file_token() {
  // No login: the token someone else created is looked up for its TTL and renewability.
  vault::request lookup{.method = http::verb::get,
                        .target = "/v1/auth/token/lookup-self",
                        .body = {},
                        .token = &credentials_.token,
                        .headers = {}};
  const auto sent = clock_.now();
  auto answer = co_await async_auth_call(std::move(lookup), false);
  if (!answer) co_return answer.error();
  if (!adopt_file_token(*answer, sent)) co_return make_error_code(errc::login_refused);
  co_return result<void>{};
}

net::awaitable<result<void>> token_manager::async_relogin(const std::string& why) {
  auth_log()->warn("{}; relogin = on_expiry: logging in again with a freshly read credential", why);
  const auto cancellation = co_await net::this_coro::cancellation_state;
  steady_timer timer{co_await net::this_coro::executor};
  login_backoff_.reset();
  for (;;) {
    if (auto again = co_await async_login_once(); again) {
      renew_retry_at_.reset();
      renew_backoff_.reset();
      for (const auto& handler : replaced_handlers_) handler();  // leases: fetch anew
      co_return again;
    }
    if (is_cancelled(cancellation)) co_return net::error::operation_aborted;
    // While the old token lives, callers keep being served with it; once it has ended (or Vault
    // called it invalid) they get the caches' answers and health says degraded.
    const auto now = clock_.now();
    if (now >= expiry(state_) || token_refused_) {
      if (config_.on_renew_failure == config::renew_failure_policy::exit) {
        co_return give_up("a new login failed and the token is gone: " + last_error_);
      }
      status_ = token_status::degraded;
    }
    // Every failure is retried: a refused JWT may be one the platform is about to rotate. The
    // wait ends at the old token's expiry at the latest, so `degraded` shows when it does.
    auto wait = login_backoff_.next();
    if (status_ == token_status::ok && expiry(state_) > now)
      wait = std::min(wait, expiry(state_) - now);
    auth_log()->warn("new login failed: {}; retrying in {}", last_error_, seconds_text(wait));
    timer.expires_after(wait);
    if (auto [ec] = co_await timer.async_wait(); ec) co_return ec;
    if (is_cancelled(cancellation)) co_return net::error::operation_aborted;
  }
}

net::awaitable<result<void>> token_manager::async_run() {
  if (token_.empty()) {
    throw std::logic_error{"token_manager::async_run() before a successful login"};
  }
  // The policy was applied already: a second async_run() must not call Vault again.
  if (status_ == token_status::lost) co_return make_error_code(errc::token_lost);
  if (status_ == token_status::degraded) co_return result<void>{};
  const auto cancellation = co_await net::this_coro::cancellation_state;
  steady_timer timer{co_await net::this_coro::executor};
  for (;;) {
    if (is_cancelled(cancellation)) co_return net::error::operation_aborted;
    const auto now = clock_.now();
    const auto relogin_at = relogin_due(state_, config_.kind, config_.relogin, config_.renew_at);
    const bool may_relogin = relogin_allowed(config_.kind, config_.relogin);
    if (now >= relogin_at || (may_relogin && (now >= expiry(state_) || token_refused_))) {
      const auto why = token_refused_ ? "Vault refused the token: " + last_error_
                       : now >= expiry(state_)
                           ? std::string{"the token expired"}
                           : std::string{"the token cannot be renewed any more"};
      if (auto again = co_await async_relogin(why); !again) co_return again;
      token_refused_ = false;
      continue;
    }
    if (now >= expiry(state_)) {
      co_return give_up(last_error_.empty() || state_.max_ttl_reached || !state_.renewable
                            ? std::string{"the token expired"}
                            : "the token expired, renewal kept failing: " + last_error_);
    }
    if (now >= renewal_point()) {
      if (co_await async_renew() == renew_result::refused) {
        if (!may_relogin) co_return give_up("token renewal refused: " + last_error_);
        token_refused_ = true;  // a new login at the top of the loop
      }
      continue;
    }
    timer.expires_after(next_wakeup(now, config_.check_interval,
                                    std::min(renewal_point(), relogin_at), expiry(state_)) -
                        now);
    if (auto [ec] = co_await timer.async_wait(); ec) co_return ec;
    log_schedule("check");
  }
}

void token_manager::report_invalid_token() noexcept {
  if (status_ != token_status::ok) return;
  const auto now = clock_.now();
  if (renew_retry_at_ && *renew_retry_at_ <= now) return;  // already due
  auth_log()->warn("Vault called the token invalid; checking it at once with a renewal");
  renew_retry_at_ = now;
}

net::awaitable<token_manager::renew_result> token_manager::async_renew() {
  // No increment: Vault grants the role's token_ttl again (to the max TTL). Named: see login.
  vault::request renew{.method = http::verb::post,
                       .target = "/v1/auth/token/renew-self",
                       .body = {},
                       .token = &token_,
                       .headers = {}};
  const auto sent = clock_.now();
  auto answer = co_await async_auth_call(std::move(renew));
  if (answer) {
    adopt_renewal(*answer, sent);
    co_return renew_result::renewed;
  }
  if (answer.error() == net::error::operation_aborted) co_return renew_result::retry;
  ++renewal_failures_;
  if (classify_renewal_failure(answer.error()) == renewal_failure::permanent) {
    co_return renew_result::refused;
  }
  const auto now = clock_.now();
  renew_retry_at_ = now + renew_backoff_.next();
  auth_log()->warn("token renewal failed: {}; retrying in {}, the token expires in {}", last_error_,
                   seconds_text(*renew_retry_at_ - now), seconds_text(expiry(state_) - now));
  co_return renew_result::retry;
}

void token_manager::adopt_login(const vault::envelope& answer, core::time_point sent) {
  auto& auth = *answer.auth;
  token_ = auth.client_token;
  accessor_ = auth.accessor;
  // The pair is never sent again (no second login), so it leaves memory now.
  credentials_.role_id.clear();
  credentials_.secret_id.clear();
  credentials_.jwt.clear();
  state_ = token_state{.issued = sent,
                       .ttl = std::chrono::seconds{auth.lease_duration},
                       .renewable = auth.renewable && auth.token_type != "batch",
                       .max_ttl_reached = false};
  status_ = token_status::ok;
  ++logins_;
  last_error_.clear();
  auth_log()->info("logged in with {} at auth/{}: {} token, TTL {}, {}", method_title(config_.kind),
                   config_.mount, auth.token_type, seconds_text(state_.ttl),
                   state_.renewable ? "renewable" : "not renewable");
  log_schedule("login");
}

bool token_manager::adopt_file_token(const vault::envelope& answer, core::time_point sent) {
  // lookup-self: data.ttl is what is left (0 for a root-like token without one), data.renewable
  // and data.type say whether renew-self can extend it (a batch token never can).
  const auto& data = answer.data;
  const auto ttl = data.is_object() && data.contains("ttl")
                       ? vault::lease_duration_value(data["ttl"])
                       : std::optional<long long>{};
  if (!ttl) {
    last_error_ = "Vault's lookup-self answer has no ttl";
    auth_log()->error("cannot use the token from {}: {}", config_.token_file, last_error_);
    return false;
  }
  const auto flag = [&](const char* key) {
    return data.contains(key) && data[key].is_boolean() && data[key].get<bool>();
  };
  const bool batch = data.contains("type") && data["type"] == "batch";
  token_ = credentials_.token;
  credentials_.token.clear();
  state_ = token_state{.issued = sent,
                       .ttl = std::chrono::seconds{*ttl},
                       .renewable = flag("renewable") && !batch,
                       .max_ttl_reached = false};
  status_ = token_status::ok;
  last_error_.clear();
  auth_log()->info("using the token from {} (no login): TTL {}, {}", config_.token_file,
                   seconds_text(state_.ttl), state_.renewable ? "renewable" : "not renewable");
  log_schedule("token");
  return true;
}

void token_manager::adopt_renewal(const vault::envelope& answer, core::time_point sent) {
  const auto& auth = *answer.auth;
  const auto returned = std::chrono::seconds{auth.lease_duration};
  const bool capped = ttl_capped(expiry(state_) - sent, returned, answer.warnings);
  state_ = token_state{
      .issued = sent, .ttl = returned, .renewable = auth.renewable, .max_ttl_reached = capped};
  renew_retry_at_.reset();
  renew_backoff_.reset();
  last_renewal_ = sent;
  ++renewals_ok_;
  last_error_.clear();
  auth_log()->info("token renewed: TTL {}", seconds_text(state_.ttl));
  log_schedule("renewal");
}

core::time_point token_manager::renewal_point() const noexcept {
  if (!should_renew(state_)) return core::time_point::max();
  return renew_retry_at_.value_or(renewal_due(state_, config_.renew_at));
}

result<void> token_manager::give_up(const std::string& why) {
  // Never a new login here: the secret_id may have expired or been used up, and a sidecar
  // that retries logins hides the real problem (the brief's rule).
  if (config_.on_renew_failure == config::renew_failure_policy::exit) {
    status_ = token_status::lost;
    auth_log()->error("{}; on_renew_failure = exit: the token is lost, stopping", why);
    return make_error_code(errc::token_lost);
  }
  status_ = token_status::degraded;
  auth_log()->error(
      "{}; on_renew_failure = serve_cached: serving cached values, Vault is no longer "
      "called",
      why);
  return {};
}

// One line with the token's schedule: info after a login or a renewal, debug at each check.
// When the token cannot be renewed any more (not renewable, or at its max TTL) the login or
// renewal that found out says so once, as a warning with the wall-clock expiry.
void token_manager::log_schedule(const char* event) const {
  const auto now = clock_.now();
  const auto expires = expiry(state_);
  const bool check = std::string_view{event} == "check";
  if (expires == core::time_point::max()) {
    auth_log()->log(check ? spdlog::level::debug : spdlog::level::info,
                    "{}: the token has no TTL, no renewal needed", event);
    return;
  }
  const auto left = std::max(expires - now, core::duration::zero());
  if (should_renew(state_)) {
    auth_log()->log(check ? spdlog::level::debug : spdlog::level::info,
                    "{}: token TTL left {}, next renewal in {}", event, seconds_text(left),
                    seconds_text(std::max(renewal_point() - now, core::duration::zero())));
  } else if (check) {
    auth_log()->debug("check: token TTL left {}, no renewal possible", seconds_text(left));
  } else {
    const auto wall = std::chrono::floor<std::chrono::seconds>(
        clock_.wall_now() + std::chrono::duration_cast<core::wall_time::duration>(left));
    auth_log()->warn(
        "{}: the token {}; it expires at {:%Y-%m-%dT%H:%M:%SZ} (in {}), then on_renew_failure "
        "applies",
        event, state_.max_ttl_reached ? "has reached its max TTL" : "is not renewable",
        fmt::gmtime(std::chrono::system_clock::to_time_t(wall)), seconds_text(left));
  }
}

token_stats token_manager::stats() const {
  const auto now = clock_.now();
  token_stats out;
  out.status = status_;
  out.renewable = state_.renewable;
  out.max_ttl_reached = state_.max_ttl_reached;
  out.ttl = state_.ttl;
  if (!token_.empty() && expiry(state_) != core::time_point::max()) {
    out.expires = expiry(state_);
    out.ttl_left = std::max(*out.expires - now, core::duration::zero());
  }
  if (status_ == token_status::ok && renewal_point() != core::time_point::max()) {
    out.next_renewal = renewal_point();
  }
  out.last_renewal = last_renewal_;
  out.last_error = last_error_;
  out.logins = logins_;
  out.method = config_.method;
  out.renewals_ok = renewals_ok_;
  out.renewal_failures = renewal_failures_;
  return out;
}

}  // namespace sidecar::auth
