#pragma once

// Stands in for the sidecar's listener in the command-line clients' tests (`health`, `get`):
// answers each connection, in order, with the next canned bytes after reading the request head,
// and keeps every request.

#include <sidecar/core/asio.hpp>

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sidecar::testing {

/// Serves one connection per answer, in order, on its own thread. An empty answer reads the
/// request and then holds the connection open, unanswered, until the server is destroyed.
template <class Protocol>
class fake_sidecar {
 public:
  fake_sidecar(typename Protocol::endpoint endpoint, std::vector<std::string> answers)
      : acceptor_{io_, endpoint}, answers_{std::move(answers)} {
    thread_ = std::thread{[this] { serve(); }};
  }
  fake_sidecar(typename Protocol::endpoint endpoint, std::string answer)
      : fake_sidecar{endpoint, std::vector<std::string>{std::move(answer)}} {}
  ~fake_sidecar() {
    stop_ = true;
    // Unblock the accepts of connections the test never made.
    for (auto left = answers_.size() - accepted_; left > 0; --left) {
      error_code ignored;
      typename Protocol::socket poke{io_};
      poke.connect(acceptor_.local_endpoint(), ignored);
    }
    thread_.join();
  }
  fake_sidecar(const fake_sidecar&) = delete;
  fake_sidecar& operator=(const fake_sidecar&) = delete;

  [[nodiscard]] typename Protocol::endpoint endpoint() const { return acceptor_.local_endpoint(); }

  /// The request heads received so far.
  [[nodiscard]] std::vector<std::string> requests() const {
    const std::lock_guard lock{mutex_};
    return requests_;
  }

  /// The first request head, waiting for it.
  [[nodiscard]] std::string request() const {
    while (served_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds{10});
    return requests().front();
  }

 private:
  void serve() {
    for (const auto& answer : answers_) {
      error_code ec;
      typename Protocol::socket socket{io_};
      acceptor_.accept(socket, ec);
      ++accepted_;
      if (ec || stop_) return;
      net::streambuf head;
      net::read_until(socket, head, "\r\n\r\n", ec);
      {
        const std::lock_guard lock{mutex_};
        requests_.emplace_back(net::buffers_begin(head.data()), net::buffers_end(head.data()));
      }
      ++served_;
      if (answer.empty()) {
        while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds{10});
        return;
      }
      net::write(socket, net::buffer(answer), ec);
    }
  }

  net::io_context io_;
  typename Protocol::acceptor acceptor_;
  std::vector<std::string> answers_;
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::atomic<std::size_t> accepted_{0};
  std::atomic<std::size_t> served_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// An HTTP/1.1 answer with a JSON body, closing the connection.
inline std::string http_answer(int status, std::string_view body) {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + std::string{body};
}

}  // namespace sidecar::testing
