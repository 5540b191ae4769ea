#include <sidecar/core/log.hpp>
#include <sidecar/metrics/registry.hpp>
#include <sidecar/proxy/errc.hpp>
#include <sidecar/proxy/server.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include "exposition_parser.hpp"
#include "http_test_client.hpp"
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace sidecar;
using namespace std::chrono_literals;
using proxy::testing::http_test_client;

namespace {

// Answers 200 with what it was asked, after an optional delay; counts its calls.
class fake_handler final : public proxy::request_handler {
 public:
  net::awaitable<proxy::handler_answer> async_handle(
      const string_request& request, const proxy::route_decision& decision) override {
    ++calls;
    {
      const std::lock_guard lock{mutex_};
      paths_.push_back(decision.target.path);
    }
    if (delay.count() > 0) {
      steady_timer timer{co_await net::this_coro::executor};
      timer.expires_after(delay);
      co_await timer.async_wait();
    }
    string_response response{status.load(), 11};
    response.set(http::field::content_type, "application/json");
    response.body() = nlohmann::json{{"data",
                                      {{"path", decision.target.path},
                                       {"route", std::string{proxy::to_string(decision.kind)}},
                                       {"body_size", request.body().size()}}}}
                          .dump();
    co_return response;
  }

  std::vector<std::string> paths() {
    const std::lock_guard lock{mutex_};
    return paths_;
  }

  std::atomic<int> calls{0};
  std::chrono::milliseconds delay{0};
  std::atomic<http::status> status{http::status::ok};

 private:
  std::mutex mutex_;
  std::vector<std::string> paths_;
};

proxy::listener_limits short_limits() {
  proxy::listener_limits limits;
  limits.header_timeout = 1s;
  limits.body_timeout = 2s;
  limits.write_timeout = 2s;
  limits.idle_timeout = 3s;
  limits.linger_timeout = 1s;
  limits.shutdown_grace = 2s;
  return limits;
}

config::listener_config tcp_listener() {
  config::listener_config listener;
  listener.address = "127.0.0.1:0";
  return listener;
}

struct temp_dir {
  temp_dir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "sidecar-proxy-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::filesystem::path path;
};

config::listener_config unix_listener(const temp_dir& dir, unsigned mode = 0660) {
  config::listener_config listener;
  listener.address.clear();
  listener.unix_socket = (dir.path / "sidecar.sock").string();
  listener.socket_mode = mode;
  return listener;
}

// A server on its own io_context, run by `threads` threads until stopped.
struct test_server {
  explicit test_server(config::listener_config listener,
                       proxy::listener_limits limits = short_limits(),
                       config::proxy_config proxy_config = {}, int thread_count = 1)
      : context(thread_count),
        server(context.get_executor(), std::move(listener), std::move(proxy_config), limits,
               handler, registry),
        threads_wanted(thread_count) {}

  ~test_server() { stop(); }

  void start() {
    const auto started = server.start();
    REQUIRE(started.has_value());
    for (int i = 0; i < threads_wanted; ++i) threads.emplace_back([this] { context.run(); });
  }

  // Stops and waits until every session has ended and the io_context ran out of work.
  void stop() {
    server.stop();
    for (auto& t : threads) t.join();
    threads.clear();
  }

  std::uint16_t port() const { return server.tcp_endpoint()->port(); }
  http_test_client connect() const { return http_test_client::connect_tcp(port()); }
  metrics::testing::exposition scrape() const {
    return metrics::testing::parse_exposition(registry.render());
  }

  net::io_context context;
  metrics::registry registry;
  fake_handler handler;
  proxy::server server;
  int threads_wanted;
  std::vector<std::thread> threads;
};

std::string errors_of(const proxy::testing::http_answer& answer) {
  const auto body = nlohmann::json::parse(answer.body);
  REQUIRE(body.contains("errors"));
  REQUIRE(body["errors"].is_array());
  REQUIRE(body["errors"].size() == 1);
  return body["errors"][0].get<std::string>();
}

}  // namespace

TEST_CASE("server: keep-alive serves several requests on one connection", "[proxy]") {
  test_server s{tcp_listener()};
  s.start();
  auto client = s.connect();
  for (const auto* name : {"a", "b", "c"}) {
    const auto answer = client.request("GET", std::string{"/v1/kv-demo/data/"} + name);
    REQUIRE(answer.has_value());
    CHECK(answer->status == 200);
    CHECK(answer->version == "HTTP/1.1");
    CHECK(nlohmann::json::parse(answer->body)["data"]["path"] ==
          std::string{"/v1/kv-demo/data/"} + name);
  }
  CHECK(s.handler.paths() ==
        std::vector<std::string>{"/v1/kv-demo/data/a", "/v1/kv-demo/data/b", "/v1/kv-demo/data/c"});
  const auto metrics = s.scrape();
  CHECK(metrics.value("vault_sidecar_requests_total", {{"route", "kv_read"}, {"code", "200"}}) ==
        3.0);
  CHECK(metrics.value("vault_sidecar_listener_connections_accepted_total") == 1.0);
  CHECK(metrics.value("vault_sidecar_listener_open_connections") == 1.0);
  CHECK(metrics.value("vault_sidecar_request_duration_seconds_count", {{"route", "kv_read"}}) ==
        3.0);
}

TEST_CASE("server: HTTP/1.0 is answered in 1.0 and the connection closed", "[proxy]") {
  test_server s{tcp_listener()};
  s.start();
  auto client = s.connect();
  REQUIRE(client.send("GET /v1/kv-demo/data/x HTTP/1.0\r\n\r\n"));
  const auto answer = client.read_answer();
  REQUIRE(answer.has_value());
  CHECK(answer->version == "HTTP/1.0");
  CHECK(answer->status == 200);
  CHECK(client.closed_by_peer());
}

TEST_CASE("server: HEAD gets the GET headers and no body", "[proxy]") {
  test_server s{tcp_listener()};
  s.start();
  auto client = s.connect();
  const auto get = client.request("GET", "/v1/kv-demo/data/x");
  REQUIRE(get.has_value());
  const auto head = client.request("HEAD", "/v1/kv-demo/data/x");
  REQUIRE(head.has_value());
  CHECK(head->status == 200);
  CHECK(head->header("content-length") == std::to_string(get->body.size()));
  // Had a body been written, this answer's status line would be garbage.
  const auto after = client.request("GET", "/v1/kv-demo/data/y");
  REQUIRE(after.has_value());
  CHECK(after->status == 200);
}

TEST_CASE("server: a 204 from the handler goes out without a body", "[proxy]") {
  test_server s{tcp_listener()};
  s.handler.status = http::status::no_content;
  s.start();
  auto client = s.connect();
  const auto answer = client.request("GET", "/v1/kv-demo/data/x");
  REQUIRE(answer.has_value());
  CHECK(answer->status == 204);
  CHECK(answer->header("content-length").empty());
  // Nothing stray on the wire: the next answer parses.
  s.handler.status = http::status::ok;
  const auto next = client.request("GET", "/v1/kv-demo/data/y");
  REQUIRE(next.has_value());
  CHECK(next->status == 200);
}

TEST_CASE("server: a body over the limit is 413 and never reaches the handler", "[proxy]") {
  config::proxy_config writes;
  writes.forward_writes = true;
  test_server s{tcp_listener(), short_limits(), writes};
  s.start();

  SECTION("announced by Content-Length") {
    auto client = s.connect();
    const std::string body(2 * 1024 * 1024, 'x');
    const auto answer = client.request("PUT", "/v1/kv-demo/data/big", {}, body);
    REQUIRE(answer.has_value());
    CHECK(answer->status == 413);
    CHECK(errors_of(*answer) == "request body too large");
    CHECK(client.closed_by_peer());
    CHECK(s.handler.calls == 0);
  }
  SECTION("chunked") {
    auto client = s.connect();
    std::string request =
        "PUT /v1/kv-demo/data/big HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: "
        "chunked\r\n\r\n";
    const std::string chunk(64 * 1024, 'y');
    for (int i = 0; i < 32; ++i) request += "10000\r\n" + chunk + "\r\n";
    request += "0\r\n\r\n";
    client.send(request);  // the server may stop reading early
    const auto answer = client.read_answer();
    REQUIRE(answer.has_value());
    CHECK(answer->status == 413);
    CHECK(s.handler.calls == 0);
  }
  SECTION("a body at the limit is accepted") {
    auto client = s.connect();
    const auto answer =
        client.request("PUT", "/v1/kv-demo/data/ok", {}, std::string(1024 * 1024, 'z'));
    REQUIRE(answer.has_value());
    CHECK(answer->status == 200);
    CHECK(nlohmann::json::parse(answer->body)["data"]["body_size"] == 1024 * 1024);
    CHECK(s.handler.paths() == std::vector<std::string>{"/v1/kv-demo/data/ok"});
  }
}

TEST_CASE("server: Expect 100-continue gets an interim answer", "[proxy]") {
  config::proxy_config writes;
  writes.forward_writes = true;
  test_server s{tcp_listener(), short_limits(), writes};
  s.start();
  auto client = s.connect();
  REQUIRE(
      client.send("PUT /v1/kv-demo/data/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
                  "Expect: 100-continue\r\n\r\n"));
  const auto interim = client.read_answer();
  REQUIRE(interim.has_value());
  CHECK(interim->status == 100);
  REQUIRE(client.send("hello"));
  const auto answer = client.read_answer();
  REQUIRE(answer.has_value());
  CHECK(answer->status == 200);
  CHECK(nlohmann::json::parse(answer->body)["data"]["body_size"] == 5);
}

TEST_CASE("server: an oversized header is 431", "[proxy]") {
  test_server s{tcp_listener()};
  s.start();
  auto client = s.connect();
  const auto answer =
      client.request("GET", "/v1/kv-demo/data/x", {"X-Big: " + std::string(20 * 1024, 'h')});
  REQUIRE(answer.has_value());
  CHECK(answer->status == 431);
  CHECK(errors_of(*answer) == "request header fields too large");
  CHECK(s.handler.calls == 0);
}

TEST_CASE("server: malformed HTTP is 400", "[proxy]") {
  test_server s{tcp_listener()};
  s.start();
  for (const auto* garbage :
       {"GET /v1/kv-demo/x HTTP/9.9\r\n\r\n", "GET /v1/kv-demo/x HTTP/1.1\r\nBad Header\r\n\r\n",
        "GET /v1/kv-demo/x HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"}) {
    INFO(garbage);
    auto client = s.connect();
    REQUIRE(client.send(garbage));
    const auto answer = client.read_answer();
    REQUIRE(answer.has_value());
    CHECK(answer->status == 400);
    CHECK(client.closed_by_peer());
  }
  CHECK(s.handler.calls == 0);
}

TEST_CASE("server: a client trickling its header is cut off by the header timeout", "[proxy]") {
  test_server s{tcp_listener()};  // header_timeout 1 s
  s.start();
  auto client = s.connect();
  const auto started = std::chrono::steady_clock::now();
  REQUIRE(client.send("GET /v1/kv-demo/data/x HTTP/1.1\r\n"));
  bool cut_off = false;
  while (std::chrono::steady_clock::now() - started < 8s) {
    if (!client.send("X") || client.closed_by_peer(100ms)) {
      cut_off = true;
      break;
    }
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(cut_off);
  CHECK(elapsed >= 900ms);
  CHECK(elapsed < 5s);
  CHECK(s.handler.calls == 0);
}

TEST_CASE("server: an idle keep-alive connection is closed after the idle timeout", "[proxy]") {
  auto limits = short_limits();
  limits.idle_timeout = 500ms;
  test_server s{tcp_listener(), limits};
  s.start();
  auto client = s.connect();
  REQUIRE(client.request("GET", "/v1/kv-demo/data/x").has_value());
  const auto started = std::chrono::steady_clock::now();
  CHECK(client.closed_by_peer(5s));
  CHECK(std::chrono::steady_clock::now() - started >= 400ms);
}

TEST_CASE("server: denied routes are answered by the listener, never the handler", "[proxy]") {
  auto listener = tcp_listener();
  listener.require_request_header = true;
  test_server s{listener};
  s.start();
  auto client = s.connect();

  auto answer = client.request("GET", "/v1/sys/mounts", {"X-Vault-Request: true"});
  REQUIRE(answer.has_value());
  CHECK(answer->status == 403);
  CHECK(answer->header("content-type") == "application/json");
  CHECK(errors_of(*answer).starts_with("permission denied"));

  answer = client.request("GET", "/v1/kv-demo/../sys/mounts", {"X-Vault-Request: true"});
  REQUIRE(answer.has_value());
  CHECK(answer->status == 403);

  answer = client.request("TRACE", "/v1/kv-demo/data/x", {"X-Vault-Request: true"});
  REQUIRE(answer.has_value());
  CHECK(answer->status == 405);
  CHECK(answer->header("allow") == "GET, HEAD, LIST");

  answer = client.request("GET", "/v1/kv-demo/a%00b", {"X-Vault-Request: true"});
  REQUIRE(answer.has_value());
  CHECK(answer->status == 400);

  answer = client.request("GET", "/v1/kv-demo/data/x");
  REQUIRE(answer.has_value());
  CHECK(answer->status == 412);
  CHECK(errors_of(*answer) == "missing \"X-Vault-Request\" header");

  // Still the same connection: refusals keep it alive.
  answer = client.request("GET", "/sidecar/v1/health");
  REQUIRE(answer.has_value());
  CHECK(answer->status == 200);
  answer = client.request("GET", "/v1/kv-demo/data/x", {"X-Vault-Request: true"});
  REQUIRE(answer.has_value());
  CHECK(answer->status == 200);

  CHECK(s.handler.paths() == std::vector<std::string>{"/sidecar/v1/health", "/v1/kv-demo/data/x"});
  const auto metrics = s.scrape();
  CHECK(metrics.value("vault_sidecar_requests_total", {{"route", "deny"}, {"code", "403"}}) == 2.0);
  CHECK(metrics.value("vault_sidecar_requests_total", {{"route", "deny"}, {"code", "412"}}) == 1.0);
  CHECK(metrics.sum("vault_sidecar_requests_total") == 7.0);
}

TEST_CASE("server: 2000 connections opened and closed leak no descriptors", "[proxy]") {
  test_server s{tcp_listener()};
  s.start();
  const auto before = proxy::testing::open_fd_count();
  for (int i = 0; i < 2000; ++i) {
    auto client = s.connect();
    if (i % 2 == 0) {
      const auto answer = client.request("GET", "/v1/kv-demo/data/x");
      REQUIRE(answer.has_value());
      REQUIRE(answer->status == 200);
    }
  }  // each client closes here; the server sees EOF
  auto after = proxy::testing::open_fd_count();
  for (int i = 0; i < 100 && after != before; ++i) {
    std::this_thread::sleep_for(50ms);
    after = proxy::testing::open_fd_count();
  }
  CHECK(after == before);
  const auto metrics = s.scrape();
  CHECK(metrics.value("vault_sidecar_listener_connections_accepted_total") == 2000.0);
  CHECK(metrics.value("vault_sidecar_listener_open_connections") == 0.0);
}

TEST_CASE("server: connections over max_connections are closed at once", "[proxy]") {
  auto limits = short_limits();
  limits.max_connections = 2;
  test_server s{tcp_listener(), limits};
  s.start();
  auto first = s.connect();
  auto second = s.connect();
  REQUIRE(first.request("GET", "/v1/kv-demo/data/1").has_value());
  REQUIRE(second.request("GET", "/v1/kv-demo/data/2").has_value());
  {
    auto third = s.connect();
    CHECK(third.closed_by_peer(2s));
  }
  first.close();
  // Once the first is gone, a new connection is served again.
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    auto again = s.connect();
    const auto answer = again.request("GET", "/v1/kv-demo/data/3");
    served = answer.has_value() && answer->status == 200;
    if (!served) std::this_thread::sleep_for(20ms);
  }
  CHECK(served);
  CHECK(s.scrape().value("vault_sidecar_listener_connections_refused_total").value() >= 1.0);
}

TEST_CASE("server: non-loopback addresses are refused", "[proxy]") {
  for (const auto* address : {"0.0.0.0:0", "10.1.2.3:8100", "[::]:0"}) {
    config::listener_config listener;
    listener.address = address;
    test_server s{listener};
    const auto started = s.server.start();
    REQUIRE_FALSE(started.has_value());
    CHECK(started.error() == proxy::errc::not_loopback);
  }
  config::listener_config bad;
  bad.address = "127.0.0.1";
  test_server s{bad};
  CHECK(s.server.start().error() == proxy::errc::invalid_listen_address);
}

TEST_CASE("server: unix socket has its mode, serves curl, and is removed at stop", "[proxy]") {
  temp_dir dir;
  const auto listener = unix_listener(dir, 0660);
  const auto path = listener.unix_socket;
  {
    test_server s{listener};
    s.start();
    struct stat info {};
    REQUIRE(::lstat(path.c_str(), &info) == 0);
    CHECK(S_ISSOCK(info.st_mode));
    CHECK((info.st_mode & 07777) == 0660);
    // No temporary name is left behind.
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path),
                        std::filesystem::directory_iterator{}) == 1);

    const auto curl = proxy::testing::run_curl(
        {"-sS", "--max-time", "10", "--unix-socket", path, "http://localhost/v1/kv-demo/data/x"});
    CHECK(curl.exit_code == 0);
    CHECK(nlohmann::json::parse(curl.output)["data"]["path"] == "/v1/kv-demo/data/x");

    auto client = http_test_client::connect_unix(path);
    const auto answer = client.request("GET", "/v1/sys/mounts");
    REQUIRE(answer.has_value());
    CHECK(answer->status == 403);
    s.stop();
    CHECK_FALSE(std::filesystem::exists(path));
  }
}

TEST_CASE("server: unix socket mode follows socket_mode", "[proxy]") {
  temp_dir dir;
  const auto listener = unix_listener(dir, 0600);
  test_server s{listener};
  s.start();
  struct stat info {};
  REQUIRE(::lstat(listener.unix_socket.c_str(), &info) == 0);
  CHECK((info.st_mode & 07777) == 0600);
}

TEST_CASE("server: a stale unix socket is replaced, a live one or a file is refused", "[proxy]") {
  temp_dir dir;
  const auto listener = unix_listener(dir);
  const auto& path = listener.unix_socket;

  SECTION("stale socket from a previous run") {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
    ::close(fd);  // the file stays, nobody listens
    REQUIRE(std::filesystem::exists(path));

    test_server s{listener};
    s.start();
    auto client = http_test_client::connect_unix(path);
    const auto answer = client.request("GET", "/v1/kv-demo/data/x");
    REQUIRE(answer.has_value());
    CHECK(answer->status == 200);
  }
  SECTION("live socket of another server") {
    test_server first{listener};
    first.start();
    test_server second{listener};
    const auto started = second.server.start();
    REQUIRE_FALSE(started.has_value());
    CHECK(started.error() == proxy::errc::socket_path_in_use);
    // The first one still serves on its socket.
    auto client = http_test_client::connect_unix(path);
    CHECK(client.request("GET", "/v1/kv-demo/data/x").has_value());
  }
  SECTION("a regular file is never clobbered") {
    std::ofstream{path} << "precious";
    test_server s{listener};
    const auto started = s.server.start();
    REQUIRE_FALSE(started.has_value());
    CHECK(started.error() == proxy::errc::socket_path_not_a_socket);
    std::ifstream in{path};
    std::string content;
    in >> content;
    CHECK(content == "precious");
  }
}

TEST_CASE("server: stop lets an in-flight request finish and closes idle connections", "[proxy]") {
  test_server s{tcp_listener()};
  s.handler.delay = 500ms;
  s.start();
  auto idle = s.connect();
  REQUIRE(idle.send("GET /v1/kv-demo/data/warm HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  REQUIRE(idle.read_answer().has_value());  // now idle in keep-alive

  auto busy = s.connect();
  REQUIRE(busy.send("GET /v1/kv-demo/data/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  while (s.handler.calls < 2) std::this_thread::sleep_for(5ms);
  const auto stop_started = std::chrono::steady_clock::now();
  std::thread stopper{[&] { s.stop(); }};
  const auto answer = busy.read_answer();
  REQUIRE(answer.has_value());
  CHECK(answer->status == 200);
  CHECK(answer->header("connection") == "close");
  CHECK(idle.closed_by_peer(2s));
  CHECK(busy.closed_by_peer(2s));
  stopper.join();
  // All of it well within the 2 s grace period.
  CHECK(std::chrono::steady_clock::now() - stop_started < 2s);
  CHECK_THROWS(s.connect());
}

TEST_CASE("server: stop cancels a handler still running after the grace period", "[proxy]") {
  auto limits = short_limits();
  limits.shutdown_grace = 200ms;
  test_server s{tcp_listener(), limits};
  s.handler.delay = 30s;
  s.start();
  auto client = s.connect();
  REQUIRE(client.send("GET /v1/kv-demo/data/stuck HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  while (s.handler.calls < 1) std::this_thread::sleep_for(5ms);
  const auto started = std::chrono::steady_clock::now();
  s.stop();
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK(client.closed_by_peer(1s));
}

TEST_CASE("server: two io threads serve concurrent clients", "[proxy]") {
  test_server s{tcp_listener(), short_limits(), {}, 2};
  s.start();
  constexpr int per_client = 200;
  std::atomic<int> ok{0};
  auto work = [&] {
    auto client = s.connect();
    for (int i = 0; i < per_client; ++i) {
      const auto answer = client.request("GET", "/v1/kv-demo/data/" + std::to_string(i));
      if (answer && answer->status == 200) ++ok;
    }
  };
  std::thread a{work};
  std::thread b{work};
  a.join();
  b.join();
  CHECK(ok == 2 * per_client);
  CHECK(s.scrape().value("vault_sidecar_requests_total", {{"route", "kv_read"}, {"code", "200"}}) ==
        2.0 * per_client);
}

TEST_CASE("server: a new allow list applies to the next request on an open connection", "[proxy]") {
  test_server s{tcp_listener()};  // default allow: /v1/kv-*, /v1/database/creds/*
  s.start();
  auto client = s.connect();
  auto before = client.request("GET", "/v1/secret/data/x");
  REQUIRE(before.has_value());
  CHECK(before->status == 403);

  config::proxy_config wider;
  wider.allow = {"/v1/secret/*"};
  s.server.apply_policy(wider, false);
  const auto after = client.request("GET", "/v1/secret/data/x");
  REQUIRE(after.has_value());
  CHECK(after->status == 200);
  const auto dropped = client.request("GET", "/v1/kv-demo/data/x");  // no longer in the list
  REQUIRE(dropped.has_value());
  CHECK(dropped->status == 403);

  CHECK(s.handler.paths() == std::vector<std::string>{"/v1/secret/data/x"});
  // One connection throughout: the policy changed under it, nothing was dropped.
  CHECK(s.scrape().value("vault_sidecar_listener_connections_accepted_total") == 1.0);
}

TEST_CASE("server: forward_writes and require_request_header apply live, enable_quit does not",
          "[proxy]") {
  test_server s{tcp_listener()};
  s.start();
  auto client = s.connect();
  auto write = client.request("PUT", "/v1/kv-demo/data/x", {}, "{}");
  REQUIRE(write.has_value());
  CHECK(write->status == 405);
  auto plain = client.request("GET", "/v1/kv-demo/data/x");
  REQUIRE(plain.has_value());
  CHECK(plain->status == 200);

  config::proxy_config writes;
  writes.forward_writes = true;
  s.server.apply_policy(writes, true);
  write = client.request("PUT", "/v1/kv-demo/data/x", {"X-Vault-Request: true"}, "{}");
  REQUIRE(write.has_value());
  CHECK(write->status == 200);
  plain = client.request("GET", "/v1/kv-demo/data/x");
  REQUIRE(plain.has_value());
  CHECK(plain->status == 412);
  const auto health = client.request("GET", "/sidecar/v1/health");  // exempt from the header
  REQUIRE(health.has_value());
  CHECK(health->status == 200);
  const auto quit = client.request("POST", "/sidecar/v1/quit", {"X-Vault-Request: true"});
  REQUIRE(quit.has_value());
  CHECK(quit->status == 404);  // enable_quit stays as started
}

TEST_CASE(
    "server: the same target again on a connection is routed afresh when the method or "
    "X-Vault-Request differ",
    "[proxy]") {
  test_server s{tcp_listener()};
  s.start();
  s.server.apply_policy(config::proxy_config{}, true);  // require_request_header
  auto client = s.connect();
  const auto status = [&](const char* method, std::vector<std::string> headers) {
    const auto answer = client.request(method, "/v1/kv-demo/data/x", std::move(headers));
    REQUIRE(answer.has_value());
    return answer->status;
  };
  CHECK(status("GET", {}) == 412);
  CHECK(status("GET", {"X-Vault-Request: true"}) == 200);
  CHECK(status("GET", {"X-Vault-Request: true"}) == 200);
  CHECK(status("GET", {"X-Vault-Request: false"}) == 412);
  CHECK(status("PUT", {"X-Vault-Request: true"}) == 405);  // forward_writes is off
  CHECK(status("GET", {"X-Vault-Request: true"}) == 200);
  CHECK(status("GET", {}) == 412);
  CHECK(s.handler.paths().size() == 3);
  CHECK(s.scrape().value("vault_sidecar_listener_connections_accepted_total") == 1.0);
}

TEST_CASE("server: policy swaps while two io threads serve never mix two policies", "[proxy]") {
  test_server s{tcp_listener(), short_limits(), {}, 2};
  s.start();
  config::proxy_config kv_only;
  kv_only.allow = {"/v1/kv-*"};
  config::proxy_config secret_only;
  secret_only.allow = {"/v1/secret/*"};

  std::atomic<bool> done{false};
  std::thread swapper{[&] {
    bool flip = false;
    while (!done) {
      s.server.apply_policy(flip ? kv_only : secret_only, false);
      flip = !flip;
      std::this_thread::sleep_for(1ms);
    }
  }};
  constexpr int per_client = 150;
  std::atomic<int> answered{0};
  std::atomic<int> unexpected{0};
  auto work = [&] {
    auto client = s.connect();
    for (int i = 0; i < per_client; ++i) {
      const auto answer = client.request("GET", "/v1/kv-demo/data/" + std::to_string(i));
      if (!answer) continue;
      ++answered;
      if (answer->status != 200 && answer->status != 403) ++unexpected;
    }
  };
  std::thread a{work};
  std::thread b{work};
  a.join();
  b.join();
  done = true;
  swapper.join();
  CHECK(answered == 2 * per_client);
  CHECK(unexpected == 0);
  // Each 200 was routed by a policy that allows the path: the handler saw only kv paths.
  for (const auto& path : s.handler.paths()) CHECK(path.starts_with("/v1/kv-demo/data/"));
}

TEST_CASE("server: each request logs one debug line with route class, status and latency",
          "[proxy]") {
  std::ostringstream out;
  const spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  const auto proxy_log = core::logger("proxy");
  const auto level = proxy_log->level();
  proxy_log->set_level(spdlog::level::debug);
  core::add_log_sink(sink);
  {
    test_server s{tcp_listener()};
    s.start();
    auto client = s.connect();
    constexpr const char* canary = "hvs.TOKEN-CANARY-31d7";
    const auto read = client.request("GET", "/v1/kv-demo/data/x?version=2",
                                     {std::string{"X-Vault-Token: "} + canary});
    REQUIRE(read.has_value());
    const auto refused = client.request("GET", "/v1/secret/data/y");
    REQUIRE(refused.has_value());
    const auto health = client.request("GET", "/sidecar/v1/health");
    REQUIRE(health.has_value());
    auto bad = s.connect();
    REQUIRE(bad.send("GET /v1/kv-demo/x HTTP/1.1\r\nBad Header\r\n\r\n"));
    REQUIRE(bad.read_answer().has_value());
    s.stop();
    CHECK(out.str().find(canary) == std::string::npos);
  }
  core::remove_log_sink(sink);
  proxy_log->set_level(level);

  const auto text = out.str();
  INFO(text);
  // Lines holding `head` followed by a latency "<digits>.<digit> ms)" and then `tail`.
  const auto lines_matching = [&text](std::string_view head, std::string_view tail = {}) {
    int found = 0;
    std::istringstream lines{text};
    for (std::string line; std::getline(lines, line);) {
      const auto at = line.find(head);
      if (at == std::string::npos) continue;
      std::string_view rest{line};
      rest.remove_prefix(at + head.size());
      std::size_t digits = 0;
      while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
        ++digits;
      }
      rest.remove_prefix(digits);
      if (digits == 0 || rest.size() < 2 || rest[0] != '.' ||
          !std::isdigit(static_cast<unsigned char>(rest[1]))) {
        continue;
      }
      rest.remove_prefix(2);
      if (rest.starts_with(" ms)") && rest.substr(4) == tail) ++found;
    }
    return found;
  };
  CHECK(lines_matching("debug proxy: request GET /v1/kv-demo/data/x -> 200 (kv_read, ") == 1);
  CHECK(lines_matching("debug proxy: request GET /v1/secret/data/y -> 403 (deny, ") == 1);
  CHECK(lines_matching("debug proxy: request GET /sidecar/v1/health -> 200 (local_health, ") == 1);
  CHECK(lines_matching("debug proxy: request refused -> 400 (deny, ", ": malformed HTTP request") ==
        1);
  CHECK(text.find("version=2") == std::string::npos);  // the query is not logged
}
