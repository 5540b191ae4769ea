#include <sidecar/core/log.hpp>
#include <sidecar/core/secret_string.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

namespace {

struct captured_log {
  std::ostringstream out;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  captured_log() { sidecar::core::add_log_sink(sink); }
  ~captured_log() { sidecar::core::remove_log_sink(sink); }
};

}  // namespace

TEST_CASE("logging: json lines carry ts, level, component and an escaped msg", "[core]") {
  sidecar::core::configure_logging(spdlog::level::debug, sidecar::core::log_format::json);
  captured_log log;
  sidecar::core::logger("auth")->info("renewed \"token\"\nnext in {}s", 48);
  const auto line = log.out.str();
  REQUIRE(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  const auto parsed = nlohmann::json::parse(line);
  CHECK(parsed["level"] == "info");
  CHECK(parsed["component"] == "auth");
  CHECK(parsed["msg"] == "renewed \"token\"\nnext in 48s");
  CHECK(parsed["ts"].is_number());
}

TEST_CASE("logging: a secret_string argument prints as ***", "[core]") {
  sidecar::core::configure_logging(spdlog::level::trace, sidecar::core::log_format::text);
  captured_log log;
  const sidecar::core::secret_string token{std::string{"hvs.canary-123"}};
  sidecar::core::logger("auth")->trace("token {}", token);
  CHECK(log.out.str().find("hvs.canary-123") == std::string::npos);
  CHECK(log.out.str().find("token ***") != std::string::npos);
}

TEST_CASE("logging: lines below the configured level are dropped", "[core]") {
  sidecar::core::configure_logging(spdlog::level::warn, sidecar::core::log_format::text);
  captured_log log;
  sidecar::core::logger("cache")->info("quiet");
  sidecar::core::logger("cache")->warn("loud");
  CHECK(log.out.str().find("quiet") == std::string::npos);
  CHECK(log.out.str().find("cache: loud") != std::string::npos);
}

TEST_CASE("parse_log_level: accepts the five documented names only", "[core]") {
  spdlog::level::level_enum level{};
  CHECK(sidecar::core::parse_log_level("trace", level));
  CHECK(level == spdlog::level::trace);
  CHECK(sidecar::core::parse_log_level("error", level));
  CHECK(level == spdlog::level::err);
  CHECK_FALSE(sidecar::core::parse_log_level("verbose", level));
  CHECK_FALSE(sidecar::core::parse_log_level("INFO", level));
}
