#include <sidecar/core/log.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <mutex>
#include <string>

namespace sidecar::core {
namespace {

constexpr const char* text_pattern = "%Y-%m-%dT%H:%M:%S.%e%z %l %n: %v";

// One JSON object per line: ts, level, component, msg. The message is escaped by nlohmann so a
// quote or newline in it cannot break the line apart.
class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ts =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch());
    nlohmann::json line{
        {"ts", static_cast<double>(ts.count()) / 1000.0},
        {"level", std::string{spdlog::level::to_string_view(msg.level).data(),
                              spdlog::level::to_string_view(msg.level).size()}},
        {"component", std::string{msg.logger_name.data(), msg.logger_name.size()}},
        {"msg", std::string{msg.payload.data(), msg.payload.size()}},
    };
    const auto text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }
};

struct logging_state {
  std::mutex mutex;
  std::shared_ptr<spdlog::sinks::dist_sink_mt> fanout =
      std::make_shared<spdlog::sinks::dist_sink_mt>();
  spdlog::level::level_enum level = spdlog::level::info;
  log_format format = log_format::text;
  bool stderr_attached = false;
};

logging_state& state() {
  static logging_state instance;
  return instance;
}

std::unique_ptr<spdlog::formatter> make_formatter(log_format format) {
  if (format == log_format::json) return std::make_unique<json_formatter>();
  return std::make_unique<spdlog::pattern_formatter>(text_pattern);
}

}  // namespace

void configure_logging(spdlog::level::level_enum level, log_format format) {
  auto& s = state();
  std::lock_guard lock{s.mutex};
  if (!s.stderr_attached) {
    s.fanout->add_sink(std::make_shared<spdlog::sinks::stderr_sink_mt>());
    s.stderr_attached = true;
  }
  s.level = level;
  s.format = format;
  s.fanout->set_formatter(make_formatter(format));
  spdlog::apply_all([level](const std::shared_ptr<spdlog::logger>& l) { l->set_level(level); });
}

std::shared_ptr<spdlog::logger> logger(std::string_view component) {
  const std::string name{component};
  if (auto existing = spdlog::get(name)) return existing;
  auto& s = state();
  std::lock_guard lock{s.mutex};
  if (auto existing = spdlog::get(name)) return existing;
  auto created = std::make_shared<spdlog::logger>(name, s.fanout);
  created->set_level(s.level);
  created->flush_on(spdlog::level::trace);
  spdlog::register_logger(created);
  return created;
}

void add_log_sink(spdlog::sink_ptr sink) {
  auto& s = state();
  std::lock_guard lock{s.mutex};
  sink->set_formatter(make_formatter(s.format));
  s.fanout->add_sink(std::move(sink));
}

void remove_log_sink(const spdlog::sink_ptr& sink) {
  auto& s = state();
  std::lock_guard lock{s.mutex};
  s.fanout->remove_sink(sink);
}

bool parse_log_level(std::string_view text, spdlog::level::level_enum& level) noexcept {
  constexpr std::array<std::pair<std::string_view, spdlog::level::level_enum>, 5> names{{
      {"trace", spdlog::level::trace},
      {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},
  }};
  for (const auto& [name, value] : names) {
    if (text == name) {
      level = value;
      return true;
    }
  }
  return false;
}

}  // namespace sidecar::core
