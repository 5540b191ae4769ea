#include <sidecar/core/background_tasks.hpp>
#include <sidecar/core/log.hpp>

#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include <chrono>
#include <sstream>
#include <stdexcept>

using namespace sidecar;
using namespace std::chrono_literals;

namespace {

net::awaitable<void> wait_forever(int& ended) {
  steady_timer timer{co_await net::this_coro::executor, std::chrono::hours{1}};
  co_await timer.async_wait();  // cancelled: returns with operation_aborted
  ++ended;
}

net::awaitable<void> fail_at_once() {
  throw std::runtime_error{"the loop broke"};
  co_return;
}

}  // namespace

TEST_CASE("background_tasks: cancel_all ends every waiting task", "[core]") {
  net::io_context io;
  core::background_tasks tasks{io.get_executor(), core::logger("test")};
  int ended = 0;
  tasks.spawn("first", wait_forever(ended));
  tasks.spawn("second", wait_forever(ended));
  net::post(io, [&] { tasks.cancel_all(); });
  const auto started = std::chrono::steady_clock::now();
  io.run();  // returns only once both tasks have ended
  CHECK(ended == 2);
  CHECK(std::chrono::steady_clock::now() - started < 30s);
}

TEST_CASE("background_tasks: a task that throws is logged with its name", "[core]") {
  std::ostringstream out;
  const auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  core::add_log_sink(sink);
  net::io_context io;
  core::background_tasks tasks{io.get_executor(), core::logger("test")};
  tasks.spawn("cache refresh", fail_at_once());
  io.run();
  core::remove_log_sink(sink);
  CHECK(out.str().find("cache refresh failed: the loop broke") != std::string::npos);
}
