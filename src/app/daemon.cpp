#include <sidecar/app/daemon.hpp>
#include <sidecar/app/exit_code.hpp>
#include <sidecar/core/log.hpp>

namespace sidecar::app {

int run_daemon(const config::config& cfg) {
  core::logger("app")->error("daemon mode is not wired yet (configuration {} is valid)", cfg.file);
  return exit_code::internal;
}

}  // namespace sidecar::app
