#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <string_view>

namespace sidecar::core {

enum class log_format { text, json };

/// Sets the level and line format of every component logger. Lines go to stderr (journald and
/// container runtimes collect them there), one line per event. Safe to call again (SIGHUP).
void configure_logging(spdlog::level::level_enum level, log_format format);

/// The logger of one component ("auth", "proxy", ...); its name is the `component` field of a
/// line. Created on first use; shares the sinks configured above. Thread-safe.
[[nodiscard]] std::shared_ptr<spdlog::logger> logger(std::string_view component);

/// Sends every line to `sink` as well (tests capture the log this way), with the current format.
void add_log_sink(spdlog::sink_ptr sink);
void remove_log_sink(const spdlog::sink_ptr& sink);

/// Parses `trace|debug|info|warn|error`; false for anything else.
[[nodiscard]] bool parse_log_level(std::string_view text,
                                   spdlog::level::level_enum& level) noexcept;

}  // namespace sidecar::core
