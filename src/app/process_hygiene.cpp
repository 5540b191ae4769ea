#include <sidecar/app/process_hygiene.hpp>

#include <sidecar/core/log.hpp>

#include <openssl/crypto.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

namespace sidecar::app {

bool open_file_limit_suffices(std::uint64_t soft, std::size_t max_connections) noexcept {
  return soft >= fds_besides_connections &&
         soft - fds_besides_connections >= static_cast<std::uint64_t>(max_connections);
}

std::uint64_t raise_open_file_limit(std::size_t max_connections) {
  const auto log = core::logger("app");
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0) {
    log->warn("could not read RLIMIT_NOFILE: {}", std::strerror(errno));
    return 0;
  }
  if (files.rlim_cur < files.rlim_max) {
    rlimit raised{files.rlim_max, files.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      files = raised;
    } else {
      log->warn("could not raise RLIMIT_NOFILE from {} to {}: {}", files.rlim_cur, files.rlim_max,
                std::strerror(errno));
    }
  }
  if (!open_file_limit_suffices(files.rlim_cur, max_connections)) {
    log->warn(
        "listener.max_connections = {} needs more file descriptors than the limit of {} "
        "allows (raise LimitNOFILE / ulimit -Hn)",
        max_connections, files.rlim_cur);
  }
  return files.rlim_cur;
}

void scrub_environment(std::initializer_list<const char*> names) noexcept {
  for (const char* name : names) {
    if (char* value = std::getenv(name)) {
      OPENSSL_cleanse(value, std::strlen(value));
      ::unsetenv(name);
    }
  }
}

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
      log->error(
          "[security] lock_memory: mlockall failed: {} (raise LimitMEMLOCK / "
          "RLIMIT_MEMLOCK or grant CAP_IPC_LOCK)",
          std::strerror(errno));
    } else {
      log->info("[security] lock_memory: all memory locked in RAM");
    }
  }
}

}  // namespace sidecar::app
