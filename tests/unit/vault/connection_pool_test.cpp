#include <sidecar/vault/connection_pool.hpp>
#include <sidecar/vault/errc.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

// GCC 12 false positive on Asio's coroutine frames; see beast_client_test.cpp.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

using namespace sidecar;
using namespace std::chrono_literals;
using vault::connection_pool;

namespace {

vault::connection::deadline in(std::chrono::milliseconds from_now) {
  return std::chrono::steady_clock::now() + from_now;
}

void run(net::io_context& io, std::function<net::awaitable<void>()> body) {
  std::exception_ptr failure;
  net::co_spawn(io, std::move(body), [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
}

net::awaitable<void> pause(std::chrono::milliseconds how_long) {
  steady_timer timer{co_await net::this_coro::executor, how_long};
  co_await timer.async_wait();
}

}  // namespace

TEST_CASE("connection_pool: past the cap a request waits for a slot until its deadline",
          "[vault]") {
  net::io_context io;
  core::manual_clock clock;
  connection_pool pool{io.get_executor(), clock, 1, 30s};

  run(io, [&]() -> net::awaitable<void> {
    auto held = co_await pool.async_acquire(in(1000ms));
    REQUIRE(held.has_value());
    CHECK(held->get() == nullptr);  // a fresh slot: the caller makes the connection
    const auto started = std::chrono::steady_clock::now();
    const auto queued = co_await pool.async_acquire(in(100ms));
    const auto waited = std::chrono::steady_clock::now() - started;
    REQUIRE_FALSE(queued.has_value());
    CHECK(queued.error() == vault::errc::timeout);
    CHECK(waited >= 90ms);
    CHECK(waited < 1000ms);
    CHECK(pool.busy() == 1);
  });
  CHECK(pool.busy() == 0);
}

TEST_CASE("connection_pool: a released slot goes to the waiters first come, first served",
          "[vault]") {
  net::io_context io;
  core::manual_clock clock;
  connection_pool pool{io.get_executor(), clock, 1, 30s};
  std::optional<result<connection_pool::checkout>> first_waiter;
  std::optional<result<connection_pool::checkout>> second_waiter;

  run(io, [&]() -> net::awaitable<void> {
    std::optional<result<connection_pool::checkout>> held{co_await pool.async_acquire(in(5000ms))};
    REQUIRE(held->has_value());
    const auto executor = co_await net::this_coro::executor;
    net::co_spawn(
        executor,
        [&]() -> net::awaitable<void> {
          first_waiter.emplace(co_await pool.async_acquire(in(5000ms)));
        },
        net::detached);
    net::co_spawn(
        executor,
        [&]() -> net::awaitable<void> {
          second_waiter.emplace(co_await pool.async_acquire(in(5000ms)));
        },
        net::detached);
    co_await pause(20ms);
    CHECK_FALSE(first_waiter.has_value());
    CHECK_FALSE(second_waiter.has_value());

    held.reset();  // releases the slot
    co_await pause(20ms);
    REQUIRE(first_waiter.has_value());
    CHECK(first_waiter->has_value());
    CHECK_FALSE(second_waiter.has_value());
    CHECK(pool.busy() == 1);

    first_waiter.reset();
    co_await pause(20ms);
    REQUIRE(second_waiter.has_value());
    CHECK(second_waiter->has_value());
    second_waiter.reset();
  });
  CHECK(pool.busy() == 0);
}

TEST_CASE("connection_pool: a kept connection that is not usable is dropped at checkout",
          "[vault]") {
  net::io_context io;
  core::manual_clock clock;
  connection_pool pool{io.get_executor(), clock, 4, 30s};
  const vault::connection_target target{
      .address = {.tls = false, .host = "127.0.0.1", .port = 8200, .host_header = "127.0.0.1:8200"},
      .tls = nullptr,
      .verify_name = "127.0.0.1",
      .verify = true};

  run(io, [&]() -> net::awaitable<void> {
    {
      auto held = co_await pool.async_acquire(in(1000ms));
      REQUIRE(held.has_value());
      held->replace(std::make_unique<vault::connection>(io.get_executor(), target));
      held->keep();
    }
    CHECK(pool.idle() == 1);
    CHECK(pool.busy() == 0);
    // Never opened, so it looks closed: the pool hands out an empty slot instead.
    const auto again = co_await pool.async_acquire(in(1000ms));
    REQUIRE(again.has_value());
    CHECK(again->get() == nullptr);
    CHECK(pool.idle() == 0);
  });
}
