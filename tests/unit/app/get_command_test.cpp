#include <sidecar/app/entry.hpp>
#include <sidecar/app/exit_code.hpp>
#include <sidecar/app/get_command.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unistd.h>

#include "fake_sidecar.hpp"

using namespace sidecar;
using namespace std::chrono_literals;
using app::answer_shape;
using app::read_attempt;
using app::secret_path;
using testing::fake_sidecar;
using testing::http_answer;

namespace {

const tcp::endpoint loopback_any{net::ip::make_address("127.0.0.1"), 0};

tcp::endpoint at(std::string_view ip, unsigned short port) {
  return {net::ip::make_address(std::string{ip}), port};
}

app::listener_target url_ok(std::string_view url) {
  auto parsed = app::parse_listener_url(url);
  INFO("url: " << url);
  REQUIRE(std::holds_alternative<app::listener_target>(parsed));
  return std::get<app::listener_target>(parsed);
}

std::string url_error(std::string_view url) {
  auto parsed = app::parse_listener_url(url);
  INFO("url: " << url);
  REQUIRE(std::holds_alternative<std::string>(parsed));
  return std::get<std::string>(parsed);
}

secret_path path_ok(std::string_view text) {
  auto parsed = app::parse_secret_path(text);
  INFO("path: " << text);
  REQUIRE(std::holds_alternative<secret_path>(parsed));
  return std::get<secret_path>(parsed);
}

std::string path_error(std::string_view text) {
  auto parsed = app::parse_secret_path(text);
  INFO("path: " << text);
  REQUIRE(std::holds_alternative<std::string>(parsed));
  return std::get<std::string>(parsed);
}

config::env_lookup env_of(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    const auto found = variables.find(std::string{name});
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
}

/// A file in the temp directory, removed with the object.
class temp_file {
 public:
  explicit temp_file(std::string_view text) {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("sidecar-get-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::ofstream{path_} << text;
  }
  ~temp_file() { std::filesystem::remove(path_); }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

std::variant<app::listener_target, app::get_outcome> target_for(
    const app::get_options& options, const std::string& config_path,
    std::map<std::string, std::string> env = {}) {
  return app::find_get_target(options, config_path, env_of(std::move(env)));
}

app::listener_target target_ok(const app::get_options& options, const std::string& config_path,
                               std::map<std::string, std::string> env = {}) {
  auto found = target_for(options, config_path, std::move(env));
  if (auto* failure = std::get_if<app::get_outcome>(&found)) FAIL(failure->err);
  return std::get<app::listener_target>(found);
}

app::get_outcome target_failure(const app::get_options& options, const std::string& config_path,
                                std::map<std::string, std::string> env = {}) {
  auto found = target_for(options, config_path, std::move(env));
  REQUIRE(std::holds_alternative<app::get_outcome>(found));
  return std::get<app::get_outcome>(found);
}

const std::string v2_mount =
    R"({"data":{"path":"kv-demo/","type":"kv","options":{"version":"2"}}})";
const std::string v1_mount = R"({"data":{"path":"kv-v1/","type":"kv","options":{"version":"1"}}})";
const std::string db_mount = R"({"data":{"path":"database/","type":"database","options":null}})";
const std::string v2_secret =
    R"({"data":{"data":{"password":"kv-canary-pw-5150","username":"demo"},"metadata":{"version":1}}})";
const std::string denied = R"({"errors":["permission denied"]})";

struct outcome {
  int code;
  std::string out;
  std::string err;
};

outcome run(std::vector<std::string_view> arguments, std::map<std::string, std::string> env = {}) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = app::run_program(arguments, env_of(std::move(env)), out, err);
  return {code, out.str(), err.str()};
}

std::string request_line(const std::string& head) { return head.substr(0, head.find("\r\n")); }

}  // namespace

TEST_CASE("parse_listener_url: loopback http URLs and unix sockets", "[app]") {
  CHECK(std::get<tcp::endpoint>(url_ok("http://127.0.0.1:8100")) == at("127.0.0.1", 8100));
  CHECK(std::get<tcp::endpoint>(url_ok("http://127.0.0.1:8100/")) == at("127.0.0.1", 8100));
  CHECK(std::get<tcp::endpoint>(url_ok("http://localhost:9000")) == at("127.0.0.1", 9000));
  CHECK(std::get<tcp::endpoint>(url_ok("http://[::1]:8100")) == at("::1", 8100));
  CHECK(std::get<tcp::endpoint>(url_ok("http://127.0.0.1")) == at("127.0.0.1", 80));
  CHECK(std::get<tcp::endpoint>(url_ok("http://[::1]")) == at("::1", 80));
  CHECK(std::get<std::string>(url_ok("unix:///run/vault-sidecar/sidecar.sock")) ==
        "/run/vault-sidecar/sidecar.sock");
}

TEST_CASE("parse_listener_url: anything but a local plain-HTTP listener is explained", "[app]") {
  CHECK(url_error("https://127.0.0.1:8200") ==
        "\"https://127.0.0.1:8200\": the sidecar's listener speaks plain HTTP on loopback (is "
        "this Vault's own address?)");
  CHECK(url_error("http://vault.example.com:8200") ==
        "\"http://vault.example.com:8200\": not a loopback host:port (127.0.0.1, [::1] or "
        "localhost)");
  CHECK(url_error("http://10.0.0.1:8100")
            .ends_with("not a loopback host:port (127.0.0.1, [::1] "
                       "or localhost)"));
  CHECK(url_error("http://127.0.0.1:0").find("not a loopback host:port") != std::string::npos);
  CHECK(url_error("http://127.0.0.1:99999").find("not a loopback") != std::string::npos);
  CHECK(url_error("http://127.0.0.1:8100/v1/kv") ==
        "\"http://127.0.0.1:8100/v1/kv\": a listener URL has no path");
  CHECK(url_error("127.0.0.1:8100") == "\"127.0.0.1:8100\": not an http:// or unix:// URL");
  CHECK(url_error("") == "\"\": not an http:// or unix:// URL");
  CHECK(url_error("http://").find("not a loopback") != std::string::npos);
  CHECK(url_error("unix://relative.sock") ==
        "\"unix://relative.sock\": write a unix socket as unix:///absolute/path");
}

TEST_CASE("find_get_target: flags first, then VAULT_ADDR, the file, the default", "[app]") {
  const temp_file tcp_file{"[listener]\naddress = 127.0.0.1:8111\n"};
  const temp_file unix_file{"[listener]\naddress =\nunix_socket = /run/s.sock\n"};
  const std::string no_file = "/nonexistent/vault-sidecar.ini";
  const std::map<std::string, std::string> vault_addr{{"VAULT_ADDR", "http://127.0.0.1:8222"}};

  app::get_options options;
  CHECK(std::get<tcp::endpoint>(target_ok(options, no_file)) == at("127.0.0.1", 8100));
  CHECK(std::get<tcp::endpoint>(target_ok(options, no_file, vault_addr)) == at("127.0.0.1", 8222));
  CHECK(std::get<tcp::endpoint>(target_ok(options, no_file, {{"VAULT_ADDR", ""}})) ==
        at("127.0.0.1", 8100));
  // The default file, when it exists, comes after VAULT_ADDR.
  CHECK(std::get<tcp::endpoint>(target_ok(options, tcp_file.path())) == at("127.0.0.1", 8111));
  CHECK(std::get<tcp::endpoint>(target_ok(options, tcp_file.path(), vault_addr)) ==
        at("127.0.0.1", 8222));
  CHECK(std::get<std::string>(target_ok(options, unix_file.path())) == "/run/s.sock");

  // --config names the file: it beats VAULT_ADDR.
  options.config_given = true;
  CHECK(std::get<tcp::endpoint>(target_ok(options, tcp_file.path(), vault_addr)) ==
        at("127.0.0.1", 8111));
  options = {};
  options.unix_socket = "/tmp/x.sock";
  CHECK(std::get<std::string>(target_ok(options, tcp_file.path(), vault_addr)) == "/tmp/x.sock");
  options = {};
  options.address = "http://[::1]:8333";
  CHECK(std::get<tcp::endpoint>(target_ok(options, tcp_file.path(), vault_addr)) ==
        at("::1", 8333));
}

TEST_CASE("find_get_target: a bad address or file says where it came from", "[app]") {
  app::get_options options;
  options.address = "https://vault:8200";
  const auto flag = target_failure(options, "/nonexistent.ini");
  CHECK(flag.exit_code == app::exit_code::usage);
  CHECK(flag.err.starts_with("vault-sidecar get: --address \"https://vault:8200\": "));

  const auto env = target_failure({}, "/nonexistent.ini", {{"VAULT_ADDR", "https://vault:8200"}});
  CHECK(env.exit_code == app::exit_code::failed);
  CHECK(env.err.starts_with("vault-sidecar get: VAULT_ADDR \"https://vault:8200\": "));

  options = {};
  options.config_given = true;
  const auto missing = target_failure(options, "/nonexistent/s.ini");
  CHECK(missing.exit_code == app::exit_code::failed);
  CHECK(missing.err.find("/nonexistent/s.ini: cannot read:") != std::string::npos);

  const temp_file bad{"[cache]\nttl = banana\n"};
  const auto problems = target_failure({}, bad.path());
  CHECK(problems.exit_code == app::exit_code::failed);
  CHECK(problems.err.find(":2: cache.ttl: ") != std::string::npos);

  // A file without a listener is refused by the configuration's own rules.
  const temp_file none{"[listener]\naddress =\n"};
  const auto nothing = target_failure({}, none.path());
  CHECK(nothing.exit_code == app::exit_code::failed);
  CHECK(nothing.err.find(none.path() + ": listener: ") != std::string::npos);
}

TEST_CASE("parse_secret_path: relative and /v1/ spellings", "[app]") {
  CHECK(path_ok("kv-demo/sample") == secret_path{"kv-demo/sample", false});
  CHECK(path_ok("kv-demo/data/sample") == secret_path{"kv-demo/data/sample", false});
  CHECK(path_ok("/kv-demo/sample") == secret_path{"kv-demo/sample", false});
  CHECK(path_ok("//kv-demo/a/b/c") == secret_path{"kv-demo/a/b/c", false});
  CHECK(path_ok("database/creds/myapp-role") == secret_path{"database/creds/myapp-role", false});
  CHECK(path_ok("kv-demo/with%percent") == secret_path{"kv-demo/with%percent", false});
  CHECK(path_ok("/v1/kv-demo/data/sample") == secret_path{"/v1/kv-demo/data/sample", true});
  CHECK(path_ok("/v1/kv-demo/data/sample?version=2") ==
        secret_path{"/v1/kv-demo/data/sample?version=2", true});
  CHECK(path_ok("v1/kv/x") == secret_path{"v1/kv/x", false});  // a mount named v1, as Vault's CLI
}

TEST_CASE("parse_secret_path: what names no secret is refused with the reason", "[app]") {
  CHECK(path_error("") == "\"\": the path is empty");
  CHECK(path_error("/") == "\"/\": the path is empty");
  CHECK(path_error("kv-demo") == "\"kv-demo\": name a mount and a secret, e.g. kv-demo/sample");
  CHECK(path_error("kv-demo/") == "\"kv-demo/\": a trailing / names a listing, not a secret");
  CHECK(path_error("kv-demo/a/") == "\"kv-demo/a/\": a trailing / names a listing, not a secret");
  CHECK(path_error("kv-demo//a") == "\"kv-demo//a\": an empty segment (//)");
  CHECK(path_error("kv-demo/../database/creds/x") ==
        "\"kv-demo/../database/creds/x\": a . or .. segment");
  CHECK(path_error("kv-demo/./a") == "\"kv-demo/./a\": a . or .. segment");
  CHECK(path_error("kv-demo/a b") == "\"kv-demo/a b\": a blank or control character");
  CHECK(path_error("kv-demo/a\tb").ends_with("a blank or control character"));
  CHECK(path_error("kv-demo/a\r\nX-Evil: 1").ends_with("a blank or control character"));
  CHECK(path_error(std::string_view{"kv-demo/a\0b", 11}).ends_with("a blank or control character"));
  CHECK(path_error("kv-demo/a\x7f").ends_with("a blank or control character"));
  CHECK(path_error("/v1/") == "\"/v1/\": names nothing after /v1/");
  CHECK(path_error("/v1/kv demo").ends_with("a blank or control character"));
}

TEST_CASE("mount_preflight_target: the Vault CLI's preflight, percent-encoded", "[app]") {
  CHECK(app::mount_preflight_target(path_ok("kv-demo/sample")) ==
        "/v1/sys/internal/ui/mounts/kv-demo/sample");
  CHECK(app::mount_preflight_target(path_ok("database/creds/my_role.1~x")) ==
        "/v1/sys/internal/ui/mounts/database/creds/my_role.1~x");
  CHECK(app::mount_preflight_target(path_ok("kv-demo/a?b#c%d&e+\xc3\xa9")) ==
        "/v1/sys/internal/ui/mounts/kv-demo/a%3Fb%23c%25d%26e%2B%C3%A9");
}

TEST_CASE("parse_mount_answer: data.path and data.options.version, as the CLI reads them",
          "[app]") {
  CHECK(app::parse_mount_answer(200, v2_mount) == app::mount_info{"kv-demo/", 2});
  CHECK(app::parse_mount_answer(200, v1_mount) == app::mount_info{"kv-v1/", 1});
  CHECK(app::parse_mount_answer(200, db_mount) == app::mount_info{"database/", 1});
  CHECK(app::parse_mount_answer(200, R"({"data":{"path":"kv/","options":{"version":2}}})") ==
        app::mount_info{"kv/", 2});
  CHECK(app::parse_mount_answer(200, R"({"data":{"path":"kv/","options":{}}})") ==
        app::mount_info{"kv/", 1});
  CHECK(app::parse_mount_answer(200, R"({"data":{"path":"kv/"}})") == app::mount_info{"kv/", 1});
  CHECK(app::parse_mount_answer(200, R"({"data":{"path":"kv/","options":{"version":"3"}}})") ==
        app::mount_info{"kv/", 1});
  CHECK_FALSE(app::parse_mount_answer(403, v2_mount));
  CHECK_FALSE(app::parse_mount_answer(404, v2_mount));
  CHECK_FALSE(app::parse_mount_answer(200, denied));
  CHECK_FALSE(app::parse_mount_answer(200, "not json"));
  CHECK_FALSE(app::parse_mount_answer(200, R"({"data":{"path":"kv"}})"));
  CHECK_FALSE(app::parse_mount_answer(200, R"({"data":{"path":""}})"));
  CHECK_FALSE(app::parse_mount_answer(200, R"({"data":{"path":7}})"));
  CHECK_FALSE(app::parse_mount_answer(200, R"({"data":null})"));
}

TEST_CASE("plan_reads: a known mount is read once, at the path its version wants", "[app]") {
  const app::mount_info v2{"kv-demo/", 2};
  const app::mount_info v1{"kv-v1/", 1};
  const app::mount_info db{"database/", 1};
  using plan = std::vector<read_attempt>;
  CHECK(app::plan_reads(path_ok("kv-demo/sample"), v2) ==
        plan{{"/v1/kv-demo/data/sample", answer_shape::kv_v2}});
  CHECK(app::plan_reads(path_ok("kv-demo/data/sample"), v2) ==
        plan{{"/v1/kv-demo/data/sample", answer_shape::kv_v2}});
  CHECK(app::plan_reads(path_ok("kv-demo/team/app"), v2) ==
        plan{{"/v1/kv-demo/data/team/app", answer_shape::kv_v2}});
  CHECK(app::plan_reads(path_ok("secret/team/app"), app::mount_info{"secret/team/", 2}) ==
        plan{{"/v1/secret/team/data/app", answer_shape::kv_v2}});
  CHECK(app::plan_reads(path_ok("kv-v1/config"), v1) ==
        plan{{"/v1/kv-v1/config", answer_shape::plain}});
  CHECK(app::plan_reads(path_ok("kv-v1/data/config"), v1) ==
        plan{{"/v1/kv-v1/data/config", answer_shape::plain}});
  CHECK(app::plan_reads(path_ok("database/creds/myapp-role"), db) ==
        plan{{"/v1/database/creds/myapp-role", answer_shape::plain}});
  CHECK(app::plan_reads(path_ok("kv-demo/x%y"), v2) ==
        plan{{"/v1/kv-demo/data/x%25y", answer_shape::kv_v2}});
}

TEST_CASE("plan_reads: an unknown mount tries KV v2, then the path itself", "[app]") {
  using plan = std::vector<read_attempt>;
  CHECK(app::plan_reads(path_ok("kv-demo/sample"), std::nullopt) ==
        plan{{"/v1/kv-demo/data/sample", answer_shape::kv_v2, true},
             {"/v1/kv-demo/sample", answer_shape::plain}});
  CHECK(app::plan_reads(path_ok("database/creds/r"), std::nullopt) ==
        plan{{"/v1/database/data/creds/r", answer_shape::kv_v2, true},
             {"/v1/database/creds/r", answer_shape::plain}});
  CHECK(app::plan_reads(path_ok("kv-demo/data/sample"), std::nullopt) ==
        plan{{"/v1/kv-demo/data/sample", answer_shape::either}});
  // A mount answer for another path (a bug upstream) is not trusted.
  CHECK(app::plan_reads(path_ok("kv-demo/sample"), app::mount_info{"other/", 2}).size() == 2);
  CHECK(app::plan_reads(path_ok("/v1/kv-demo/data/sample?version=1"), std::nullopt) ==
        plan{{"/v1/kv-demo/data/sample?version=1", answer_shape::either}});
  CHECK(app::plan_reads(path_ok("/v1/anything"), app::mount_info{"kv-demo/", 2}) ==
        plan{{"/v1/anything", answer_shape::either}});
}

TEST_CASE("settles: a guess only on a KV v2 answer, every other attempt always", "[app]") {
  const read_attempt guess{"/v1/kv-demo/data/sample", answer_shape::kv_v2, true};
  const read_attempt sure{"/v1/kv-demo/sample", answer_shape::plain};
  CHECK(app::settles(guess, 200, v2_secret));
  CHECK_FALSE(app::settles(guess, 200, R"({"data":{"password":"x"}})"));
  CHECK_FALSE(app::settles(guess, 404, v2_secret));
  CHECK_FALSE(app::settles(guess, 403, denied));
  CHECK_FALSE(app::settles(guess, 502, ""));
  CHECK(app::settles(sure, 200, "{}"));
  CHECK(app::settles(sure, 404, ""));
  CHECK(app::settles(sure, 403, denied));
}

TEST_CASE("guess_failure_outranks: an outage on the guess beats a 404 of the path", "[app]") {
  for (const unsigned outage : {500U, 502U, 503U, 504U, 429U, 412U}) {
    INFO("guess " << outage);
    CHECK(app::guess_failure_outranks(outage, 404));
    CHECK_FALSE(app::guess_failure_outranks(outage, 200));
    CHECK_FALSE(app::guess_failure_outranks(outage, 403));
    CHECK_FALSE(app::guess_failure_outranks(outage, 502));
  }
  for (const unsigned plain : {200U, 400U, 403U, 404U, 405U}) {
    INFO("guess " << plain);
    CHECK_FALSE(app::guess_failure_outranks(plain, 404));
  }
}

TEST_CASE("run_get: the preflight, then one read, with the headers Vault's clients send", "[app]") {
  fake_sidecar<tcp> server{loopback_any, {http_answer(200, v2_mount), http_answer(200, v2_secret)}};
  const auto address = "http://" + app::describe_target(server.endpoint());
  const auto result = run({"get", "--address", address, "--field", "password", "kv-demo/sample"},
                          {{"VAULT_TOKEN", "s.client-token"}});
  CHECK(result.code == 0);
  CHECK(result.out == "kv-canary-pw-5150");
  CHECK(result.err.empty());
  const auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(request_line(requests[0]) == "GET /v1/sys/internal/ui/mounts/kv-demo/sample HTTP/1.1");
  CHECK(request_line(requests[1]) == "GET /v1/kv-demo/data/sample HTTP/1.1");
  for (const auto& head : requests) {
    CHECK(head.find("\r\nX-Vault-Request: true\r\n") != std::string::npos);
    CHECK(head.find("\r\nX-Vault-Token: s.client-token\r\n") != std::string::npos);
    CHECK(head.find("\r\nHost: " + app::describe_target(server.endpoint()) + "\r\n") !=
          std::string::npos);
  }
}

TEST_CASE("run_get: a sidecar that refuses the preflight is read by the fallback", "[app]") {
  fake_sidecar<tcp> server{loopback_any,
                           {http_answer(403, denied), http_answer(404, R"({"errors":[]})"),
                            http_answer(200, R"({"data":{"endpoint":"https://x"}})")}};
  const auto address = "http://" + app::describe_target(server.endpoint());
  const auto result = run({"get", "--format=env", "kv-v1/config"}, {{"VAULT_ADDR", address}});
  CHECK(result.code == 0);
  CHECK(result.out == "ENDPOINT='https://x'\n");
  const auto requests = server.requests();
  REQUIRE(requests.size() == 3);
  CHECK(request_line(requests[1]) == "GET /v1/kv-v1/data/config HTTP/1.1");
  CHECK(request_line(requests[2]) == "GET /v1/kv-v1/config HTTP/1.1");
  // No VAULT_TOKEN, no X-Vault-Token.
  CHECK(requests[0].find("X-Vault-Token") == std::string::npos);
}

TEST_CASE("run_get: a failing guess is reported rather than the path's 404", "[app]") {
  fake_sidecar<tcp> server{
      loopback_any,
      {http_answer(403, denied), http_answer(502, R"({"errors":["vault down"]})"),
       http_answer(404, R"({"errors":[]})")}};
  const auto address = "http://" + app::describe_target(server.endpoint());
  const auto result = run({"get", "--address", address, "kv-demo/sample"});
  CHECK(result.code == 1);
  CHECK(result.err == "vault-sidecar get: kv-demo/sample: the sidecar answered 502: vault down\n");
}

TEST_CASE("run_get: /v1/ paths skip the preflight; over a unix socket", "[app]") {
  static std::atomic<int> counter{0};
  const auto path =
      std::filesystem::temp_directory_path() /
      ("sidecar-get-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".sock");
  std::filesystem::remove(path);
  {
    fake_sidecar<net::local::stream_protocol> server{
        net::local::stream_protocol::endpoint{path.string()}, http_answer(200, v2_secret)};
    const auto result =
        run({"get", "--unix-socket", path.string(), "--format", "raw", "/v1/kv-demo/data/sample"});
    CHECK(result.code == 0);
    CHECK(result.out == v2_secret);
    REQUIRE(server.requests().size() == 1);
    CHECK(request_line(server.requests()[0]) == "GET /v1/kv-demo/data/sample HTTP/1.1");
    CHECK(server.requests()[0].find("\r\nHost: localhost\r\n") != std::string::npos);
  }
  std::filesystem::remove(path);
}

TEST_CASE("run_get: nobody listening is 69, a silent listener 69 at the deadline", "[app]") {
  tcp::endpoint closed;
  {
    net::io_context io;
    tcp::acceptor probe_port{io, loopback_any};
    closed = probe_port.local_endpoint();
  }
  const auto refused =
      run({"get", "--address", "http://" + app::describe_target(closed), "kv-demo/sample"});
  CHECK(refused.code == 69);
  CHECK(refused.out.empty());
  CHECK(refused.err.starts_with("vault-sidecar get: " + app::describe_target(closed) + ": "));

  fake_sidecar<tcp> silent{loopback_any, ""};
  const auto started = std::chrono::steady_clock::now();
  const auto late = run({"get", "--timeout", "300ms", "--address",
                         "http://" + app::describe_target(silent.endpoint()), "kv-demo/sample"});
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(late.code == 69);
  CHECK(late.err.ends_with("no answer within 300ms\n"));
  CHECK(took >= 250ms);
  CHECK(took < 10s);
}

TEST_CASE("run_get: not HTTP is 1; a bad path is 64 before any connection", "[app]") {
  fake_sidecar<tcp> server{loopback_any, "SSH-2.0-OpenSSH_9.2\r\n\r\n"};
  const auto address = "http://" + app::describe_target(server.endpoint());
  const auto garbage = run({"get", "--address", address, "/v1/kv-demo/data/sample"});
  CHECK(garbage.code == 1);
  CHECK(garbage.err.find("not an HTTP answer") != std::string::npos);

  const auto bad = run({"get", "--address", "http://127.0.0.1:1", "kv-demo"});
  CHECK(bad.code == 64);
  CHECK(bad.err ==
        "vault-sidecar get: \"kv-demo\": name a mount and a secret, e.g. kv-demo/sample\n");
}
