#include <sidecar/supervisor/exit_status.hpp>

#include <sys/wait.h>

#include <cerrno>

namespace sidecar::supervisor {

int exit_code_of(int code, int status) noexcept {
  return code == CLD_EXITED ? status : 128 + status;
}

int exit_code_of_spawn_failure(const boost::system::error_code& ec) noexcept {
  return ec == boost::system::errc::no_such_file_or_directory ? 127 : 126;
}

}  // namespace sidecar::supervisor
