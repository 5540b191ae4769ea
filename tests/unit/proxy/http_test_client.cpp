#include "http_test_client.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

extern char** environ;

namespace sidecar::proxy::testing {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

std::string http_answer::header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string{} : it->second;
}

http_test_client http_test_client::connect_tcp(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    throw std::runtime_error(std::string{"connect() failed: "} + std::strerror(errno));
  }
  return http_test_client{fd};
}

http_test_client http_test_client::connect_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) throw std::runtime_error("path too long");
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    throw std::runtime_error(std::string{"connect() failed: "} + std::strerror(errno));
  }
  return http_test_client{fd};
}

http_test_client::http_test_client(http_test_client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)), eof_(other.eof_) {}

http_test_client::~http_test_client() { close(); }

void http_test_client::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool http_test_client::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool http_test_client::fill(std::chrono::steady_clock::time_point deadline) {
  if (eof_) return false;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd waiting{.fd = fd_, .events = POLLIN, .revents = 0};
  if (::poll(&waiting, 1, static_cast<int>(left.count())) <= 0) return false;
  std::array<char, 16384> chunk{};
  const auto n = ::recv(fd_, chunk.data(), chunk.size(), 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buffer_.append(chunk.data(), static_cast<std::size_t>(n));
  return true;
}

std::optional<http_answer> http_test_client::read_answer(bool head,
                                                         std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t end = 0;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) return std::nullopt;
  }
  http_answer answer;
  const std::string head_text = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  std::size_t line_end = head_text.find("\r\n");
  const std::string status_line = head_text.substr(0, line_end);
  const auto space = status_line.find(' ');
  if (space == std::string::npos || !status_line.starts_with("HTTP/")) return std::nullopt;
  answer.version = status_line.substr(0, space);
  answer.status = static_cast<unsigned>(std::stoul(status_line.substr(space + 1, 3)));
  while (line_end != std::string::npos) {
    const auto start = line_end + 2;
    line_end = head_text.find("\r\n", start);
    const auto line = head_text.substr(
        start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const auto colon = line.find(':');
    if (colon == std::string::npos) return std::nullopt;
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    answer.headers[lower(line.substr(0, colon))] = value;
  }
  if (head || answer.status < 200 || answer.status == 204 || answer.status == 304) return answer;
  if (const auto length = answer.header("content-length"); !length.empty()) {
    const auto size = std::stoul(length);
    while (buffer_.size() < size) {
      if (!fill(deadline)) return std::nullopt;
    }
    answer.body = buffer_.substr(0, size);
    buffer_.erase(0, size);
    return answer;
  }
  if (!answer.header("transfer-encoding").empty()) return std::nullopt;  // not needed here
  while (fill(deadline)) {
  }
  answer.body = std::move(buffer_);
  buffer_.clear();
  return answer;
}

bool http_test_client::closed_by_peer(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (fill(deadline)) {
  }
  return eof_;
}

std::optional<http_answer> http_test_client::request(std::string_view method,
                                                     std::string_view target,
                                                     const std::vector<std::string>& extra_headers,
                                                     std::string_view body) {
  std::string text;
  text.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: localhost\r\n");
  for (const auto& header : extra_headers) text.append(header).append("\r\n");
  if (!body.empty() || method == "PUT" || method == "POST") {
    text.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  text.append("\r\n").append(body);
  if (!send(text)) return std::nullopt;
  return read_answer(method == "HEAD");
}

curl_result run_curl(const std::vector<std::string>& arguments) {
  // posix_spawn, not fork: the test process runs io threads, and only exec is safe after a
  // fork of a threaded process.
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> copies = arguments;
  std::string program = "curl";
  std::vector<char*> argv{program.data()};
  for (auto& argument : copies) argv.push_back(argument.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  pid_t child = -1;
  const int spawned = ::posix_spawnp(&child, "curl", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  curl_result result;
  if (spawned != 0) {
    ::close(pipe_fds[0]);
    return result;
  }
  std::array<char, 4096> chunk{};
  for (;;) {
    const auto n = ::read(pipe_fds[0], chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(chunk.data(), static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::size_t open_fd_count() {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)entry;
    ++count;
  }
  return count;
}

}  // namespace sidecar::proxy::testing
