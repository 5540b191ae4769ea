#include <sidecar/proxy/lazy_deadline.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

using namespace sidecar;
using namespace std::chrono_literals;
using proxy::lazy_deadline;
using clock_type = std::chrono::steady_clock;

namespace {

// Runs `script` next to a deadline's watch on one io_context and returns when both are done;
// each expiry is recorded as the time since the start.
struct watched {
  net::io_context io;
  lazy_deadline deadline{io.get_executor()};
  clock_type::time_point started = clock_type::now();
  std::vector<clock_type::duration> expiries;

  template <class Script>
  void run(Script script) {
    net::co_spawn(io,
                  deadline.async_watch([this] { expiries.push_back(clock_type::now() - started); }),
                  net::detached);
    net::co_spawn(io, script(*this), net::detached);
    io.run();
  }

  net::awaitable<void> sleep(clock_type::duration d) {
    steady_timer timer{io, d};
    co_await timer.async_wait();
  }
};

}  // namespace

TEST_CASE("lazy_deadline: expires once at its deadline and then waits for a new one", "[proxy]") {
  watched w;
  w.run([](watched& self) -> net::awaitable<void> {
    self.deadline.expires_after(50ms);
    co_await self.sleep(300ms);
    self.deadline.stop();
  });
  REQUIRE(w.expiries.size() == 1);
  CHECK(w.expiries[0] >= 50ms);
  CHECK(w.expiries[0] < 250ms);
  CHECK(w.deadline.deadline() == clock_type::time_point::max());
}

TEST_CASE("lazy_deadline: a later deadline postpones the expiry without an early one", "[proxy]") {
  watched w;
  w.run([](watched& self) -> net::awaitable<void> {
    self.deadline.expires_after(100ms);
    co_await self.sleep(60ms);
    self.deadline.expires_after(150ms);  // now due at ~210 ms: the armed timer wakes at 100 ms
    co_await self.sleep(400ms);
    self.deadline.stop();
  });
  REQUIRE(w.expiries.size() == 1);
  CHECK(w.expiries[0] >= 210ms);
}

TEST_CASE("lazy_deadline: an earlier deadline re-arms the timer at once", "[proxy]") {
  watched w;
  w.run([](watched& self) -> net::awaitable<void> {
    self.deadline.expires_after(60s);
    co_await self.sleep(10ms);
    self.deadline.expires_after(50ms);
    co_await self.sleep(500ms);
    self.deadline.stop();
  });
  REQUIRE(w.expiries.size() == 1);
  CHECK(w.expiries[0] >= 60ms);
  CHECK(w.expiries[0] < 450ms);  // far from the 60 s first armed
}

TEST_CASE("lazy_deadline: expires_never and stop leave nothing to expire", "[proxy]") {
  watched w;
  w.run([](watched& self) -> net::awaitable<void> {
    self.deadline.expires_after(50ms);
    self.deadline.expires_never();
    co_await self.sleep(200ms);
    self.deadline.expires_after(30ms);
    self.deadline.stop();  // before it is due: the watch ends, io.run() returns
    co_return;
  });
  CHECK(w.expiries.empty());
  CHECK(clock_type::now() - w.started < 5s);
}
