#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace sidecar::supervisor {

/// Why the supervisor could not bring the app up. The specifics (which template, secret, key,
/// file or command) are in the log line written where the failure happened; these codes tell
/// the daemon which exit code to use.
enum class errc {
  template_unreadable = 1,  ///< a [template.NAME] source could not be read
  render_failed,            ///< a template or an [env] value could not be rendered
  write_failed,             ///< a rendered file could not be written
  spawn_failed,             ///< the [exec] command could not be started
};

[[nodiscard]] const boost::system::error_category& error_category() noexcept;

[[nodiscard]] inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace sidecar::supervisor

template <>
struct boost::system::is_error_code_enum<sidecar::supervisor::errc> : std::true_type {};
