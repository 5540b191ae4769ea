#include <sidecar/supervisor/child_process.hpp>

#include <sidecar/supervisor/exit_status.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace sidecar::supervisor {
namespace {

/// posix_spawn's attribute and file-action objects, destroyed on every path out.
class spawn_setup final {
 public:
  spawn_setup() {
    ::posix_spawnattr_init(&attributes_);
    ::posix_spawn_file_actions_init(&actions_);
  }
  ~spawn_setup() {
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attributes_);
  }
  spawn_setup(const spawn_setup&) = delete;
  spawn_setup& operator=(const spawn_setup&) = delete;

  /// Default dispositions and an empty mask (handlers are reset by exec anyway, but an ignored
  /// signal would stay ignored), a process group of its own, descriptors above 2 closed.
  int prepare() {
    sigset_t all;
    sigset_t none;
    ::sigfillset(&all);
    ::sigemptyset(&none);
    if (int rc = ::posix_spawnattr_setsigdefault(&attributes_, &all)) return rc;
    if (int rc = ::posix_spawnattr_setsigmask(&attributes_, &none)) return rc;
    if (int rc = ::posix_spawnattr_setpgroup(&attributes_, 0)) return rc;
    if (int rc = ::posix_spawnattr_setflags(
            &attributes_, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP)) {
      return rc;
    }
    return ::posix_spawn_file_actions_addclosefrom_np(&actions_, STDERR_FILENO + 1);
  }

  [[nodiscard]] const posix_spawnattr_t* attributes() const noexcept { return &attributes_; }
  [[nodiscard]] const posix_spawn_file_actions_t* actions() const noexcept { return &actions_; }

 private:
  posix_spawnattr_t attributes_{};
  posix_spawn_file_actions_t actions_{};
};

error_code system_error_code(int value) { return {value, boost::system::system_category()}; }

}  // namespace

result<std::unique_ptr<child_process>> child_process::spawn(
    const net::any_io_executor& executor, const std::vector<std::string>& arguments,
    const std::vector<core::secret_string>& environment) {
  if (arguments.empty()) return system_error_code(EINVAL);
  spawn_setup setup;
  if (int rc = setup.prepare()) return system_error_code(rc);
  // posix_spawn's C signature takes char* const[]; it does not write through them.
  std::vector<char*> argv;
  for (const auto& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& entry : environment) envp.push_back(const_cast<char*>(entry.reveal().data()));
  envp.push_back(nullptr);

  pid_t pid = 0;
  if (int rc = ::posix_spawnp(&pid, argv[0], setup.actions(), setup.attributes(), argv.data(),
                              envp.data())) {
    return system_error_code(rc);
  }
  const auto pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    const auto ec = system_error_code(errno);
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return ec;
  }
  return std::make_unique<child_process>(key{}, executor, pidfd, pid);
}

child_process::child_process(key, const net::any_io_executor& executor, int pidfd, pid_t pid)
    : pidfd_{executor, pidfd}, pid_{pid} {}

child_process::~child_process() {
  if (!running()) return;
  signal(SIGKILL);
  siginfo_t info{};
  while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.native_handle()), &info,
                  WEXITED) != 0 &&
         errno == EINTR) {
  }
}

void child_process::signal(int number) const noexcept {
  // Until reaped the pid is ours (a zombie keeps it), so the group cannot be someone else's.
  if (running()) ::kill(-pid_, number);
}

net::awaitable<std::optional<int>> child_process::async_wait_exit() {
  for (;;) {
    if (!exit_code_) try_reap();
    if (exit_code_) co_return exit_code_;
    auto [ec] = co_await pidfd_.async_wait(net::posix::descriptor_base::wait_read);
    if (ec == net::error::operation_aborted) co_return std::nullopt;
    if (ec) throw std::system_error{ec, "waiting on a pidfd"};
  }
}

void child_process::try_reap() {
  siginfo_t info{};
  while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.native_handle()), &info,
                  WEXITED | WNOHANG) != 0) {
    // Only EINTR can happen to our own unreaped child; anything else is a broken invariant.
    if (errno != EINTR) throw std::system_error{errno, std::generic_category(), "waitid"};
  }
  if (info.si_pid != 0) exit_code_ = exit_code_of(info.si_code, info.si_status);
}

}  // namespace sidecar::supervisor
