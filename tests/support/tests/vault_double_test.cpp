// The double over real sockets: HTTP framing, keep-alive, faults, down/up, TLS and mTLS, the
// control API, and the in-process API other modules' tests rely on.

#include "test_client.hpp"

#include <sidecar/testing/self_signed.hpp>
#include <sidecar/testing/vault_double.hpp>

#include <boost/system/system_error.hpp>
#include <catch2/catch.hpp>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace sidecar;
using namespace sidecar::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json demo_seed() {
  std::ifstream in{SIDECAR_DEMO_SEED};
  return json::parse(in);
}

std::string login(unsigned short port, const std::string& role_id, const std::string& secret_id) {
  const auto reply = send_once(port, "POST", "/v1/auth/approle/login",
                               json{{"role_id", role_id}, {"secret_id", secret_id}}.dump());
  REQUIRE(reply.status == 200);
  return reply.json()["auth"]["client_token"].get<std::string>();
}

// A fresh directory under the system temp dir, removed with the object.
struct temp_dir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("vault-double-" + std::to_string(::getpid()) + "-" +
       std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  temp_dir() { std::filesystem::create_directories(path); }
  ~temp_dir() { std::filesystem::remove_all(path); }
};

template <class Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds limit = 5000ms) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (predicate()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return predicate();
}

bool connectable(unsigned short port) {
  try {
    test_client client{port};
    return true;
  } catch (const boost::system::system_error&) {
    return false;
  }
}

// How a raw exchange ended.
enum class ending { closed, reset, open };

struct raw_answer {
  std::string bytes;
  ending end = ending::open;
};

// Writes `request` on a fresh connection and reads until the server closes or resets it, or
// nothing arrives for `quiet` (then the connection is still open): what the corrupt faults need
// to observe, below any HTTP parser.
raw_answer raw_exchange(unsigned short port, const std::string& request,
                        std::chrono::milliseconds quiet = 500ms) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size()));
  raw_answer out;
  for (;;) {
    pollfd readable{fd, POLLIN, 0};
    if (::poll(&readable, 1, static_cast<int>(quiet.count())) == 0) break;
    char chunk[4096];
    const auto n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      out.bytes.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    out.end = n == 0 ? ending::closed : errno == ECONNRESET ? ending::reset : ending::open;
    break;
  }
  ::close(fd);
  return out;
}

// The body of a raw answer: what follows the blank line.
std::string body_of(const std::string& bytes) { return bytes.substr(bytes.find("\r\n\r\n") + 4); }

const std::string health_request = "GET /v1/sys/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

}  // namespace

TEST_CASE("vault_double: serves the seeded demo over HTTP with keep-alive", "[vault_double]") {
  vault_double vault{{.seed = demo_seed()}};
  CHECK(vault.address() == "http://127.0.0.1:" + std::to_string(vault.port()));
  test_client client{vault.port()};
  auto reply = client.send(
      "POST", "/v1/auth/approle/login",
      R"({"role_id":"6e3d9c1a-5f0b-4c7e-9a2d-demo00role01","secret_id":"b7f4e2c9-1d8a-4e6b-8c3f-demo0secret1"})");
  REQUIRE(reply.status == 200);
  CHECK(reply.content_type == "application/json");
  CHECK(reply.keep_alive);
  const auto token = reply.json()["auth"]["client_token"].get<std::string>();

  reply = client.send("GET", "/v1/kv-demo/data/sample", {}, token);
  REQUIRE(reply.status == 200);
  CHECK(reply.json()["data"]["data"] ==
        json{{"username", "demo"}, {"password", "s3cr3t-demo"}, {"api_key", "key-456"}});
  reply = client.send("GET", "/v1/kv-v1/config", {}, token);
  CHECK(reply.json()["lease_duration"] == 3600);
  reply = client.send("GET", "/v1/database/creds/myapp-role", {}, token);
  CHECK(reply.json()["lease_duration"] == 60);
  const auto lease_id = reply.json()["lease_id"].get<std::string>();
  reply = client.send("LIST", "/v1/kv-demo/data/sample", {}, token);  // allowed, unsupported
  CHECK(reply.status == 405);

  CHECK(vault.connections_accepted() == 1);
  CHECK(vault.count("POST", "/v1/auth/approle/login") == 1);
  CHECK(vault.count("", "/v1/") == 5);
  CHECK(vault.live_leases("database/creds/myapp-role/") == 1);
  CHECK(vault.live_lease_ids() == std::vector<std::string>{lease_id});
  CHECK(vault.live_lease_ids("kv-demo/").empty());
  const auto records = vault.requests();
  REQUIRE(records.size() == 5);
  CHECK(records[1].method == "GET");
  CHECK(records[1].path == "/v1/kv-demo/data/sample");
  CHECK(records[1].token == token);
  CHECK(records[1].status == 200);
  CHECK(records[4].status == 405);
}

TEST_CASE("vault_double: the in-process set-up API feeds the HTTP answers", "[vault_double]") {
  vault_double vault;
  vault.add_kv_mount("secret", 2);
  vault.put_kv("secret", "app", {{"v", 1}});
  vault.put_kv("secret", "app", {{"v", 2}});
  vault.add_policy("app", {{"secret/data/*", {"read"}}});
  const auto creds = vault.add_approle({.name = "app", .policies = {"app"}, .token_ttl = 600});
  const auto second = vault.add_secret_id("app");
  CHECK(second != creds.secret_id);
  const auto token = login(vault.port(), creds.role_id, second);
  auto reply = send_once(vault.port(), "GET", "/v1/secret/data/app?version=1", {}, token);
  CHECK(reply.json()["data"]["data"] == json{{"v", 1}});
  const auto made = vault.create_token({"app"}, 60);
  reply = send_once(vault.port(), "GET", "/v1/auth/token/lookup-self", {}, made);
  CHECK(reply.json()["data"]["ttl"] <= 60);  // real clock: a second may tick in between
  CHECK(reply.json()["data"]["ttl"] >= 58);
  CHECK_THROWS_AS(vault.add_secret_id("nope"), std::invalid_argument);
}

TEST_CASE("vault_double: fail_next answers the injected status, then recovers", "[vault_double]") {
  vault_double vault;
  vault.fail_next("/v1/sys/health", 2, 503, "boom");
  for (int i = 0; i < 2; ++i) {
    const auto reply = send_once(vault.port(), "GET", "/v1/sys/health");
    CHECK(reply.status == 503);
    CHECK(reply.body == "{\"errors\":[\"boom\"]}\n");
  }
  CHECK(send_once(vault.port(), "GET", "/v1/sys/health").status == 200);
  CHECK(vault.count("GET", "/v1/sys/health") == 3);
}

TEST_CASE("vault_double: drop_next closes the connection without an answer", "[vault_double]") {
  vault_double vault;
  vault.drop_next("/v1/sys/health", 1);
  CHECK_THROWS_AS(send_once(vault.port(), "GET", "/v1/sys/health"), boost::system::system_error);
  CHECK(send_once(vault.port(), "GET", "/v1/sys/health").status == 200);
  const auto records = vault.requests();
  REQUIRE(records.size() == 2);
  CHECK(records[0].status == 0);
}

TEST_CASE("vault_double: set_delay holds the answer back", "[vault_double]") {
  vault_double vault;
  vault.set_delay("/v1/sys/health", 200ms);
  const auto start = std::chrono::steady_clock::now();
  CHECK(send_once(vault.port(), "GET", "/v1/sys/health").status == 200);
  CHECK(std::chrono::steady_clock::now() - start >= 200ms);
}

TEST_CASE("vault_double: go_down refuses and cuts connections, come_up listens on the same port",
          "[vault_double]") {
  vault_double vault;
  const auto port = vault.port();
  test_client open_connection{port};
  CHECK(open_connection.send("GET", "/v1/sys/health").status == 200);
  vault.go_down();
  CHECK_THROWS_AS(open_connection.send("GET", "/v1/sys/health"), boost::system::system_error);
  CHECK_FALSE(connectable(port));
  vault.come_up();
  CHECK(vault.port() == port);
  CHECK(send_once(port, "GET", "/v1/sys/health").status == 200);
}

TEST_CASE("vault_double: seal and unseal", "[vault_double]") {
  vault_double vault{{.seed = demo_seed()}};
  vault.seal();
  auto reply = send_once(vault.port(), "POST", "/v1/auth/approle/login", "{}");
  CHECK(reply.status == 503);
  CHECK(reply.json() == json{{"errors", {"Vault is sealed"}}});
  CHECK(send_once(vault.port(), "GET", "/v1/sys/health").json()["sealed"] == true);
  vault.unseal();
  CHECK(send_once(vault.port(), "GET", "/v1/sys/health").status == 200);
}

TEST_CASE("vault_double: a manual clock expires tokens and leases without sleeping",
          "[vault_double]") {
  core::manual_clock clock;
  vault_double vault{{.clock = &clock, .seed = demo_seed()}};
  const auto token = login(vault.port(), "6e3d9c1a-5f0b-4c7e-9a2d-demo00role01",
                           "b7f4e2c9-1d8a-4e6b-8c3f-demo0secret1");
  REQUIRE(send_once(vault.port(), "GET", "/v1/database/creds/myapp-role", {}, token).status == 200);
  CHECK(vault.live_leases() == 1);
  clock.advance(61s);
  CHECK(vault.live_leases() == 0);
  clock.advance(3600s);
  const auto reply = send_once(vault.port(), "GET", "/v1/auth/token/lookup-self", {}, token);
  CHECK(reply.status == 403);
  CHECK(reply.json()["errors"][0] ==
        "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n");
}

TEST_CASE("vault_double: revoke_all_tokens invalidates every token", "[vault_double]") {
  vault_double vault;
  const auto token = vault.create_token({}, 600);
  CHECK(send_once(vault.port(), "GET", "/v1/auth/token/lookup-self", {}, token).status == 200);
  vault.revoke_all_tokens();
  CHECK(send_once(vault.port(), "GET", "/v1/auth/token/lookup-self", {}, token).status == 403);
}

TEST_CASE("vault_double: TLS with the self-signed CA", "[vault_double]") {
  temp_dir dir;
  const auto files = make_self_signed(dir.path);
  vault_double vault{{.tls = tls_files{files.server_cert, files.server_key, {}}}};
  CHECK(vault.address().starts_with("https://127.0.0.1:"));
  net::ssl::context trusting{net::ssl::context::tls_client};
  trusting.load_verify_file(files.ca_cert);
  trusting.set_verify_mode(net::ssl::verify_peer);
  test_client client{vault.port(), &trusting};
  CHECK(client.send("GET", "/v1/sys/health").status == 200);
  CHECK(client.send("GET", "/v1/sys/health").status == 200);
  CHECK(vault.connections_accepted() == 1);

  net::ssl::context untrusting{net::ssl::context::tls_client};
  untrusting.set_default_verify_paths();
  untrusting.set_verify_mode(net::ssl::verify_peer);
  CHECK_THROWS(test_client{vault.port(), &untrusting});
}

TEST_CASE("vault_double: mTLS refuses clients without a certificate from the CA",
          "[vault_double]") {
  temp_dir dir;
  const auto files = make_self_signed(dir.path);
  vault_double vault{{.tls = tls_files{files.server_cert, files.server_key, files.ca_cert}}};
  net::ssl::context anonymous{net::ssl::context::tls_client};
  anonymous.load_verify_file(files.ca_cert);
  anonymous.set_verify_mode(net::ssl::verify_peer);
  // With TLS 1.3 the refusal may arrive after the client's handshake, on the first read.
  CHECK_THROWS([&] {
    test_client client{vault.port(), &anonymous};
    (void)client.send("GET", "/v1/sys/health");
  }());

  net::ssl::context identified{net::ssl::context::tls_client};
  identified.load_verify_file(files.ca_cert);
  identified.set_verify_mode(net::ssl::verify_peer);
  identified.use_certificate_chain_file(files.client_cert);
  identified.use_private_key_file(files.client_key, net::ssl::context::pem);
  test_client client{vault.port(), &identified};
  CHECK(client.send("GET", "/v1/sys/health").status == 200);
}

TEST_CASE("vault_double: the control API injects faults, writes secrets and reports counters",
          "[vault_double]") {
  vault_double vault{{.seed = demo_seed(), .control_listen = "127.0.0.1:0"}};
  const auto control = vault.control_port();
  REQUIRE(control != 0);
  REQUIRE(control != vault.port());

  CHECK(send_once(control, "POST", "/control/fail",
                  R"({"prefix":"/v1/sys/health","count":1,"status":502})")
            .status == 204);
  CHECK(send_once(vault.port(), "GET", "/v1/sys/health").status == 502);
  CHECK(send_once(control, "POST", "/control/kv",
                  R"({"mount":"kv-demo","path":"sample","data":{"password":"rotated"}})")
            .status == 204);
  const auto token = login(vault.port(), "6e3d9c1a-5f0b-4c7e-9a2d-demo00role01",
                           "b7f4e2c9-1d8a-4e6b-8c3f-demo0secret1");
  const auto secret = send_once(vault.port(), "GET", "/v1/kv-demo/data/sample", {}, token).json();
  CHECK(secret["data"]["data"] == json{{"password", "rotated"}});
  CHECK(secret["data"]["metadata"]["version"] == 2);

  const auto counters = send_once(control, "GET", "/control/counters").json();
  CHECK(counters["requests"]["GET /v1/sys/health"] == 1);
  CHECK(counters["requests"]["POST /v1/auth/approle/login"] == 1);
  CHECK(counters["connections_accepted"] == 3);
  const auto requests = send_once(control, "GET", "/control/requests").json();
  REQUIRE(requests.size() == 3);
  CHECK(requests[0]["status"] == 502);

  CHECK(send_once(control, "POST", "/control/seal").status == 204);
  CHECK(send_once(vault.port(), "GET", "/v1/sys/health").status == 503);
  CHECK(send_once(control, "POST", "/control/unseal").status == 204);

  CHECK(send_once(control, "POST", "/control/down", R"({"seconds":0.3})").status == 204);
  CHECK_FALSE(connectable(vault.port()));
  CHECK(eventually([&] { return connectable(vault.port()); }));
  CHECK(send_once(control, "POST", "/control/down").status == 204);
  CHECK_FALSE(connectable(vault.port()));
  CHECK(send_once(control, "POST", "/control/up").status == 204);
  CHECK(connectable(vault.port()));

  CHECK(send_once(control, "POST", "/control/revoke-all").status == 204);
  CHECK(send_once(vault.port(), "GET", "/v1/auth/token/lookup-self", {}, token).status == 403);
  const auto minted = send_once(control, "POST", "/control/secret-id", R"({"role":"demo"})").json();
  CHECK(login(vault.port(), "6e3d9c1a-5f0b-4c7e-9a2d-demo00role01",
              minted["secret_id"].get<std::string>())
            .starts_with("hvs."));
  CHECK(send_once(control, "POST", "/control/kv", R"({"mount":"nope","path":"x","data":{}})")
            .status == 400);
  CHECK(send_once(control, "POST", "/control/nothing").status == 404);
}

TEST_CASE("vault_double: binding a taken port throws", "[vault_double]") {
  vault_double first;
  CHECK_THROWS(vault_double{{.listen = "127.0.0.1:" + std::to_string(first.port())}});
}

TEST_CASE("vault_double: corrupt_next garbles the answer on the wire, then serves normally",
          "[vault_double]") {
  vault_double vault;
  const auto whole = raw_exchange(vault.port(), health_request);
  // sys/health carries the time, so compare sizes and prefixes, not whole bodies.
  const auto body = body_of(whole.bytes);
  REQUIRE(json::parse(body)["initialized"] == true);
  const auto half = body.substr(0, body.size() / 2);
  REQUIRE(half.size() > 10);

  const auto garbled = [&](corruption mode) {
    vault.corrupt_next("/v1/sys/health", 1, mode);
    return raw_exchange(vault.port(), health_request);
  };
  auto out = garbled(corruption::malformed_json);
  CHECK(out.bytes.ends_with(R"("data":{"data":{"x":)"));
  CHECK(out.end == ending::open);
  out = garbled(corruption::truncated_body);
  CHECK(out.bytes.find("Content-Length: " + std::to_string(body.size()) + "\r\n") !=
        std::string::npos);
  CHECK(body_of(out.bytes).size() == half.size());
  CHECK(out.end == ending::closed);
  out = garbled(corruption::reset_mid_body);
  CHECK(body_of(out.bytes).size() == half.size());
  CHECK(out.end == ending::reset);
  out = garbled(corruption::short_content_length);
  CHECK(out.bytes.find("Content-Length: " + std::to_string(half.size()) + "\r\n") !=
        std::string::npos);
  CHECK(json::parse(body_of(out.bytes))["initialized"] == true);  // the whole body follows
  CHECK(out.end == ending::open);
  out = garbled(corruption::long_content_length);
  CHECK(out.bytes.find("Content-Length: " + std::to_string(body.size() + 100) + "\r\n") !=
        std::string::npos);
  CHECK(out.end == ending::open);
  out = garbled(corruption::huge_content_length);
  CHECK(out.bytes.find("Content-Length: 2147483648\r\n") != std::string::npos);
  CHECK(out.end == ending::open);
  out = garbled(corruption::http10_no_length);
  CHECK(out.bytes.starts_with("HTTP/1.0 200 OK\r\n"));
  CHECK(out.bytes.find("Content-Length") == std::string::npos);
  CHECK(json::parse(body_of(out.bytes))["initialized"] == true);
  CHECK(out.end == ending::closed);

  CHECK(send_once(vault.port(), "GET", "/v1/sys/health").status == 200);
  CHECK(vault.count("GET", "/v1/sys/health") == 9);
}

TEST_CASE("vault_double: the control API takes corrupt modes and refuses unknown ones",
          "[vault_double]") {
  vault_double vault{{.control_listen = "127.0.0.1:0"}};
  CHECK(send_once(vault.control_port(), "POST", "/control/corrupt",
                  R"({"prefix":"/v1/sys/health","count":1,"mode":"reset-mid-body"})")
            .status == 204);
  CHECK(raw_exchange(vault.port(), health_request).end == ending::reset);
  const auto refused =
      send_once(vault.control_port(), "POST", "/control/corrupt", R"({"mode":"sideways"})");
  CHECK(refused.status == 400);
  CHECK(refused.body.find("sideways") != std::string::npos);
  CHECK(send_once(vault.port(), "GET", "/v1/sys/health").status == 200);
}

TEST_CASE("vault_double: in_flight counts delayed requests until answered or abandoned",
          "[vault_double]") {
  vault_double vault;
  vault.set_delay("/v1/sys/health", 10000ms);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int i = 0; i < 3; ++i) {
    // Each client gives up after 300 ms of silence and closes, as a timed-out client does.
    clients.emplace_back([&] { (void)raw_exchange(vault.port(), health_request, 300ms); });
  }
  CHECK(eventually([&] { return vault.in_flight() == 3; }));
  for (auto& client : clients) client.join();
  CHECK(eventually([&] { return vault.in_flight() == 0; }));
  CHECK(std::chrono::steady_clock::now() - start < 8000ms);  // not the 10 s delay
  CHECK(vault.peak_in_flight() == 3);
  for (const auto& record : vault.requests()) CHECK(record.status == 0);

  vault.set_delay("/v1/sys/health", 0ms);
  CHECK(send_once(vault.port(), "GET", "/v1/sys/health").status == 200);
  CHECK(vault.in_flight() == 0);
  CHECK(vault.peak_in_flight() == 3);
}

TEST_CASE("vault_double: use_certificate serves a new certificate on new connections",
          "[vault_double]") {
  temp_dir first_dir, second_dir;
  const auto first = make_self_signed(first_dir.path);
  const auto second = make_self_signed(second_dir.path);  // another CA
  vault_double vault{
      {.tls = tls_files{first.server_cert, first.server_key, {}}, .control_listen = "127.0.0.1:0"}};
  const auto trusting = [](const std::string& ca) {
    auto context = std::make_unique<net::ssl::context>(net::ssl::context::tls_client);
    context->load_verify_file(ca);
    context->set_verify_mode(net::ssl::verify_peer);
    return context;
  };
  const auto first_ca = trusting(first.ca_cert);
  const auto second_ca = trusting(second.ca_cert);
  test_client open{vault.port(), first_ca.get()};
  CHECK(open.send("GET", "/v1/sys/health").status == 200);

  vault.use_certificate(second.server_cert, second.server_key);
  CHECK_THROWS_AS(open.send("GET", "/v1/sys/health"), boost::system::system_error);  // cut
  CHECK_THROWS(test_client{vault.port(), first_ca.get()});
  test_client renewed{vault.port(), second_ca.get()};
  CHECK(renewed.send("GET", "/v1/sys/health").status == 200);

  const auto body = json{{"cert_file", first.server_cert}, {"key_file", first.server_key}};
  CHECK(send_once(vault.control_port(), "POST", "/control/tls", body.dump()).status == 204);
  test_client back{vault.port(), first_ca.get()};
  CHECK(back.send("GET", "/v1/sys/health").status == 200);

  const auto missing =
      json{{"cert_file", first_dir.path / "nope.pem"}, {"key_file", first.server_key}};
  CHECK(send_once(vault.control_port(), "POST", "/control/tls", missing.dump()).status == 400);
  test_client still{vault.port(), first_ca.get()};  // a refused swap changes nothing
  CHECK(still.send("GET", "/v1/sys/health").status == 200);
}

TEST_CASE("vault_double: use_certificate refuses a plain HTTP double", "[vault_double]") {
  temp_dir dir;
  const auto files = make_self_signed(dir.path);
  vault_double vault;
  CHECK_THROWS_AS(vault.use_certificate(files.server_cert, files.server_key), std::logic_error);
  CHECK(send_once(vault.port(), "GET", "/v1/sys/health").status == 200);
}
