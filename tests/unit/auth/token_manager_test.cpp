#include <sidecar/auth/token_manager.hpp>

#include <sidecar/auth/errc.hpp>
#include <sidecar/core/log.hpp>
#include <sidecar/vault/errc.hpp>

#include "fake_vault_client.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <unistd.h>

using namespace sidecar;
using namespace std::chrono_literals;
using auth::testing::error_answer;
using auth::testing::fake_vault_client;
using auth::testing::login_answer;
using auth::testing::login_target;
using auth::testing::recorded_request;
using auth::testing::renew_answer;
using auth::testing::renew_target;
using std::chrono::steady_clock;

namespace {

// Canaries: none of these may ever appear in a log line.
constexpr const char* role_id = "ROLE-CANARY-7f3a";
constexpr const char* secret_id = "SECRET-CANARY-91b2";
constexpr const char* token = "hvs.TOKEN-CANARY-55d1";
constexpr const char* accessor = "ACCESSOR-CANARY-0c4e";

// Every line the auth logger writes at trace level, for the whole test.
struct captured_log {
  std::ostringstream out;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  captured_log() {
    core::logger("auth")->set_level(spdlog::level::trace);
    core::add_log_sink(sink);
  }
  ~captured_log() { core::remove_log_sink(sink); }
  captured_log(const captured_log&) = delete;
  captured_log& operator=(const captured_log&) = delete;

  [[nodiscard]] std::string text() const { return out.str(); }
  [[nodiscard]] bool leaked() const {
    const auto all = text();
    for (const auto* canary : {role_id, secret_id, token, accessor}) {
      if (all.find(canary) != std::string::npos) return true;
    }
    return false;
  }
  [[nodiscard]] std::size_t count(std::string_view needle) const {
    const auto all = text();
    std::size_t n = 0;
    for (auto at = all.find(needle); at != std::string::npos; at = all.find(needle, at + 1)) ++n;
    return n;
  }
};

config::auth_config short_config() {
  config::auth_config config;
  config.check_interval = 250ms;
  config.renew_at = 0.8;
  config.login_timeout = 5s;
  return config;
}

auth::credentials canary_credentials() {
  return {.role_id = core::secret_string{std::string{role_id}},
          .secret_id = core::secret_string{std::string{secret_id}},
          .role_id_source = "test",
          .secret_id_source = "test",
          .jwt = {},
          .token = {}};
}

// A Vault that logs in with a 2 s renewable token and renews it to 2 s each time.
result<vault::response> healthy_vault(const recorded_request& request, std::size_t) {
  if (request.target == login_target) return login_answer(token, accessor, 2, true);
  return renew_answer(token, 2, true);
}

net::awaitable<result<void>> login_then_run(auth::token_manager& manager) {
  if (auto login = co_await manager.async_login(); !login) co_return login;
  co_return co_await manager.async_run();
}

// One token_manager on a real io_context with the real clock and a scripted Vault.
struct harness {
  captured_log log;
  net::io_context io;
  core::system_clock clock;
  config::auth_config config;
  fake_vault_client vault;
  auth::token_manager manager;
  steady_clock::time_point started = steady_clock::now();
  std::optional<result<void>> outcome;
  steady_clock::time_point finished{};
  net::cancellation_signal cancel;  ///< what the app's SIGTERM handling would emit

  explicit harness(fake_vault_client::script script, config::auth_config settings = short_config(),
                   auth::credentials credentials = canary_credentials())
      : config{settings},
        vault{std::move(script)},
        manager{vault, clock, config, std::move(credentials), [] { return 0.0; }} {}

  // Runs `op` to completion, or cancels it after `cancel_after`; gives up after `limit`.
  void run(net::awaitable<result<void>> op, core::duration cancel_after = 1h,
           core::duration limit = 20s) {
    net::steady_timer canceller{io, cancel_after};
    canceller.async_wait([&](error_code ec) {
      if (!ec) cancel.emit(net::cancellation_type::terminal);
    });
    net::co_spawn(io, std::move(op),
                  net::bind_cancellation_slot(cancel.slot(),
                                              [&](std::exception_ptr error, result<void> value) {
                                                if (error) std::rethrow_exception(error);
                                                outcome = value;
                                                finished = steady_clock::now();
                                                canceller.cancel();
                                              }));
    io.run_for(limit);
  }

  [[nodiscard]] std::vector<recorded_request> logins() const {
    return vault.requests_to(login_target);
  }
  [[nodiscard]] std::vector<recorded_request> renewals() const {
    return vault.requests_to(renew_target);
  }
};

double seconds_between(steady_clock::time_point from, steady_clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

TEST_CASE("token_manager: a login sends the pair once and keeps the token", "[auth]") {
  harness h{healthy_vault};
  h.run(h.manager.async_login());
  REQUIRE(h.outcome.has_value());
  REQUIRE(h.outcome->has_value());

  const auto logins = h.logins();
  REQUIRE(logins.size() == 1);
  const auto& login = logins.front();
  CHECK(login.method == http::verb::post);
  CHECK_FALSE(login.has_token);
  const auto body = nlohmann::json::parse(login.body);
  CHECK(body == nlohmann::json{{"role_id", role_id}, {"secret_id", secret_id}});

  CHECK(h.manager.token().reveal() == token);
  CHECK(h.manager.accessor().reveal() == accessor);
  REQUIRE(h.manager.current_token() != nullptr);
  CHECK(h.manager.current_token()->reveal() == token);
  const auto stats = h.manager.stats();
  CHECK(stats.status == auth::token_status::ok);
  CHECK(stats.logins == 1);
  CHECK(stats.ttl == 2s);
  CHECK(stats.renewable);
  REQUIRE(stats.expires.has_value());
  REQUIRE(stats.next_renewal.has_value());
  CHECK(*stats.next_renewal - (*stats.expires - 2s) == 1600ms);

  h.outcome.reset();
  h.io.restart();
  h.run(h.manager.async_login());
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->has_value());
  CHECK(h.vault.requests().size() == 1);  // once per process
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: a login to another mount uses its path", "[auth]") {
  auto settings = short_config();
  settings.mount = "approle-ci";
  harness h{[](const recorded_request&, std::size_t) -> result<vault::response> {
              return login_answer(token, accessor, 60, true);
            },
            settings};
  h.run(h.manager.async_login());
  REQUIRE(h.vault.requests().size() == 1);
  CHECK(h.vault.requests().front().target == "/v1/auth/approle-ci/login");
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: a refused login fails at once with Vault's message", "[auth]") {
  harness h{[](const recorded_request&, std::size_t) -> result<vault::response> {
    return error_answer(400, "invalid role or secret ID");
  }};
  h.run(h.manager.async_login());
  REQUIRE(h.outcome.has_value());
  REQUIRE_FALSE(h.outcome->has_value());
  CHECK(h.outcome->error() == auth::errc::login_refused);
  CHECK(h.vault.requests().size() == 1);
  CHECK(h.manager.stats().last_error == "400: invalid role or secret ID");
  CHECK(h.manager.status() == auth::token_status::starting);
  CHECK(h.manager.current_token() == nullptr);
  CHECK(h.log.count("login refused by Vault: 400: invalid role or secret ID") == 1);
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: a secret_id echoed in Vault's error never reaches the log", "[auth]") {
  harness h{[](const recorded_request&, std::size_t) -> result<vault::response> {
    return error_answer(400, std::string{"invalid secret_id \""} + secret_id + "\"");
  }};
  h.run(h.manager.async_login());
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->error() == auth::errc::login_refused);
  CHECK(h.manager.stats().last_error == "400: invalid secret_id \"***\"");
  CHECK(h.log.count("invalid secret_id \"***\"") == 1);
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: an unreachable Vault is retried until it answers", "[auth]") {
  harness h{[](const recorded_request&, std::size_t earlier) -> result<vault::response> {
    if (earlier == 0) return make_error_code(vault::errc::unreachable);
    if (earlier == 1) return error_answer(503, "Vault is sealed");
    return login_answer(token, accessor, 60, true);
  }};
  h.run(h.manager.async_login());
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->has_value());
  const auto logins = h.logins();
  REQUIRE(logins.size() == 3);
  // Backoff without jitter: 1 s, then 2 s.
  CHECK(seconds_between(logins[0].at, logins[1].at) == Approx(1.0).margin(0.3));
  CHECK(seconds_between(logins[1].at, logins[2].at) == Approx(2.0).margin(0.3));
  CHECK(h.manager.status() == auth::token_status::ok);
  CHECK(h.manager.stats().logins == 1);
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: an unreachable Vault past login_timeout is unavailable", "[auth]") {
  auto settings = short_config();
  settings.login_timeout = 1500ms;
  harness h{[](const recorded_request&, std::size_t) -> result<vault::response> {
              return make_error_code(vault::errc::timeout);
            },
            settings};
  h.run(h.manager.async_login());
  REQUIRE(h.outcome.has_value());
  REQUIRE_FALSE(h.outcome->has_value());
  CHECK(h.outcome->error() == auth::errc::vault_unavailable);
  // Attempts at 0 s, 1 s and at the deadline (1.5 s): the wait never overshoots it.
  CHECK(h.vault.requests().size() == 3);
  CHECK(seconds_between(h.started, h.finished) == Approx(1.5).margin(0.4));
  CHECK(h.manager.stats().last_error == make_error_code(vault::errc::timeout).message());
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: renews at 4/5 of the TTL and never logs in again", "[auth]") {
  harness h{healthy_vault};
  h.run(login_then_run(h.manager), 4500ms);
  REQUIRE(h.outcome.has_value());
  REQUIRE_FALSE(h.outcome->has_value());
  CHECK(h.outcome->error() == net::error::operation_aborted);

  CHECK(h.logins().size() == 1);
  const auto renewals = h.renewals();
  REQUIRE(renewals.size() >= 2);
  auto previous = h.logins().front().at;
  for (const auto& renewal : renewals) {
    CHECK(renewal.method == http::verb::post);
    CHECK(renewal.has_token);
    CHECK(renewal.token == token);
    CHECK(renewal.body.empty());
    CHECK(seconds_between(previous, renewal.at) == Approx(1.6).margin(0.3));
    previous = renewal.at;
  }
  const auto stats = h.manager.stats();
  CHECK(stats.status == auth::token_status::ok);
  CHECK(stats.renewals_ok == renewals.size());
  CHECK(stats.renewal_failures == 0);
  CHECK(stats.last_renewal.has_value());
  CHECK(h.log.count("token renewed: TTL 2.0s") == renewals.size());
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: a TTL shorter than the check interval is renewed in time", "[auth]") {
  auto settings = short_config();
  settings.check_interval = 10s;  // a 2 s token would expire between checks without the timer
  harness h{healthy_vault, settings};
  h.run(login_then_run(h.manager), 3000ms);
  const auto renewals = h.renewals();
  REQUIRE(renewals.size() == 1);
  CHECK(seconds_between(h.logins().front().at, renewals.front().at) == Approx(1.6).margin(0.3));
  CHECK(h.manager.status() == auth::token_status::ok);
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: a capped TTL warns once, stops renewing, then applies the policy",
          "[auth]") {
  harness h{[](const recorded_request& request, std::size_t) -> result<vault::response> {
    if (request.target == login_target) return login_answer(token, accessor, 2, true);
    return renew_answer(token, 1, true,
                        {R"(TTL of "2s" exceeded the effective max_ttl of "1s"; TTL value is )"
                         "capped accordingly"});
  }};
  h.run(login_then_run(h.manager));
  REQUIRE(h.outcome.has_value());
  REQUIRE_FALSE(h.outcome->has_value());
  CHECK(h.outcome->error() == auth::errc::token_lost);
  REQUIRE(h.renewals().size() == 1);
  CHECK(h.logins().size() == 1);
  // Lost at the capped expiry: renewal at 1.6 s plus the 1 s granted.
  CHECK(seconds_between(h.renewals().front().at, h.finished) == Approx(1.0).margin(0.3));
  CHECK(h.log.count("has reached its max TTL") == 1);
  CHECK(h.log.count("on_renew_failure = exit") == 1);
  CHECK(h.manager.status() == auth::token_status::lost);
  CHECK(h.manager.current_token() == nullptr);

  h.outcome.reset();
  h.io.restart();
  h.run(login_then_run(h.manager));
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->error() == auth::errc::token_lost);
  CHECK(h.vault.requests().size() == 2);
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: an invalid token under policy exit is lost at once", "[auth]") {
  auto settings = short_config();
  harness h{[](const recorded_request& request, std::size_t) -> result<vault::response> {
              if (request.target == login_target) return login_answer(token, accessor, 3, true);
              return error_answer(403,
                                  "2 errors occurred:\n\t* permission denied\n\t* invalid "
                                  "token\n\n");
            },
            settings};
  h.run(login_then_run(h.manager));
  REQUIRE(h.outcome.has_value());
  REQUIRE_FALSE(h.outcome->has_value());
  CHECK(h.outcome->error() == auth::errc::token_lost);
  CHECK(h.renewals().size() == 1);
  CHECK(h.logins().size() == 1);
  // Right after the refused renewal at 2.4 s, well before the 3 s expiry.
  CHECK(seconds_between(h.renewals().front().at, h.finished) < 0.3);
  const auto stats = h.manager.stats();
  CHECK(stats.status == auth::token_status::lost);
  CHECK(stats.renewal_failures == 1);
  CHECK(stats.last_error == "403: 2 errors occurred: * permission denied * invalid token");
  CHECK(h.log.count("token renewal refused: 403") == 1);
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: a reported invalid token is renewed at the next check, then lost",
          "[auth]") {
  harness h{[](const recorded_request& request, std::size_t) -> result<vault::response> {
    if (request.target == login_target) return login_answer(token, accessor, 3600, true);
    return error_answer(403, "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n");
  }};
  h.run([](auth::token_manager& manager) -> net::awaitable<result<void>> {
    if (auto login = co_await manager.async_login(); !login) co_return login;
    manager.report_invalid_token();  // a read was refused: revoked server-side
    co_return co_await manager.async_run();
  }(h.manager));
  REQUIRE(h.outcome.has_value());
  REQUIRE_FALSE(h.outcome->has_value());
  CHECK(h.outcome->error() == auth::errc::token_lost);
  CHECK(h.renewals().size() == 1);  // not at 4/5 of an hour
  CHECK(h.logins().size() == 1);
  CHECK(seconds_between(h.started, h.finished) < 5.0);
  CHECK(h.manager.stats().status == auth::token_status::lost);
}

TEST_CASE("token_manager: an invalid token under serve_cached degrades and stops calling Vault",
          "[auth]") {
  auto settings = short_config();
  settings.on_renew_failure = config::renew_failure_policy::serve_cached;
  harness h{[](const recorded_request& request, std::size_t) -> result<vault::response> {
              if (request.target == login_target) return login_answer(token, accessor, 2, true);
              return error_answer(403, "permission denied\ninvalid token");
            },
            settings};
  h.run(login_then_run(h.manager));
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->has_value());
  CHECK(h.manager.status() == auth::token_status::degraded);
  CHECK(h.manager.current_token() == nullptr);
  CHECK_FALSE(h.manager.stats().next_renewal.has_value());
  CHECK(h.log.count("on_renew_failure = serve_cached") == 1);

  // Nothing more goes to Vault: neither a login nor a renewal, even if asked again.
  CHECK(h.vault.requests().size() == 2);
  h.outcome.reset();
  h.io.restart();
  h.run(login_then_run(h.manager));
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->has_value());
  CHECK(h.vault.requests().size() == 2);
  CHECK(h.manager.status() == auth::token_status::degraded);
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: a transient failure at the renewal point is retried and recovers",
          "[auth]") {
  harness h{[](const recorded_request& request, std::size_t earlier) -> result<vault::response> {
    if (request.target == login_target) return login_answer(token, accessor, 2, true);
    if (earlier == 0) return error_answer(503, "Vault is sealed");
    return renew_answer(token, 2, true);
  }};
  h.run(login_then_run(h.manager), 2500ms);
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->error() == net::error::operation_aborted);
  const auto renewals = h.renewals();
  REQUIRE(renewals.size() == 2);
  // Retried after min(1 s, check_interval) without jitter, inside the 0.4 s left.
  CHECK(seconds_between(renewals[0].at, renewals[1].at) == Approx(0.25).margin(0.15));
  const auto stats = h.manager.stats();
  CHECK(stats.status == auth::token_status::ok);
  CHECK(stats.renewal_failures == 1);
  CHECK(stats.renewals_ok == 1);
  CHECK(stats.last_error.empty());
  CHECK(h.logins().size() == 1);
  CHECK(h.log.count("token renewal failed: 503: Vault is sealed") == 1);
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: transient failures until expiry apply the policy then", "[auth]") {
  harness h{[](const recorded_request& request, std::size_t) -> result<vault::response> {
    if (request.target == login_target) return login_answer(token, accessor, 2, true);
    return make_error_code(vault::errc::unreachable);
  }};
  h.run(login_then_run(h.manager));
  REQUIRE(h.outcome.has_value());
  REQUIRE_FALSE(h.outcome->has_value());
  CHECK(h.outcome->error() == auth::errc::token_lost);
  CHECK(h.logins().size() == 1);
  CHECK(h.renewals().size() >= 2);  // 1.6 s, then every 0.25 s until 2 s
  CHECK(seconds_between(h.logins().front().at, h.finished) == Approx(2.0).margin(0.3));
  CHECK(h.log.count("the token expired, renewal kept failing: Vault unreachable") == 1);
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: a non-renewable token is never renewed and expires", "[auth]") {
  auto settings = short_config();
  settings.on_renew_failure = config::renew_failure_policy::serve_cached;
  harness h{[](const recorded_request&, std::size_t) -> result<vault::response> {
              return login_answer(token, accessor, 1, false);
            },
            settings};
  h.run(login_then_run(h.manager));
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->has_value());
  CHECK(h.vault.requests().size() == 1);
  CHECK(seconds_between(h.logins().front().at, h.finished) == Approx(1.0).margin(0.3));
  CHECK(h.manager.status() == auth::token_status::degraded);
  CHECK(h.log.count("login: the token is not renewable; it expires at") == 1);
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: cancellation stops run promptly", "[auth]") {
  auto settings = short_config();
  settings.check_interval = 10s;
  harness h{[](const recorded_request&, std::size_t) -> result<vault::response> {
              return login_answer(token, accessor, 3600, true);
            },
            settings};
  h.run(login_then_run(h.manager), 200ms);
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->error() == net::error::operation_aborted);
  CHECK(seconds_between(h.started, h.finished) < 1.0);
  CHECK(h.vault.requests().size() == 1);
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: cancellation stops the login backoff promptly", "[auth]") {
  harness h{[](const recorded_request&, std::size_t) -> result<vault::response> {
    return make_error_code(vault::errc::unreachable);
  }};
  h.run(h.manager.async_login(), 200ms);
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->error() == net::error::operation_aborted);
  CHECK(seconds_between(h.started, h.finished) < 0.8);
  CHECK(h.vault.requests().size() == 1);
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: the trace log shows the schedule without secrets", "[auth]") {
  harness h{healthy_vault};
  h.run(login_then_run(h.manager), 1000ms);
  CHECK(h.log.count("login: token TTL left") == 1);
  CHECK(h.log.count("check: token TTL left") >= 2);  // debug lines at each 250 ms check
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: a cancellation while it is not waiting ends run at the next step",
          "[auth]") {
  // The hostile moment: the signal fires while the coroutine runs (here inside the renewal),
  // so no wait is pending to be cancelled. async_run() must still end, with a value, not a throw.
  net::cancellation_signal* cancel = nullptr;
  harness h{[&](const recorded_request& request, std::size_t) -> result<vault::response> {
    if (request.target == login_target) return login_answer(token, accessor, 1, true);
    cancel->emit(net::cancellation_type::terminal);
    return renew_answer(token, 1, true);
  }};
  cancel = &h.cancel;
  h.run(login_then_run(h.manager));
  REQUIRE(h.outcome.has_value());
  REQUIRE_FALSE(h.outcome->has_value());
  CHECK(h.outcome->error() == net::error::operation_aborted);
  CHECK(h.renewals().size() == 1);
  CHECK(h.manager.stats().renewals_ok == 1);
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: a cancellation during a login attempt ends the login", "[auth]") {
  net::cancellation_signal* cancel = nullptr;
  harness h{[&](const recorded_request&, std::size_t) -> result<vault::response> {
    cancel->emit(net::cancellation_type::terminal);
    return make_error_code(vault::errc::unreachable);
  }};
  cancel = &h.cancel;
  h.run(h.manager.async_login());
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->error() == net::error::operation_aborted);
  CHECK(h.vault.requests().size() == 1);
  CHECK(h.log.count("login failed") == 0);
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: an error without Vault's errors list is reported by its status",
          "[auth]") {
  harness h{[](const recorded_request&, std::size_t earlier) -> result<vault::response> {
    if (earlier == 0) return auth::testing::json_answer(502, "<html>Bad Gateway</html>");
    return login_answer(token, accessor, 60, true);
  }};
  h.run(h.manager.async_login());
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->has_value());
  CHECK(h.vault.requests().size() == 2);
  CHECK(h.log.count("login failed: 502: Vault server error (5xx); retrying in 1.0s") == 1);
  CHECK_FALSE(h.log.leaked());
}

// Issue 20: Kubernetes/JWT logins with a JWT read from a file, and token_file.

namespace {

constexpr const char* jwt_v1 = "eyJ.JWT-CANARY-one.sig";
constexpr const char* jwt_v2 = "eyJ.JWT-CANARY-two.sig";
constexpr std::string_view k8s_login_target = "/v1/auth/kubernetes/login";
constexpr std::string_view lookup_target = "/v1/auth/token/lookup-self";

// A JWT file in a private temp dir, removed afterwards.
struct jwt_file {
  std::string dir;
  std::string path;
  jwt_file() {
    std::string pattern = "/tmp/auth-jwt-XXXXXX";
    dir = ::mkdtemp(pattern.data());
    path = dir + "/token";
  }
  ~jwt_file() {
    std::remove(path.c_str());
    ::rmdir(dir.c_str());
  }
  jwt_file(const jwt_file&) = delete;
  jwt_file& operator=(const jwt_file&) = delete;
  void write(std::string_view content) const { std::ofstream{path} << content; }
};

config::auth_config kubernetes_config(const jwt_file& file) {
  auto config = short_config();
  config.kind = config::auth_method::kubernetes;
  config.method = "kubernetes";
  config.mount = "kubernetes";
  config.role = "app";
  config.jwt_file = file.path;
  config.relogin = config::relogin_policy::on_expiry;
  return config;
}

bool mentions(const captured_log& log, std::string_view needle) {
  return log.text().find(needle) != std::string::npos;
}

vault::response lookup_answer(long long ttl, bool renewable, std::string_view type = "service") {
  return auth::testing::json_answer(
      200,
      nlohmann::json{
          {"request_id", "5c1d"},
          {"data",
           {{"ttl", ttl}, {"renewable", renewable}, {"type", type}, {"policies", {"default"}}}}}
          .dump());
}

}  // namespace

TEST_CASE("token_manager: kubernetes logs in with the role and the JWT from the file", "[auth]") {
  jwt_file file;
  file.write(std::string{jwt_v1} + "\n");
  harness h{[](const recorded_request& request, std::size_t) -> result<vault::response> {
              if (request.target == k8s_login_target) {
                return login_answer(token, accessor, 60, true);
              }
              return error_answer(404, "unexpected");
            },
            kubernetes_config(file), auth::credentials{}};
  h.run(h.manager.async_login());
  REQUIRE(h.outcome.has_value());
  REQUIRE(h.outcome->has_value());
  const auto logins = h.vault.requests_to(k8s_login_target);
  REQUIRE(logins.size() == 1);
  CHECK_FALSE(logins.front().has_token);
  CHECK(nlohmann::json::parse(logins.front().body) ==
        nlohmann::json{{"role", "app"}, {"jwt", jwt_v1}});
  CHECK(h.manager.stats().logins == 1);
  CHECK(h.log.count("logged in with Kubernetes at auth/kubernetes") == 1);
  CHECK_FALSE(mentions(h.log, "JWT-CANARY"));
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE("token_manager: each login attempt re-reads the JWT file (rotated on disk)", "[auth]") {
  jwt_file file;
  file.write(jwt_v1);
  harness h{[&file](const recorded_request&, std::size_t earlier) -> result<vault::response> {
              if (earlier == 0) {
                file.write(jwt_v2);  // the kubelet rotates the projected token meanwhile
                return make_error_code(vault::errc::unreachable);
              }
              return login_answer(token, accessor, 60, true);
            },
            kubernetes_config(file), auth::credentials{}};
  h.run(h.manager.async_login());
  REQUIRE(h.outcome.has_value());
  REQUIRE(h.outcome->has_value());
  const auto logins = h.vault.requests_to(k8s_login_target);
  REQUIRE(logins.size() == 2);
  CHECK(nlohmann::json::parse(logins[0].body)["jwt"] == jwt_v1);
  CHECK(nlohmann::json::parse(logins[1].body)["jwt"] == jwt_v2);
  CHECK_FALSE(mentions(h.log, "JWT-CANARY"));
}

TEST_CASE("token_manager: a JWT file gone at login time ends the login without a request",
          "[auth]") {
  jwt_file file;  // never written
  harness h{[](const recorded_request&, std::size_t) -> result<vault::response> {
              return login_answer(token, accessor, 60, true);
            },
            kubernetes_config(file), auth::credentials{}};
  h.run(h.manager.async_login());
  REQUIRE(h.outcome.has_value());
  REQUIRE_FALSE(h.outcome->has_value());
  CHECK(h.outcome->error() == auth::errc::credential_unreadable);
  CHECK(h.vault.requests().empty());
  CHECK(mentions(h.log, "cannot open JWT file " + file.path));
}

TEST_CASE("token_manager: a JWT echoed in Vault's refusal is redacted", "[auth]") {
  jwt_file file;
  file.write(jwt_v1);
  harness h{[](const recorded_request&, std::size_t) -> result<vault::response> {
              return error_answer(403, std::string{"permission denied: "} + jwt_v1);
            },
            kubernetes_config(file), auth::credentials{}};
  h.run(h.manager.async_login());
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->error() == auth::errc::login_refused);
  CHECK(h.manager.stats().last_error == "403: permission denied: ***");
  CHECK_FALSE(mentions(h.log, "JWT-CANARY"));
}

TEST_CASE("token_manager: token_file sends no login, looks the token up and renews it", "[auth]") {
  auto settings = short_config();
  settings.kind = config::auth_method::token_file;
  settings.method = "token_file";
  settings.token_file = "/run/vault-token";
  auth::credentials credentials;
  credentials.token = core::secret_string{std::string{token}};
  harness h{[](const recorded_request& request, std::size_t) -> result<vault::response> {
              if (request.target == lookup_target) return lookup_answer(2, true);
              if (request.target == renew_target) return renew_answer(token, 2, true);
              return error_answer(404, "unexpected");
            },
            settings, std::move(credentials)};
  h.run(login_then_run(h.manager), 2500ms);
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->error() == net::error::operation_aborted);
  const auto lookups = h.vault.requests_to(lookup_target);
  REQUIRE(lookups.size() == 1);
  CHECK(lookups.front().method == http::verb::get);
  CHECK(lookups.front().token == token);
  const auto renewals = h.renewals();
  REQUIRE_FALSE(renewals.empty());
  CHECK(renewals.front().token == token);
  // Only the lookup and renewals: no login, no revoke-self.
  CHECK(h.vault.requests().size() == 1 + renewals.size());
  CHECK(h.manager.stats().logins == 0);
  CHECK(h.manager.status() == auth::token_status::ok);
  CHECK(h.log.count("using the token from /run/vault-token (no login): TTL 2.0s, renewable") == 1);
  CHECK_FALSE(h.log.leaked());
}

TEST_CASE(
    "token_manager: a non-renewable token_file token is used until it ends, then the "
    "policy applies",
    "[auth]") {
  auto settings = short_config();
  settings.kind = config::auth_method::token_file;
  settings.token_file = "/run/vault-token";
  auth::credentials credentials;
  credentials.token = core::secret_string{std::string{token}};
  harness h{[](const recorded_request&, std::size_t) -> result<vault::response> {
              return lookup_answer(1, true, "batch");  // batch: renewable says nothing
            },
            settings, std::move(credentials)};
  h.run(login_then_run(h.manager));
  REQUIRE(h.outcome.has_value());
  REQUIRE_FALSE(h.outcome->has_value());
  CHECK(h.outcome->error() == auth::errc::token_lost);
  CHECK(h.vault.requests().size() == 1);
  CHECK(h.renewals().empty());
  CHECK(h.manager.status() == auth::token_status::lost);
}

TEST_CASE("token_manager: a token_file token Vault refuses is a refused login", "[auth]") {
  auto settings = short_config();
  settings.kind = config::auth_method::token_file;
  settings.token_file = "/run/vault-token";
  auth::credentials credentials;
  credentials.token = core::secret_string{std::string{token}};
  harness h{[](const recorded_request&, std::size_t) -> result<vault::response> {
              return error_answer(403, "permission denied");
            },
            settings, std::move(credentials)};
  h.run(h.manager.async_login());
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->error() == auth::errc::login_refused);
  CHECK(h.manager.current_token() == nullptr);
  CHECK(h.manager.stats().last_error == "403: permission denied");
  CHECK_FALSE(h.log.leaked());
}

// Issue 20: relogin = on_expiry.

TEST_CASE(
    "token_manager: kubernetes replaces a token that cannot be renewed, with the rotated "
    "JWT, before it ends",
    "[auth]") {
  jwt_file file;
  file.write(jwt_v1);
  harness h{[&file](const recorded_request&, std::size_t earlier) -> result<vault::response> {
              if (earlier == 0) {
                file.write(jwt_v2);  // rotated while the first token lives
                return login_answer(token, accessor, 1, false);
              }
              return login_answer("hvs.TOKEN-CANARY-second", accessor, 60, true);
            },
            kubernetes_config(file), auth::credentials{}};
  h.run(login_then_run(h.manager), 2s);
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->error() == net::error::operation_aborted);
  const auto logins = h.vault.requests_to(k8s_login_target);
  REQUIRE(logins.size() == 2);
  CHECK(nlohmann::json::parse(logins[1].body)["jwt"] == jwt_v2);
  // At 4/5 of the 1 s TTL: the old token was still valid, so no caller saw a gap.
  CHECK(seconds_between(logins[0].at, logins[1].at) == Approx(0.8).margin(0.3));
  CHECK(h.manager.status() == auth::token_status::ok);
  CHECK(h.manager.token().reveal() == "hvs.TOKEN-CANARY-second");
  CHECK(h.manager.stats().logins == 2);
  CHECK(h.log.count("relogin = on_expiry: logging in again") == 1);
  CHECK_FALSE(mentions(h.log, "CANARY"));
}

TEST_CASE("token_manager: kubernetes logs in again once after Vault refuses the token", "[auth]") {
  jwt_file file;
  file.write(jwt_v1);
  harness h{[](const recorded_request& request, std::size_t earlier) -> result<vault::response> {
              if (request.target == renew_target) return error_answer(403, "permission denied");
              if (earlier == 0) return login_answer(token, accessor, 60, true);
              return login_answer("hvs.TOKEN-CANARY-second", accessor, 60, true);
            },
            kubernetes_config(file), auth::credentials{}};
  int replaced = 0;  // what the lease store hears: fetch held leases anew
  h.manager.on_token_replaced([&replaced] { ++replaced; });
  h.run(h.manager.async_login());
  CHECK(replaced == 0);              // the first login replaces nothing
  h.manager.report_invalid_token();  // a 403 "invalid token" seen by the proxy
  h.outcome.reset();
  h.io.restart();
  h.run(h.manager.async_run(), 1s);
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->error() == net::error::operation_aborted);
  CHECK(h.renewals().size() == 1);
  CHECK(h.vault.requests_to(k8s_login_target).size() == 2);
  CHECK(h.manager.status() == auth::token_status::ok);
  CHECK(h.manager.token().reveal() == "hvs.TOKEN-CANARY-second");
  CHECK(replaced == 1);
}

TEST_CASE("token_manager: approle never logs in again, even with relogin = on_expiry forced",
          "[auth]") {
  auto settings = short_config();
  settings.relogin = config::relogin_policy::on_expiry;  // the parser refuses this; the rule holds
  settings.on_renew_failure = config::renew_failure_policy::serve_cached;
  harness h{[](const recorded_request&, std::size_t) -> result<vault::response> {
              return login_answer(token, accessor, 1, false);
            },
            settings};
  h.run(login_then_run(h.manager));
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->has_value());
  CHECK(h.logins().size() == 1);
  CHECK(h.manager.status() == auth::token_status::degraded);
}

TEST_CASE("token_manager: a failing new login keeps retrying, degraded once the token ended",
          "[auth]") {
  jwt_file file;
  file.write(jwt_v1);
  auto settings = kubernetes_config(file);
  settings.on_renew_failure = config::renew_failure_policy::serve_cached;
  harness h{[](const recorded_request&, std::size_t earlier) -> result<vault::response> {
              if (earlier == 0) return login_answer(token, accessor, 1, false);
              if (earlier < 3) return error_answer(403, "permission denied");
              return login_answer("hvs.TOKEN-CANARY-second", accessor, 60, true);
            },
            settings, auth::credentials{}};
  // Attempts at 0.8 s (refused, the token still valid: ok), 1.0 s (the wait ends at the
  // expiry; refused, the token gone: degraded), 3.0 s (backoff 2 s, no jitter; logged in: ok).
  std::optional<auth::token_status> at_0_9s;
  std::optional<auth::token_status> at_2s;
  net::steady_timer probe1{h.io, 900ms};
  probe1.async_wait([&](error_code) { at_0_9s = h.manager.status(); });
  net::steady_timer probe2{h.io, 2s};
  probe2.async_wait([&](error_code) {
    at_2s = h.manager.status();
    CHECK(h.manager.current_token() == nullptr);  // the caches serve, Vault is not called
  });
  h.run(login_then_run(h.manager), 3500ms);
  CHECK(at_0_9s == auth::token_status::ok);
  CHECK(at_2s == auth::token_status::degraded);
  CHECK(h.vault.requests_to(k8s_login_target).size() == 4);
  CHECK(h.manager.status() == auth::token_status::ok);
  CHECK(h.log.count("new login failed: 403: permission denied") == 2);
  CHECK_FALSE(mentions(h.log, "CANARY"));
}

// Issue 20: a response-wrapped secret_id.

namespace {

constexpr const char* wrapping_token = "hvs.WRAP-CANARY-3e7f";
constexpr const char* unwrapped_secret_id = "SECRET-CANARY-unwrapped";
constexpr const char* wrapped_from = "auth/approle/role/myapp/secret-id";

config::auth_config wrapping_config() {
  auto config = short_config();
  config.secret_id_response_wrapping_path = wrapped_from;
  return config;
}

auth::credentials wrapped_credentials() {
  auto credentials = canary_credentials();
  credentials.secret_id = core::secret_string{std::string{wrapping_token}};
  return credentials;
}

vault::response lookup_wrapping_answer(std::string_view creation_path) {
  return auth::testing::json_answer(200, nlohmann::json{{"data",
                                                         {{"creation_path", creation_path},
                                                          {"creation_time", "2026-12-07T12:00:00Z"},
                                                          {"creation_ttl", 120}}}}
                                             .dump());
}

vault::response unwrap_answer() {
  return auth::testing::json_answer(200,
                                    nlohmann::json{{"data",
                                                    {{"secret_id", unwrapped_secret_id},
                                                     {"secret_id_accessor", "ACCESSOR-CANARY-sid"},
                                                     {"secret_id_ttl", 0}}}}
                                        .dump());
}

}  // namespace

TEST_CASE("token_manager: a wrapped secret_id is looked up, unwrapped once, then used", "[auth]") {
  harness h{[](const recorded_request& request, std::size_t) -> result<vault::response> {
              if (request.target == "/v1/sys/wrapping/lookup") {
                return lookup_wrapping_answer(wrapped_from);
              }
              if (request.target == "/v1/sys/wrapping/unwrap") return unwrap_answer();
              return login_answer(token, accessor, 60, true);
            },
            wrapping_config(), wrapped_credentials()};
  h.run(h.manager.async_login());
  REQUIRE(h.outcome.has_value());
  REQUIRE(h.outcome->has_value());
  const auto& requests = h.vault.requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[0].target == "/v1/sys/wrapping/lookup");
  CHECK_FALSE(requests[0].has_token);
  CHECK(nlohmann::json::parse(requests[0].body) == nlohmann::json{{"token", wrapping_token}});
  CHECK(requests[1].target == "/v1/sys/wrapping/unwrap");
  CHECK(requests[1].token == wrapping_token);
  CHECK(requests[2].target == login_target);
  CHECK(nlohmann::json::parse(requests[2].body) ==
        nlohmann::json{{"role_id", role_id}, {"secret_id", unwrapped_secret_id}});
  CHECK_FALSE(mentions(h.log, "CANARY"));
}

TEST_CASE(
    "token_manager: remove_secret_id_file_after_reading removes a wrapping token's file "
    "after the unwrap, and keeps it when the token is refused",
    "[auth]") {
  for (const bool substituted : {false, true}) {
    jwt_file file;  // holds the wrapping token here
    file.write(wrapping_token);
    auto settings = wrapping_config();
    settings.secret_id_file = file.path;
    settings.remove_secret_id_file_after_reading = true;
    harness h{[substituted, path = file.path](const recorded_request& request,
                                              std::size_t) -> result<vault::response> {
                if (request.target == "/v1/sys/wrapping/lookup") {
                  return lookup_wrapping_answer(substituted ? "sys/wrapping/wrap" : wrapped_from);
                }
                if (request.target == "/v1/sys/wrapping/unwrap") {
                  CHECK(std::ifstream{path}.good());  // still there at the unwrap...
                  return unwrap_answer();
                }
                return login_answer(token, accessor, 60, true);
              },
              settings, wrapped_credentials()};
    h.run(h.manager.async_login());
    REQUIRE(h.outcome.has_value());
    CHECK(h.outcome->has_value() == !substituted);
    CHECK(std::ifstream{file.path}.good() == substituted);  // ...then the file goes
  }
}

TEST_CASE("token_manager: a wrapping token from another path is refused without unwrapping it",
          "[auth]") {
  harness h{[](const recorded_request& request, std::size_t) -> result<vault::response> {
              if (request.target == "/v1/sys/wrapping/lookup") {
                return lookup_wrapping_answer("sys/wrapping/wrap");
              }
              if (request.target == "/v1/sys/wrapping/unwrap") return unwrap_answer();
              return login_answer(token, accessor, 60, true);
            },
            wrapping_config(), wrapped_credentials()};
  h.run(h.manager.async_login());
  REQUIRE(h.outcome.has_value());
  REQUIRE_FALSE(h.outcome->has_value());
  CHECK(h.outcome->error() == auth::errc::login_refused);
  CHECK(h.vault.requests().size() == 1);  // the lookup only: no unwrap, no login
  CHECK(h.manager.stats().last_error.find("substituted (a possible attack)") != std::string::npos);
  CHECK(h.log.count("login refused: the wrapping token was created by sys/wrapping/wrap") == 1);
  CHECK_FALSE(mentions(h.log, "CANARY"));
}

TEST_CASE("token_manager: a used or expired wrapping token is a refused login saying so",
          "[auth]") {
  harness h{[](const recorded_request&, std::size_t) -> result<vault::response> {
              return error_answer(400, "wrapping token is not valid or does not exist");
            },
            wrapping_config(), wrapped_credentials()};
  h.run(h.manager.async_login());
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->error() == auth::errc::login_refused);
  CHECK(h.vault.requests().size() == 1);
  CHECK(h.manager.stats().last_error ==
        "wrapping token lookup: 400: wrapping token is not valid or does not exist (already "
        "unwrapped, expired or never issued)");
  CHECK_FALSE(mentions(h.log, "CANARY"));
}

TEST_CASE("token_manager: an unwrap that fails after the lookup is never repeated", "[auth]") {
  harness h{[](const recorded_request& request, std::size_t) -> result<vault::response> {
              if (request.target == "/v1/sys/wrapping/lookup") {
                return lookup_wrapping_answer(wrapped_from);
              }
              // A 200 without a secret_id: the token is spent all the same.
              return auth::testing::json_answer(200, R"({"data":{"foo":"bar"}})");
            },
            wrapping_config(), wrapped_credentials()};
  h.run(h.manager.async_login());
  REQUIRE(h.outcome.has_value());
  CHECK(h.outcome->error() == auth::errc::login_refused);
  CHECK(h.vault.requests_to("/v1/sys/wrapping/unwrap").size() == 1);
  CHECK(h.vault.requests_to(login_target).empty());
}
