#pragma once

// Small blocking HTTP/1.x client over POSIX sockets for listener tests. It sends bytes exactly
// as given (malformed requests, trickled headers, oversized bodies) and reads answers with
// Content-Length or close-delimited bodies. Every wait has a timeout so a broken server fails a
// test instead of hanging it.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::proxy::testing {

struct http_answer {
  std::string version;  ///< "HTTP/1.1"
  unsigned status = 0;
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
  [[nodiscard]] std::string header(const std::string& lower_name) const;
};

class http_test_client {
 public:
  static http_test_client connect_tcp(std::uint16_t port);
  static http_test_client connect_unix(const std::string& path);

  http_test_client(http_test_client&& other) noexcept;
  http_test_client& operator=(http_test_client&&) = delete;
  ~http_test_client();

  /// Sends all of `bytes`; false once the peer has closed or reset.
  bool send(std::string_view bytes);
  /// One answer; `head` when it answers a HEAD (no body follows). nullopt on EOF, reset,
  /// timeout or bytes that are not an HTTP answer.
  std::optional<http_answer> read_answer(bool head = false,
                                         std::chrono::milliseconds timeout = std::chrono::seconds{
                                             10});
  /// True when the peer closes (EOF or reset) within `timeout`, with nothing else to read.
  bool closed_by_peer(std::chrono::milliseconds timeout = std::chrono::seconds{5});
  void close();

  /// send + read_answer for a simple request with Host and Content-Length filled in.
  std::optional<http_answer> request(std::string_view method, std::string_view target,
                                     const std::vector<std::string>& extra_headers = {},
                                     std::string_view body = {});

 private:
  explicit http_test_client(int fd) : fd_(fd) {}
  bool fill(std::chrono::steady_clock::time_point deadline);  // reads more into buffer_

  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

/// Runs curl with `arguments` (already split) and returns its exit code and stdout.
struct curl_result {
  int exit_code = -1;
  std::string output;
};
curl_result run_curl(const std::vector<std::string>& arguments);

/// Entries in /proc/self/fd right now.
std::size_t open_fd_count();

}  // namespace sidecar::proxy::testing
