#include <sidecar/supervisor/atomic_file.hpp>

#include <sidecar/core/secret_string.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <utility>

namespace sidecar::supervisor {
namespace {

using boost::system::error_code;

error_code last_error() { return {errno, boost::system::system_category()}; }

// result<bool> cannot tell an error_code from a bool on its own.
result<bool> failure(const error_code& ec) { return {boost::system::in_place_error, ec}; }

/// Closes a descriptor on every path out of a function.
class descriptor final {
 public:
  explicit descriptor(int fd) noexcept : fd_{fd} {}
  ~descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  descriptor(descriptor&& other) noexcept : fd_{std::exchange(other.fd_, -1)} {}
  descriptor(const descriptor&) = delete;
  descriptor& operator=(const descriptor&) = delete;
  descriptor& operator=(descriptor&&) = delete;

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  /// Closes now, reporting the error close() can carry (a deferred write failure on NFS).
  error_code close() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? error_code{} : last_error();
  }

 private:
  int fd_;
};

/// Whether `path` is a regular file holding exactly `content` with mode `perms`.
bool holds(const std::string& path, std::string_view content, unsigned perms) {
  const descriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
  struct stat status {};
  if (!file.valid() || ::fstat(file.get(), &status) != 0 || !S_ISREG(status.st_mode) ||
      (status.st_mode & 07777) != perms ||
      static_cast<std::size_t>(status.st_size) != content.size()) {
    return false;
  }
  std::string held(content.size() + 1, '\0');  // one more: a file that grew meanwhile differs
  std::size_t got = 0;
  for (;;) {
    const auto n = ::read(file.get(), held.data() + got, held.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
    if (got == held.size()) break;
  }
  const bool same = got == content.size() && std::string_view{held}.substr(0, got) == content;
  core::cleanse(held);
  return same;
}

error_code write_all(int fd, std::string_view content) {
  while (!content.empty()) {
    const auto n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return last_error();
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

/// A new, empty file beside `path` that nobody else can have opened (O_EXCL), or the error.
result<std::pair<descriptor, std::string>> create_temporary(const std::string& path,
                                                            unsigned perms) {
  static std::atomic<unsigned> counter{0};
  const auto slash = path.rfind('/');
  const auto base = slash == std::string::npos ? path : path.substr(slash + 1);
  const auto prefix = path.substr(0, path.size() - base.size()) + '.' + base + ".tmp-" +
                      std::to_string(::getpid()) + '-';
  for (;;) {
    auto name = prefix + std::to_string(counter.fetch_add(1));
    descriptor file{
        ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, perms)};
    if (file.valid()) return std::pair{std::move(file), std::move(name)};
    if (errno != EEXIST) return last_error();  // EEXIST: a leftover of a crash; try the next
  }
}

}  // namespace

result<bool> write_file_if_changed(const std::string& path, std::string_view content,
                                   unsigned perms) {
  if (holds(path, content, perms)) return false;
  auto created = create_temporary(path, perms);
  if (!created) return failure(created.error());
  auto& [file, temporary] = *created;
  auto failed = [&temporary](error_code ec) -> result<bool> {
    ::unlink(temporary.c_str());
    return failure(ec);
  };
  // The umask may have narrowed the mode given to open(); fchmod sets exactly `perms`.
  if (::fchmod(file.get(), perms) != 0) return failed(last_error());
  if (auto ec = write_all(file.get(), content)) return failed(ec);
  if (::fsync(file.get()) != 0) return failed(last_error());
  if (auto ec = file.close()) return failed(ec);
  if (::rename(temporary.c_str(), path.c_str()) != 0) return failed(last_error());
  const descriptor directory{
      ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  // The file is in place either way; a directory that cannot be synced (some file systems
  // refuse fsync on a directory with EINVAL) only weakens crash durability.
  if (directory.valid()) (void)::fsync(directory.get());
  return true;
}

}  // namespace sidecar::supervisor
