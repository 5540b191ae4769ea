#include <sidecar/app/process_hygiene.hpp>

#include <sidecar/core/log.hpp>

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace sidecar::app {

void harden_process(const config::security_config& security) {
  const auto log = core::logger("app");
  const rlimit no_core{0, 0};
  if (::setrlimit(RLIMIT_CORE, &no_core) != 0) {
    log->warn("could not set RLIMIT_CORE to 0: {}", std::strerror(errno));
  }
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    log->warn("could not disable core dumps (PR_SET_DUMPABLE): {}", std::strerror(errno));
  }
  ::umask(077);
  std::signal(SIGPIPE, SIG_IGN);
  if (security.lock_memory) {
    if (::mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
      log->error("[security] lock_memory: mlockall failed: {} (raise LimitMEMLOCK / "
                 "RLIMIT_MEMLOCK or grant CAP_IPC_LOCK)", std::strerror(errno));
    } else {
      log->info("[security] lock_memory: all memory locked in RAM");
    }
  }
}

}  // namespace sidecar::app
