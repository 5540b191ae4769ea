#pragma once

#include <sidecar/config/parser.hpp>

#include <iosfwd>
#include <span>
#include <string_view>

namespace sidecar::app {

/// The program behind `main`: the real arguments, environment and standard streams. Returns
/// the process exit code; an exception escaping everything else is reported and yields 70.
[[nodiscard]] int main_entry(int argc, char** argv);

/// main_entry with the outside world passed in (`arguments` without the program name), so
/// tests drive every path short of the daemon itself. Usage errors print the message and the
/// usage to `err` (64); a bad configuration prints every problem to `err` (78) before anything
/// starts; a valid one configures logging from [log] and hands over to run_daemon. `check`,
/// `health` and `get` hand over to run_check / run_online_check / run_health / run_get.
[[nodiscard]] int run_program(std::span<const std::string_view> arguments,
                              const config::env_lookup& env, std::ostream& out, std::ostream& err);

}  // namespace sidecar::app
