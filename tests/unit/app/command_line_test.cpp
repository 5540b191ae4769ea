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
