#include <sidecar/app/command_line.hpp>

#include <catch2/catch.hpp>

#include <vector>

using namespace sidecar;
using app::action;

namespace {

std::variant<app::command_line, app::usage_error> parse(std::vector<std::string_view> arguments) {
  return app::parse_command_line(arguments);
}

app::command_line ok(std::vector<std::string_view> arguments) {
  const auto parsed = parse(std::move(arguments));
  REQUIRE(std::holds_alternative<app::command_line>(parsed));
  return std::get<app::command_line>(parsed);
}

std::string error(std::vector<std::string_view> arguments) {
  const auto parsed = parse(std::move(arguments));
  REQUIRE(std::holds_alternative<app::usage_error>(parsed));
  return std::get<app::usage_error>(parsed).message;
}

}  // namespace

TEST_CASE("parse_command_line: no arguments runs the daemon with the default file", "[app]") {
  CHECK(ok({}) == app::command_line{action::run, "/etc/vault-sidecar/vault-sidecar.ini"});
}

TEST_CASE("parse_command_line: --config in both spellings", "[app]") {
  CHECK(ok({"--config", "/tmp/a.ini"}) == app::command_line{action::run, "/tmp/a.ini"});
  CHECK(ok({"--config=/tmp/b.ini"}) == app::command_line{action::run, "/tmp/b.ini"});
}

TEST_CASE("parse_command_line: check with and without --config", "[app]") {
  CHECK(ok({"check", "--config", "x.ini"}) == app::command_line{action::check, "x.ini"});
  CHECK(ok({"check"}) == app::command_line{action::check, "/etc/vault-sidecar/vault-sidecar.ini"});
}

TEST_CASE("parse_command_line: check --online in any order with --config", "[app]") {
  const app::command_line expected{action::check, "x.ini", true};
  CHECK(ok({"check", "--online", "--config", "x.ini"}) == expected);
  CHECK(ok({"check", "--config=x.ini", "--online"}) == expected);
  CHECK_FALSE(ok({"check", "--config", "x.ini"}).online);
  CHECK(ok({"check", "--online"}).config_path == "/etc/vault-sidecar/vault-sidecar.ini");
  CHECK(ok({"check", "--online", "--help"}).what == action::help);
}

TEST_CASE("parse_command_line: health with and without --config", "[app]") {
  CHECK(ok({"health"}) ==
        app::command_line{action::health, "/etc/vault-sidecar/vault-sidecar.ini"});
  CHECK(ok({"health", "--config", "/etc/s.ini"}) ==
        app::command_line{action::health, "/etc/s.ini"});
  CHECK(ok({"health", "--config=/etc/s.ini"}) == app::command_line{action::health, "/etc/s.ini"});
  CHECK(ok({"health", "--version"}).what == action::version);
}

TEST_CASE("parse_command_line: --version and --help", "[app]") {
  CHECK(ok({"--version"}).what == action::version);
  CHECK(ok({"--help"}).what == action::help);
  CHECK(ok({"-h"}).what == action::help);
  CHECK(ok({"check", "--help"}).what == action::help);
  CHECK(ok({"--version", "--help"}).what == action::help);
  CHECK(ok({"--config", "x", "--version"}).what == action::version);
}

TEST_CASE("parse_command_line: bad usage is explained", "[app]") {
  CHECK(error({"--config"}) == "--config needs a FILE");
  CHECK(error({"--config="}) == "--config needs a FILE");
  CHECK(error({"--config", ""}) == "--config needs a FILE");
  CHECK(error({"--config", "a", "--config", "b"}) == "--config given twice");
  CHECK(error({"--config=a", "--config=b"}) == "--config given twice");
  CHECK(error({"--conf", "a"}) == "unknown option --conf");
  CHECK(error({"-c", "a"}) == "unknown option -c");
  CHECK(error({"--online"}) == "--online goes only with check");
  CHECK(error({"health", "--online"}) == "--online goes only with check");
  CHECK(error({"--online", "check"}) == "--online goes only with check");
  CHECK(error({"check", "health"}) == "unexpected argument \"health\"");
  CHECK(error({"health", "check"}) == "unexpected argument \"check\"");
  CHECK(error({"--config", "a", "health"}) == "unexpected argument \"health\"");
  CHECK(error({"run"}) == "unexpected argument \"run\"");
  CHECK(error({"--config", "a", "check"}) == "unexpected argument \"check\"");
  CHECK(error({"check", "check"}) == "unexpected argument \"check\"");
  CHECK(error({"check", "x.ini"}) == "unexpected argument \"x.ini\"");
}

TEST_CASE("usage: names every form and the default file", "[app]") {
  const auto text = app::usage();
  CHECK(text.find("vault-sidecar [--config FILE]") != std::string::npos);
  CHECK(text.find("vault-sidecar check [--config FILE]") != std::string::npos);
  CHECK(text.find("vault-sidecar check --online [--config FILE]") != std::string::npos);
  CHECK(text.find("vault-sidecar health [--config FILE]") != std::string::npos);
  CHECK(text.find("--version") != std::string::npos);
  CHECK(text.find("/etc/vault-sidecar/vault-sidecar.ini") != std::string::npos);
  CHECK(text.back() == '\n');
}

TEST_CASE("parse_command_line: get with its defaults", "[app]") {
  const auto parsed = ok({"get", "kv-demo/sample"});
  CHECK(parsed.what == action::get);
  CHECK(parsed.config_path == "/etc/vault-sidecar/vault-sidecar.ini");
  CHECK(parsed.get == app::get_options{.path = "kv-demo/sample"});
  CHECK(parsed.get.format == app::get_format::json);
  CHECK(parsed.get.timeout == std::chrono::seconds{5});
  CHECK_FALSE(parsed.get.config_given);
}

TEST_CASE("parse_command_line: get's options in both spellings and any order", "[app]") {
  const auto tcp =
      ok({"get", "--field", "password", "kv-demo/sample", "--address", "http://127.0.0.1:8100"});
  CHECK(tcp.get == app::get_options{.path = "kv-demo/sample",
                                    .address = "http://127.0.0.1:8100",
                                    .field = "password"});
  const auto unix = ok(
      {"get", "--unix-socket=/run/s.sock", "--format=env", "--timeout=500ms", "database/creds/r"});
  CHECK(unix.get == app::get_options{.path = "database/creds/r",
                                     .unix_socket = "/run/s.sock",
                                     .format = app::get_format::env,
                                     .timeout = std::chrono::milliseconds{500}});
  const auto file = ok({"get", "--config", "/etc/s.ini", "--format", "raw", "/v1/kv/x"});
  CHECK(file.config_path == "/etc/s.ini");
  CHECK(file.get.config_given);
  CHECK(file.get.format == app::get_format::raw);
  CHECK(ok({"get", "--format", "json", "a/b"}).get.format == app::get_format::json);
  CHECK(ok({"get", "--timeout", "2", "a/b"}).get.timeout == std::chrono::seconds{2});
  // After --, a path may start with a dash.
  CHECK(ok({"get", "--", "-odd/name"}).get.path == "-odd/name");
  CHECK(ok({"get", "--field", "--", "--", "a/b"}).get ==
        app::get_options{.path = "a/b", .field = "--"});
  CHECK(ok({"get", "a/b", "--help"}).what == action::help);
  CHECK(ok({"get", "--version"}).what == action::version);
}

TEST_CASE("parse_command_line: bad get usage is explained", "[app]") {
  CHECK(error({"get"}) == "get needs the path of a secret");
  CHECK(error({"get", "--field", "x"}) == "get needs the path of a secret");
  CHECK(error({"get", "a/b", "c/d"}) == "unexpected argument \"c/d\"");
  CHECK(error({"get", ""}) == "unexpected argument \"\"");
  CHECK(error({"get", "a/b", "--field"}) == "--field needs a NAME");
  CHECK(error({"get", "a/b", "--field="}) == "--field needs a NAME");
  CHECK(error({"get", "a/b", "--address"}) == "--address needs a URL");
  CHECK(error({"get", "a/b", "--unix-socket", ""}) == "--unix-socket needs a PATH");
  CHECK(error({"get", "a/b", "--format"}) == "--format needs a json|env|raw");
  CHECK(error({"get", "a/b", "--format", "yaml"}) ==
        "--format must be json, env or raw, not \"yaml\"");
  CHECK(error({"get", "a/b", "--timeout", "soon"}).starts_with("--timeout: "));
  CHECK(error({"get", "a/b", "--timeout", "0"}) == "--timeout must be at least 1ms");
  CHECK(error({"get", "a/b", "--field", "x", "--field", "y"}) == "--field given twice");
  CHECK(error({"get", "a/b", "--field", "x", "--format", "env"}) ==
        "--field and --format exclude one another");
  CHECK(error({"get", "a/b", "--address", "http://127.0.0.1:1", "--unix-socket", "/s"}) ==
        "--address, --unix-socket and --config exclude one another");
  CHECK(error({"get", "a/b", "--config", "x.ini", "--unix-socket", "/s"}) ==
        "--address, --unix-socket and --config exclude one another");
  CHECK(error({"get", "a/b", "--online"}) == "--online goes only with check");
  CHECK(error({"get", "-x", "a/b"}) == "unknown option -x");
  CHECK(error({"--field", "x"}) == "--field goes only with get");
  CHECK(error({"check", "--format", "env"}) == "--format goes only with get");
  CHECK(error({"health", "--address", "http://127.0.0.1:8100"}) == "--address goes only with get");
  CHECK(error({"a/b", "get"}) == "unexpected argument \"a/b\"");
  CHECK(error({"check", "--"}) == "unknown option --");
}

TEST_CASE("usage: lists get, its formats and its exit codes", "[app]") {
  const auto text = app::usage();
  CHECK(text.find("vault-sidecar get [--address URL | --unix-socket PATH | --config FILE]") !=
        std::string::npos);
  CHECK(text.find("[--field NAME | --format json|env|raw]") != std::string::npos);
  CHECK(text.find("get: 2 no such secret or field, 3 path refused, 69 sidecar unreachable, 1 "
                  "otherwise.") != std::string::npos);
}
