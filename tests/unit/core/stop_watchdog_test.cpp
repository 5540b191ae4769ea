#include <sidecar/core/stop_watchdog.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>

using namespace std::chrono_literals;
using sidecar::core::stop_watchdog;
namespace net = boost::asio;

TEST_CASE("stop_watchdog stops an io_context that is still busy after the grace period", "[core]") {
  net::io_context io;
  auto work = net::make_work_guard(io);  // work that never finishes on its own
  stop_watchdog watchdog{io};
  std::atomic<int> expiries{0};
  const auto started = std::chrono::steady_clock::now();
  watchdog.arm(50ms, [&] { ++expiries; });
  watchdog.arm(1ms, [&] { expiries += 10; });  // only the first arm counts
  io.run();
  const auto took = std::chrono::steady_clock::now() - started;
  watchdog.disarm();
  CHECK(io.stopped());
  CHECK(expiries == 1);
  CHECK(took >= 50ms);
  CHECK(took < 5s);
}

TEST_CASE("stop_watchdog disarmed in time leaves the io_context alone", "[core]") {
  net::io_context io;
  stop_watchdog watchdog{io};
  std::atomic<int> expiries{0};
  watchdog.arm(10s, [&] { ++expiries; });
  io.run();  // no work: returns at once
  const auto started = std::chrono::steady_clock::now();
  watchdog.disarm();  // joins without waiting out the grace period
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK(expiries == 0);
  io.restart();
  int ran = 0;
  net::post(io, [&] { ++ran; });
  io.run();
  CHECK(ran == 1);
}

TEST_CASE("stop_watchdog never armed disarms at once", "[core]") {
  net::io_context io;
  stop_watchdog watchdog{io};
  watchdog.disarm();
  watchdog.arm(1ms, [] {});  // after disarm: ignored
  io.run();
  CHECK(io.stopped());
}
