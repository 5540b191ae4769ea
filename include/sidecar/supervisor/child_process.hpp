#pragma once

#include <sidecar/core/asio.hpp>
#include <sidecar/core/result.hpp>
#include <sidecar/core/secret_string.hpp>

#include <boost/asio/posix/stream_descriptor.hpp>

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sidecar::supervisor {

/// One started program, waited for through a pidfd (Linux >= 5.3) registered with Asio, so no
/// process-wide SIGCHLD handler is needed and a reaped pid is never signalled by mistake.
///
/// The program is found on PATH (posix_spawnp), runs in a process group of its own (as Vault
/// Agent's exec does: a terminal's Ctrl-C then reaches it once, through the sidecar, and a stop
/// reaches its own children too), with every signal at its default disposition and an empty
/// signal mask (the sidecar ignores SIGPIPE; the app must not inherit that), stdin, stdout and
/// stderr inherited and every other descriptor closed.
///
/// Thread affinity: io thread only. Cancellation: a cancelled async_wait_exit() yields nothing
/// and the program goes on. Lifetime: destroying an unreaped child kills its process group with
/// SIGKILL and reaps it, so no program outlives its owner unseen. Errors: spawn() returns the
/// errno of posix_spawnp or pidfd_open.
class child_process final {
 public:
  /// Starts `arguments[0]` with `arguments` and exactly `environment` ("NAME=value" entries).
  [[nodiscard]] static result<std::unique_ptr<child_process>> spawn(
      const net::any_io_executor& executor, const std::vector<std::string>& arguments,
      const std::vector<core::secret_string>& environment);

  /// Only spawn() can name the key, so every instance is a started program.
  class key final {
    friend class child_process;
    key() = default;
  };
  child_process(key, const net::any_io_executor& executor, int pidfd, pid_t pid);

  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// Not yet reaped.
  [[nodiscard]] bool running() const noexcept { return !exit_code_; }

  /// Sends `number` to the program's process group; does nothing once it has been reaped.
  void signal(int number) const noexcept;

  /// Waits until the program ends, reaps it and yields its exit code (128 + signal when a
  /// signal ended it); at once when already reaped. Nothing when the wait was cancelled.
  net::awaitable<std::optional<int>> async_wait_exit();

 private:
  using pidfd_descriptor =
      net::as_tuple_t<net::use_awaitable_t<>>::as_default_on_t<net::posix::stream_descriptor>;

  /// Reaps the program if it has ended.
  void try_reap();

  pidfd_descriptor pidfd_;
  pid_t pid_;
  std::optional<int> exit_code_;
};

}  // namespace sidecar::supervisor
