#include <sidecar/core/log.hpp>
#include <sidecar/core/version.hpp>
#include <sidecar/testing/vault_double.hpp>
#include <sidecar/vault/beast_client.hpp>
#include <sidecar/vault/errc.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include "fake_vault_server.hpp"
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>

// GCC 12 at -O1 and above reports Asio's awaitable frame operator delete as mismatched with its
// operator new when it inlines a coroutine lambda's frame destruction; the pair is Asio's own
// (awaitable_frame_base's thread-local recycling allocator), so the warning is a false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

using namespace sidecar;
using namespace std::chrono_literals;
using vault::errc;
using vault_test::fake_vault_server;
using vault_test::scripted_reply;

namespace {

config::vault_config settings_for(const std::string& address) {
  config::vault_config settings;
  settings.address = address;
  settings.request_timeout = 5s;
  settings.max_retries = 3;
  return settings;
}

// Backoff short enough that retries do not slow the suite; jitter fixed by a constant source.
vault::client_limits fast_retries() {
  vault::client_limits limits;
  limits.retry_initial = 1ms;
  limits.retry_max = 4ms;
  return limits;
}

core::uniform_source no_jitter() {
  return [] { return 0.0; };
}

vault::request get(std::string target) {
  vault::request req;
  req.target = std::move(target);
  return req;
}

vault::request post(std::string target, std::string body) {
  vault::request req;
  req.method = http::verb::post;
  req.target = std::move(target);
  req.body = core::secret_string{std::move(body)};
  return req;
}

// Catch2 repeats an assertion's expression inside __builtin_constant_p, and GCC's coroutine
// transform evaluates a co_await even there, so a co_await never goes inside a Catch macro.

// Runs `body` on `io` to completion, then stops the server so run() returns; rethrows a failed
// REQUIRE or any other exception from the coroutine.
void run(net::io_context& io, std::function<net::awaitable<void>()> body,
         fake_vault_server* server = nullptr) {
  std::exception_ptr failure;
  bool finished = false;
  net::co_spawn(io, std::move(body), [&](std::exception_ptr e) {
    failure = e;
    finished = true;
    if (server != nullptr) server->stop();
  });
  io.run();
  REQUIRE(finished);
  if (failure) std::rethrow_exception(failure);
}

// Waits (briefly, in 5 ms steps) for something the server observes asynchronously.
net::awaitable<void> settle(const std::function<bool()>& done) {
  steady_timer timer{co_await net::this_coro::executor};
  for (int i = 0; i < 400 && !done(); ++i) {
    timer.expires_after(5ms);
    co_await timer.async_wait();
  }
}

std::string header(const vault::response& answer, std::string_view name) {
  for (const auto& [key, value] : answer.headers) {
    if (beast::iequals(key, name)) return value;
  }
  return {};
}

unsigned short closed_port(net::io_context& io) {
  tcp::acceptor probe{io, {net::ip::make_address("127.0.0.1"), 0}};
  return probe.local_endpoint().port();  // closed when probe goes out of scope
}

// Captures what the "vault" component logs while alive.
class log_capture {
 public:
  log_capture() : sink_{std::make_shared<spdlog::sinks::ostream_sink_mt>(text_)} {
    core::add_log_sink(sink_);
  }
  ~log_capture() { core::remove_log_sink(sink_); }
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;
  [[nodiscard]] std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
  spdlog::sink_ptr sink_;
};

// A CA with a server certificate (SAN IP:127.0.0.1 and DNS:vault.test) and a client
// certificate, plus an unrelated CA, made with the openssl CLI in a temporary directory.
class test_pki {
 public:
  test_pki() {
    std::string pattern = (std::filesystem::temp_directory_path() / "vault-pki-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir_ = pattern;
    make_ca("ca");
    make_ca("other_ca");
    make_leaf("server",
              "subjectAltName=IP:127.0.0.1,DNS:vault.test\nextendedKeyUsage=serverAuth\n");
    make_leaf("client", "extendedKeyUsage=clientAuth\n");
  }
  ~test_pki() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  test_pki(const test_pki&) = delete;
  test_pki& operator=(const test_pki&) = delete;

  [[nodiscard]] std::string path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  void openssl(const std::string& arguments) const {
    const auto command = "cd '" + dir_.string() + "' && openssl " + arguments + " >/dev/null 2>&1";
    REQUIRE(std::system(command.c_str()) == 0);
  }
  void make_ca(const std::string& name) const {
    openssl("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -keyout " +
            name + ".key -out " + name + ".pem -subj '/CN=" + name + " for vault tests'");
  }
  void make_leaf(const std::string& name, const std::string& extensions) const {
    {
      std::ofstream ext{dir_ / (name + ".ext")};
      ext << "basicConstraints=CA:FALSE\n" << extensions;
    }
    openssl("req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + name +
            ".key -out " + name + ".csr -subj '/CN=" + name + "'");
    openssl("x509 -req -in " + name +
            ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out " + name +
            ".pem -extfile " + name + ".ext");
  }

  std::filesystem::path dir_;
};

}  // namespace

TEST_CASE("beast_client: answers status, content type, body and the relayed headers", "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  server.script({.action = scripted_reply::kind::answer,
                 .status = 200,
                 .body = R"({"data":{"password":"hunter2"}})",
                 .headers = {{"Warning", "199 - careful"},
                             {"X-Internal", "not relayed"},
                             {"Retry-After", "3"}},
                 .delay = {},
                 .keep_alive = true});
  core::manual_clock clock;
  vault::beast_client client{io.get_executor(), settings_for(server.address()), clock, no_jitter()};

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto answer = co_await client.async_send(get("/v1/kv-demo/data/app"));
        REQUIRE(answer.has_value());
        CHECK(answer->status == 200);
        CHECK(answer->content_type == "application/json");
        CHECK(answer->body.reveal() == R"({"data":{"password":"hunter2"}})");
        CHECK(header(*answer, "Warning") == "199 - careful");
        CHECK(header(*answer, "Retry-After") == "3");
        CHECK(header(*answer, "X-Internal").empty());
      },
      &server);
  REQUIRE(server.requests().size() == 1);
  CHECK(server.requests()[0].target == "/v1/kv-demo/data/app");
}

TEST_CASE("beast_client: sends Host, the token once, namespace, user agent and X-Vault-Request",
          "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  core::manual_clock clock;
  auto settings = settings_for(server.address());
  settings.namespace_ = "team-a";
  vault::beast_client client{io.get_executor(), settings, clock, no_jitter()};
  const core::secret_string token{std::string{"hvs.the-token"}};

  run(
      io,
      [&]() -> net::awaitable<void> {
        auto write = post("/v1/auth/approle/login", R"({"role_id":"r","secret_id":"s"})");
        write.token = &token;
        write.headers = {{"X-Vault-Wrap-TTL", "60s"}, {"x-vault-token", "smuggled"}};
        const auto written = co_await client.async_send(std::move(write));
        REQUIRE(written.has_value());
        const auto read = co_await client.async_send(get("/v1/sys/health"));
        REQUIRE(read.has_value());
      },
      &server);

  REQUIRE(server.requests().size() == 2);
  const auto& first = server.requests()[0];
  CHECK(first.method == http::verb::post);
  CHECK(first.headers.at("host") == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(first.headers.at("x-vault-token") == "hvs.the-token");
  CHECK(first.token_fields == 1);
  CHECK(first.headers.at("x-vault-namespace") == "team-a");
  CHECK(first.headers.at("x-vault-request") == "true");
  CHECK(first.headers.at("user-agent") == "vault-sidecar/" + std::string{core::version});
  CHECK(first.headers.at("content-type") == "application/json");
  CHECK(first.headers.at("x-vault-wrap-ttl") == "60s");
  CHECK(first.body == R"({"role_id":"r","secret_id":"s"})");

  const auto& second = server.requests()[1];
  CHECK(second.method == http::verb::get);
  CHECK(second.token_fields == 0);
  CHECK(second.headers.count("content-type") == 0);
  CHECK(second.headers.at("x-vault-request") == "true");
}

TEST_CASE("beast_client: 100 sequential reads share a keep-alive connection", "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  core::manual_clock clock;
  vault::beast_client client{io.get_executor(), settings_for(server.address()), clock, no_jitter()};

  run(
      io,
      [&]() -> net::awaitable<void> {
        for (int i = 0; i < 100; ++i) {
          const auto answer = co_await client.async_send(get("/v1/kv-demo/data/app"));
          REQUIRE(answer.has_value());
          REQUIRE(answer->status == 200);
        }
      },
      &server);
  CHECK(server.requests().size() == 100);
  CHECK(server.accepted() <= 2);
  CHECK(client.stats().connections_opened == server.accepted());
  CHECK(client.stats().requests_sent == 100);
}

TEST_CASE("beast_client: an idle connection is closed after the idle timeout, then a new one opens",
          "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  core::manual_clock clock;
  vault::beast_client client{io.get_executor(), settings_for(server.address()), clock, no_jitter()};

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto answer_a = co_await client.async_send(get("/v1/a"));
        REQUIRE(answer_a.has_value());
        clock.advance(29s);  // under the 30 s idle timeout: reused
        const auto answer_b = co_await client.async_send(get("/v1/b"));
        REQUIRE(answer_b.has_value());
        CHECK(server.accepted() == 1);

        clock.advance(31s);
        const auto answer_c = co_await client.async_send(get("/v1/c"));
        REQUIRE(answer_c.has_value());
        co_await settle([&] { return server.closed_by_peer() >= 1; });
        CHECK(server.accepted() == 2);
        CHECK(server.closed_by_peer() == 1);  // the client closed the expired one
      },
      &server);
  CHECK(client.stats().connections_opened == 2);
  CHECK(client.stats().stale_retries == 0);
}

TEST_CASE("beast_client: an answer with Connection close is not pooled", "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  server.script({.action = scripted_reply::kind::answer,
                 .status = 204,
                 .body = "",
                 .headers = {},
                 .delay = {},
                 .keep_alive = false});
  core::manual_clock clock;
  vault::beast_client client{io.get_executor(), settings_for(server.address()), clock, no_jitter()};

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto first = co_await client.async_send(get("/v1/a"));
        REQUIRE(first.has_value());
        CHECK(first->status == 204);
        const auto answer_b = co_await client.async_send(get("/v1/b"));
        REQUIRE(answer_b.has_value());
      },
      &server);
  CHECK(server.accepted() == 2);
  CHECK(client.stats().stale_retries == 0);
}

TEST_CASE("beast_client: the deadline ends a slow request with timeout, not retried", "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  server.script({.action = scripted_reply::kind::answer,
                 .status = 200,
                 .body = "{}",
                 .headers = {},
                 .delay = 5s,
                 .keep_alive = true});
  core::manual_clock clock;
  auto settings = settings_for(server.address());
  settings.request_timeout = 300ms;
  vault::beast_client client{io.get_executor(), settings, clock, no_jitter(), fast_retries()};

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto started = std::chrono::steady_clock::now();
        const auto answer = co_await client.async_send(get("/v1/slow"));
        const auto elapsed = std::chrono::steady_clock::now() - started;
        REQUIRE_FALSE(answer.has_value());
        CHECK(answer.error() == errc::timeout);
        CHECK(elapsed >= 250ms);
        CHECK(elapsed < 2s);
      },
      &server);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("beast_client: a refused port is unreachable, after the read retries", "[vault]") {
  net::io_context io;
  const auto port = closed_port(io);
  core::manual_clock clock;
  auto settings = settings_for("http://127.0.0.1:" + std::to_string(port));
  settings.max_retries = 2;
  vault::beast_client client{io.get_executor(), settings, clock, no_jitter(), fast_retries()};

  run(io, [&]() -> net::awaitable<void> {
    const auto answer = co_await client.async_send(get("/v1/sys/health"));
    REQUIRE_FALSE(answer.has_value());
    CHECK(answer.error() == errc::unreachable);
    const auto write = co_await client.async_send(post("/v1/kv/x", "{}"));
    REQUIRE_FALSE(write.has_value());
    CHECK(write.error() == errc::unreachable);
  });
  CHECK(client.stats().retries == 2);  // the GET only
  CHECK(client.stats().connections_opened == 0);
}

TEST_CASE("beast_client: a GET is retried on 503 until it succeeds", "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  server.script(503, 2);
  core::manual_clock clock;
  vault::beast_client client{io.get_executor(), settings_for(server.address()), clock, no_jitter(),
                             fast_retries()};

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto answer = co_await client.async_send(get("/v1/kv-demo/data/app"));
        REQUIRE(answer.has_value());
        CHECK(answer->status == 200);
      },
      &server);
  CHECK(server.requests().size() == 3);
  CHECK(client.stats().retries == 2);
  CHECK(client.stats().requests_sent == 3);
}

TEST_CASE("beast_client: a POST answered 503 is not retried", "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  server.script(503);
  core::manual_clock clock;
  vault::beast_client client{io.get_executor(), settings_for(server.address()), clock, no_jitter(),
                             fast_retries()};

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto answer = co_await client.async_send(post("/v1/kv/x", R"({"a":1})"));
        REQUIRE(answer.has_value());
        CHECK(answer->status == 503);
      },
      &server);
  CHECK(server.requests().size() == 1);
  CHECK(client.stats().retries == 0);
}

TEST_CASE("beast_client: a GET answered 501 is not retried", "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  server.script(501);
  core::manual_clock clock;
  vault::beast_client client{io.get_executor(), settings_for(server.address()), clock, no_jitter(),
                             fast_retries()};

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto answer = co_await client.async_send(get("/v1/sys/health"));
        REQUIRE(answer.has_value());
        CHECK(answer->status == 501);
      },
      &server);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("beast_client: max_retries bounds the repeats, then the last answer is returned",
          "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  server.script(429, 10);
  core::manual_clock clock;
  auto settings = settings_for(server.address());
  settings.max_retries = 2;
  vault::beast_client client{io.get_executor(), settings, clock, no_jitter(), fast_retries()};

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto answer = co_await client.async_send(get("/v1/kv-demo/data/app"));
        REQUIRE(answer.has_value());
        CHECK(answer->status == 429);
      },
      &server);
  CHECK(server.requests().size() == 3);
  CHECK(client.stats().retries == 2);
}

TEST_CASE("beast_client: a redirect is returned, not followed", "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  server.script({.action = scripted_reply::kind::answer,
                 .status = 307,
                 .body = "",
                 .headers = {{"Location", "https://active.vault:8200/v1/kv/x"}},
                 .delay = {},
                 .keep_alive = true});
  core::manual_clock clock;
  vault::beast_client client{io.get_executor(), settings_for(server.address()), clock, no_jitter(),
                             fast_retries()};

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto answer = co_await client.async_send(get("/v1/kv/x"));
        REQUIRE(answer.has_value());
        CHECK(answer->status == 307);
        CHECK(header(*answer, "Location") == "https://active.vault:8200/v1/kv/x");
      },
      &server);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("beast_client: a body over the limit is response_too_large", "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  server.script({.action = scripted_reply::kind::answer,
                 .status = 200,
                 .body = std::string(4096, 'x'),
                 .headers = {},
                 .delay = {},
                 .keep_alive = true});
  core::manual_clock clock;
  auto limits = fast_retries();
  limits.max_body = 1024;
  vault::beast_client client{io.get_executor(), settings_for(server.address()), clock, no_jitter(),
                             limits};

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto answer = co_await client.async_send(get("/v1/big"));
        REQUIRE_FALSE(answer.has_value());
        CHECK(answer.error() == errc::response_too_large);
      },
      &server);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("beast_client: bytes that are not HTTP are malformed_response", "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  server.script({.action = scripted_reply::kind::garbage,
                 .status = 0,
                 .body = "",
                 .headers = {},
                 .delay = {},
                 .keep_alive = true});
  core::manual_clock clock;
  vault::beast_client client{io.get_executor(), settings_for(server.address()), clock, no_jitter(),
                             fast_retries()};

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto answer = co_await client.async_send(get("/v1/x"));
        REQUIRE_FALSE(answer.has_value());
        CHECK(answer.error() == errc::malformed_response);
      },
      &server);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("beast_client: closed without an answer is unreachable; a GET is retried, a POST not",
          "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  const scripted_reply hang_up{.action = scripted_reply::kind::close,
                               .status = 0,
                               .body = "",
                               .headers = {},
                               .delay = {},
                               .keep_alive = true};
  server.script(hang_up);
  server.script(hang_up);
  core::manual_clock clock;
  vault::beast_client client{io.get_executor(), settings_for(server.address()), clock, no_jitter(),
                             fast_retries()};

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto write = co_await client.async_send(post("/v1/kv/x", "{}"));
        REQUIRE_FALSE(write.has_value());
        CHECK(write.error() == errc::unreachable);
        CHECK(server.requests().size() == 1);

        const auto read = co_await client.async_send(get("/v1/kv/x"));
        REQUIRE(read.has_value());
        CHECK(read->status == 200);
      },
      &server);
  CHECK(server.requests().size() == 3);
  CHECK(client.stats().retries == 1);
  CHECK(client.stats().stale_retries == 0);
}

TEST_CASE(
    "beast_client: a pooled connection closed before answering is retried once fresh, even "
    "for a POST",
    "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  server.script(200);
  server.script({.action = scripted_reply::kind::close,
                 .status = 0,
                 .body = "",
                 .headers = {},
                 .delay = {},
                 .keep_alive = true});
  core::manual_clock clock;
  vault::beast_client client{io.get_executor(), settings_for(server.address()), clock, no_jitter(),
                             fast_retries()};

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto answer_a = co_await client.async_send(get("/v1/a"));
        REQUIRE(answer_a.has_value());
        const auto write = co_await client.async_send(post("/v1/kv/x", "{}"));
        REQUIRE(write.has_value());
        CHECK(write->status == 200);
      },
      &server);
  CHECK(server.accepted() == 2);
  CHECK(server.requests().size() == 3);
  CHECK(client.stats().stale_retries == 1);
  CHECK(client.stats().retries == 0);
}

TEST_CASE("beast_client: past max connections, requests wait for a slot", "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  for (int i = 0; i < 6; ++i) {
    server.script({.action = scripted_reply::kind::answer,
                   .status = 200,
                   .body = "{}",
                   .headers = {},
                   .delay = 50ms,
                   .keep_alive = true});
  }
  core::manual_clock clock;
  auto limits = fast_retries();
  limits.max_connections = 2;
  vault::beast_client client{io.get_executor(), settings_for(server.address()), clock, no_jitter(),
                             limits};

  int succeeded = 0;
  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto executor = co_await net::this_coro::executor;
        for (int i = 0; i < 6; ++i) {
          net::co_spawn(executor, client.async_send(get("/v1/kv/" + std::to_string(i))),
                        [&](std::exception_ptr e, result<vault::response> answer) {
                          if (!e && answer && answer->status == 200) ++succeeded;
                        });
        }
        co_await settle([&] { return server.requests().size() == 6 && succeeded == 6; });
      },
      &server);
  CHECK(succeeded == 6);
  CHECK(server.accepted() == 2);
  CHECK(client.stats().connections_opened == 2);
}

TEST_CASE("beast_client: refuses a bad address or unreadable TLS files at construction",
          "[vault]") {
  net::io_context io;
  core::manual_clock clock;
  auto bad_address = settings_for("vault.example.com:8200");
  CHECK_THROWS_WITH(vault::beast_client(io.get_executor(), bad_address, clock, no_jitter()),
                    Catch::Contains("vault.address"));

  auto missing_ca = settings_for("https://127.0.0.1:8200");
  missing_ca.ca_cert = "/nonexistent/ca.pem";
  CHECK_THROWS_WITH(vault::beast_client(io.get_executor(), missing_ca, clock, no_jitter()),
                    Catch::Contains("vault.ca_cert") && Catch::Contains("/nonexistent/ca.pem"));

  auto half_mtls = settings_for("https://127.0.0.1:8200");
  half_mtls.client_cert = "/nonexistent/client.pem";
  CHECK_THROWS_WITH(vault::beast_client(io.get_executor(), half_mtls, clock, no_jitter()),
                    Catch::Contains("client_key"));
}

TEST_CASE("beast_client: TLS with the right CA works and reuses the connection", "[vault]") {
  const test_pki pki;
  net::io_context io;
  fake_vault_server server{
      io, vault_test::server_tls{
              .cert = pki.path("server.pem"), .key = pki.path("server.key"), .client_ca = ""}};
  core::manual_clock clock;
  auto settings = settings_for(server.address());
  settings.ca_cert = pki.path("ca.pem");
  vault::beast_client client{io.get_executor(), settings, clock, no_jitter(), fast_retries()};

  run(
      io,
      [&]() -> net::awaitable<void> {
        for (int i = 0; i < 3; ++i) {
          const auto answer = co_await client.async_send(get("/v1/sys/health"));
          REQUIRE(answer.has_value());
          CHECK(answer->status == 200);
        }
      },
      &server);
  CHECK(server.accepted() == 1);
  CHECK(server.requests().size() == 3);
}

TEST_CASE("beast_client: TLS with the wrong CA is tls_failure and the log names the problem",
          "[vault]") {
  const test_pki pki;
  net::io_context io;
  fake_vault_server server{
      io, vault_test::server_tls{
              .cert = pki.path("server.pem"), .key = pki.path("server.key"), .client_ca = ""}};
  core::manual_clock clock;
  auto settings = settings_for(server.address());
  settings.ca_cert = pki.path("other_ca.pem");
  vault::beast_client client{io.get_executor(), settings, clock, no_jitter(), fast_retries()};
  const log_capture log;

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto answer = co_await client.async_send(get("/v1/sys/health"));
        REQUIRE_FALSE(answer.has_value());
        CHECK(answer.error() == errc::tls_failure);
      },
      &server);
  CHECK(server.requests().empty());
  CHECK(server.accepted() == 1);  // a certificate problem is not retried
  CHECK_THAT(log.text(), Catch::Contains("certificate verify failed") &&
                             Catch::Contains("unable to get local issuer certificate"));
}

TEST_CASE("beast_client: tls_server_name is the name the certificate is checked against",
          "[vault]") {
  const test_pki pki;
  net::io_context io;
  fake_vault_server server{
      io, vault_test::server_tls{
              .cert = pki.path("server.pem"), .key = pki.path("server.key"), .client_ca = ""}};
  core::manual_clock clock;
  auto matching = settings_for(server.address());
  matching.ca_cert = pki.path("ca.pem");
  matching.tls_server_name = "vault.test";
  auto other = matching;
  other.tls_server_name = "other.test";
  vault::beast_client good{io.get_executor(), matching, clock, no_jitter(), fast_retries()};
  vault::beast_client bad{io.get_executor(), other, clock, no_jitter(), fast_retries()};
  const log_capture log;

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto answer = co_await good.async_send(get("/v1/sys/health"));
        REQUIRE(answer.has_value());
        CHECK(answer->status == 200);
        const auto refused = co_await bad.async_send(get("/v1/sys/health"));
        REQUIRE_FALSE(refused.has_value());
        CHECK(refused.error() == errc::tls_failure);
      },
      &server);
  CHECK_THAT(log.text(), Catch::Contains("other.test"));
}

TEST_CASE("beast_client: tls_skip_verify accepts an unknown CA and warns at construction",
          "[vault]") {
  const test_pki pki;
  net::io_context io;
  fake_vault_server server{
      io, vault_test::server_tls{
              .cert = pki.path("server.pem"), .key = pki.path("server.key"), .client_ca = ""}};
  core::manual_clock clock;
  auto settings = settings_for(server.address());
  settings.ca_cert = pki.path("other_ca.pem");
  settings.tls_skip_verify = true;
  const log_capture log;
  vault::beast_client client{io.get_executor(), settings, clock, no_jitter(), fast_retries()};
  CHECK_THAT(log.text(), Catch::Contains("tls_skip_verify") && Catch::Contains("NOT verified"));

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto answer = co_await client.async_send(get("/v1/sys/health"));
        REQUIRE(answer.has_value());
        CHECK(answer->status == 200);
      },
      &server);
}

TEST_CASE("beast_client: mTLS works with the client certificate and fails without", "[vault]") {
  const test_pki pki;
  net::io_context io;
  fake_vault_server server{io, vault_test::server_tls{.cert = pki.path("server.pem"),
                                                      .key = pki.path("server.key"),
                                                      .client_ca = pki.path("ca.pem")}};
  core::manual_clock clock;
  auto with_cert = settings_for(server.address());
  with_cert.ca_cert = pki.path("ca.pem");
  auto without_cert = with_cert;
  with_cert.client_cert = pki.path("client.pem");
  with_cert.client_key = pki.path("client.key");
  vault::beast_client good{io.get_executor(), with_cert, clock, no_jitter(), fast_retries()};
  vault::beast_client bad{io.get_executor(), without_cert, clock, no_jitter(), fast_retries()};

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto answer = co_await good.async_send(get("/v1/sys/health"));
        REQUIRE(answer.has_value());
        CHECK(answer->status == 200);
        const auto refused = co_await bad.async_send(get("/v1/sys/health"));
        REQUIRE_FALSE(refused.has_value());
        CHECK(refused.error() == errc::tls_failure);
      },
      &server);
  CHECK(server.requests().size() == 1);
  CHECK(server.handshake_failures() >= 1);
}

TEST_CASE("beast_client: an answer followed by bytes past its Content-Length is not pooled",
          "[vault]") {
  // The Vault double announces half the body and sends all of it: the rest sits in the
  // connection's buffer and would be read as the start of the next answer.
  testing::vault_double double_vault;
  double_vault.corrupt_next("/v1/sys/health", 1, testing::corruption::short_content_length);
  net::io_context io;
  core::manual_clock clock;
  vault::beast_client client{io.get_executor(), settings_for(double_vault.address()), clock,
                             no_jitter()};

  run(io, [&]() -> net::awaitable<void> {
    const auto cut = co_await client.async_send(get("/v1/sys/health"));
    REQUIRE(cut.has_value());  // the framing says this much is the answer
    CHECK(cut->status == 200);
    const auto next = co_await client.async_send(get("/v1/sys/health"));
    REQUIRE(next.has_value());
    CHECK(next->status == 200);
    CHECK(nlohmann::json::parse(next->body.reveal())["initialized"] == true);
  });
  CHECK(double_vault.connections_accepted() == 2);
  CHECK(client.stats().connections_opened == 2);
}

TEST_CASE("beast_client: a 429 with Retry-After is not retried and pauses reads, not writes",
          "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  server.script({.action = scripted_reply::kind::answer,
                 .status = 429,
                 .body = R"({"errors":["request path \"kv/x\": rate limit quota exceeded"]})",
                 .headers = {{"Retry-After", "6"}},
                 .delay = 0ms,
                 .keep_alive = true});
  core::manual_clock clock;
  vault::beast_client client{io.get_executor(), settings_for(server.address()), clock, no_jitter(),
                             fast_retries()};

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto vaults = co_await client.async_send(get("/v1/kv/x"));
        REQUIRE(vaults.has_value());
        CHECK(vaults->status == 429);
        CHECK_FALSE(vaults->local);
        CHECK(server.requests().size() == 1);  // never retried before Retry-After

        clock.advance(2s);
        const auto local = co_await client.async_send(get("/v1/kv/y"));
        REQUIRE(local.has_value());
        CHECK(local->status == 429);
        CHECK(local->local);
        CHECK(header(*local, "Retry-After") == "4");
        CHECK(nlohmann::json::parse(local->body.reveal())["errors"].size() == 1);
        CHECK(server.requests().size() == 1);  // nothing sent while paused

        // Writes and logins are not reads: they go.
        const auto write = co_await client.async_send(post("/v1/kv/x", R"({"a":1})"));
        const auto login = co_await client.async_send(post("/v1/auth/approle/login", "{}"));
        CHECK(write->status == 200);
        CHECK(login->status == 200);
        CHECK(server.requests().size() == 3);

        clock.advance(4s);  // the pause is over
        const auto after = co_await client.async_send(get("/v1/kv/y"));
        CHECK(after->status == 200);
        CHECK_FALSE(after->local);
      },
      &server);
  CHECK(server.requests().size() == 4);
  CHECK(client.gate().stats().pauses == 1);
  CHECK(client.gate().stats().paused_refusals == 1);
  CHECK(client.stats().retries == 0);
}

TEST_CASE("beast_client: a renewal waits out a pause when the token has time, else goes at once",
          "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  server.script({.action = scripted_reply::kind::answer,
                 .status = 503,
                 .body = R"({"errors":["Vault is sealed"]})",
                 .headers = {{"Retry-After", "1"}},
                 .delay = 0ms,
                 .keep_alive = true});
  server.script(503);  // for the second pause
  core::system_clock clock;
  auto settings = settings_for(server.address());
  settings.request_timeout = 2s;
  settings.max_retries = 0;
  vault::beast_client client{io.get_executor(), settings, clock, no_jitter(), fast_retries()};
  auto expiry = clock.now() + 1h;
  client.set_token_expiry([&] { return expiry; });

  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto sealed = co_await client.async_send(get("/v1/kv/x"));
        REQUIRE(sealed->status == 503);
        const auto started = std::chrono::steady_clock::now();
        const auto waited = co_await client.async_send(post("/v1/auth/token/renew-self", ""));
        CHECK(waited->status == 503);  // the second scripted answer: it was sent, after the pause
        CHECK(std::chrono::steady_clock::now() - started >= 900ms);
      },
      &server);
  CHECK(server.requests().size() == 2);

  // The token expires before the pause would end plus request_timeout: sent at once.
  net::io_context io2;
  fake_vault_server server2{io2};
  server2.script({.action = scripted_reply::kind::answer,
                  .status = 429,
                  .body = R"({"errors":["rate limit quota exceeded"]})",
                  .headers = {{"Retry-After", "60"}},
                  .delay = 0ms,
                  .keep_alive = true});
  vault::beast_client client2{io2.get_executor(), settings_for(server2.address()), clock,
                              no_jitter(), fast_retries()};
  expiry = clock.now() + 30s;
  client2.set_token_expiry([&] { return expiry; });
  run(
      io2,
      [&]() -> net::awaitable<void> {
        const auto limited = co_await client2.async_send(get("/v1/kv/x"));
        REQUIRE(limited->status == 429);
        const auto started = std::chrono::steady_clock::now();
        const auto renewed = co_await client2.async_send(post("/v1/auth/token/renew-self", ""));
        CHECK(renewed->status == 200);
        CHECK_FALSE(renewed->local);
        CHECK(std::chrono::steady_clock::now() - started < 1s);
      },
      &server2);
  CHECK(server2.requests().size() == 2);
}

TEST_CASE("beast_client: past rate_limit within request_timeout a request gets a local 429",
          "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  core::system_clock clock;  // the budget refills in real time here
  auto settings = settings_for(server.address());
  settings.rate_limit = 2;
  settings.request_timeout = 1s;
  vault::beast_client client{io.get_executor(), settings, clock, no_jitter(), fast_retries()};

  int ok = 0;
  int refused = 0;
  int answered = 0;
  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto executor = co_await net::this_coro::executor;
        for (int i = 0; i < 6; ++i) {
          net::co_spawn(executor, client.async_send(get("/v1/kv/" + std::to_string(i))),
                        [&](std::exception_ptr e, result<vault::response> answer) {
                          ++answered;
                          if (e || !answer) return;
                          if (answer->status == 200) ++ok;
                          if (answer->status == 429 && answer->local &&
                              header(*answer, "Retry-After") == "1") {
                            ++refused;
                          }
                        });
        }
        // A login never waits for budget, even with the bucket empty.
        const auto login = co_await client.async_send(post("/v1/auth/approle/login", "{}"));
        CHECK(login->status == 200);
        CHECK(answered <= 2);  // only the burst was answered: the others still wait for budget
        co_await settle([&] { return answered == 6; });
      },
      &server);
  CHECK(answered == 6);
  CHECK(ok + refused == 6);
  CHECK(refused >= 1);  // a burst of 2, then 2 per second for 1 s: at most 4 or 5 go
  CHECK(ok <= 5);
  CHECK(server.requests().size() == static_cast<std::size_t>(ok) + 1);
  CHECK(client.gate().stats().budget_refusals == static_cast<std::size_t>(refused));
}

TEST_CASE("beast_client: max_concurrent_requests holds the others until one is answered",
          "[vault]") {
  net::io_context io;
  fake_vault_server server{io};
  for (int i = 0; i < 4; ++i) {
    server.script({.action = scripted_reply::kind::answer,
                   .status = 200,
                   .body = "{}",
                   .headers = {},
                   .delay = 50ms,
                   .keep_alive = true});
  }
  core::system_clock clock;
  auto settings = settings_for(server.address());
  settings.max_concurrent_requests = 1;
  vault::beast_client client{io.get_executor(), settings, clock, no_jitter(), fast_retries()};

  int succeeded = 0;
  int most_in_flight = 0;
  run(
      io,
      [&]() -> net::awaitable<void> {
        const auto executor = co_await net::this_coro::executor;
        for (int i = 0; i < 4; ++i) {
          net::co_spawn(executor, client.async_send(get("/v1/kv/" + std::to_string(i))),
                        [&](std::exception_ptr e, result<vault::response> answer) {
                          if (!e && answer && answer->status == 200) ++succeeded;
                        });
        }
        co_await settle([&] {
          most_in_flight = std::max(most_in_flight, client.gate().in_flight());
          return succeeded == 4;
        });
      },
      &server);
  CHECK(succeeded == 4);
  CHECK(most_in_flight == 1);
  CHECK(client.stats().connections_opened == 1);  // one at a time: one connection is enough
}

TEST_CASE("beast_client: a 429 without Retry-After, or with 0, is retried after a backoff",
          "[vault]") {
  for (const char* retry_after : {"", "0", "soon"}) {
    INFO("Retry-After \"" << retry_after << "\"");
    net::io_context io;
    fake_vault_server server{io};
    std::vector<std::pair<std::string, std::string>> headers;
    if (*retry_after != '\0') headers.emplace_back("Retry-After", retry_after);
    server.script({.action = scripted_reply::kind::answer,
                   .status = 429,
                   .body = R"({"errors":["rate limit quota exceeded"]})",
                   .headers = headers,
                   .delay = 0ms,
                   .keep_alive = true});
    core::manual_clock clock;
    auto limits = fast_retries();
    limits.retry_initial = 40ms;
    vault::beast_client client{io.get_executor(), settings_for(server.address()), clock,
                               no_jitter(), limits};
    run(
        io,
        [&]() -> net::awaitable<void> {
          const auto started = std::chrono::steady_clock::now();
          const auto answer = co_await client.async_send(get("/v1/kv/x"));
          CHECK(answer->status == 200);  // the retry got the default answer
          CHECK(std::chrono::steady_clock::now() - started >= 40ms);  // not at once
        },
        &server);
    CHECK(server.requests().size() == 2);
    CHECK(client.stats().retries == 1);
    CHECK(client.gate().stats().pauses == 0);
  }
}
