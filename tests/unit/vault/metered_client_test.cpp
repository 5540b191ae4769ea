#include <sidecar/vault/metered_client.hpp>

#include <sidecar/vault/errc.hpp>

#include <catch2/catch.hpp>

#include <deque>

using namespace sidecar;

namespace {

// Answers each request with the next scripted outcome.
class fake_vault_client final : public vault::client {
 public:
  std::deque<result<vault::response>> outcomes;

  net::awaitable<result<vault::response>> async_send(vault::request) override {
    auto next = std::move(outcomes.front());
    outcomes.pop_front();
    co_return next;
  }
};

vault::response answer(unsigned status) {
  return {.status = status,
          .content_type = "application/json",
          .body = core::secret_string{std::string{"{}"}},
          .headers = {}};
}

void send_all(vault::client& client, int count) {
  net::io_context io;
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        for (int i = 0; i < count; ++i) {
          // A named request: GCC 12 destroys a temporary built inside co_await twice.
          vault::request request;
          auto got = co_await client.async_send(std::move(request));
          (void)got;
        }
      },
      net::detached);
  io.run();
}

}  // namespace

TEST_CASE("metered_client: counts answers by status and failures by reason", "[vault]") {
  fake_vault_client inner;
  inner.outcomes.push_back(answer(200));
  inner.outcomes.push_back(answer(200));
  inner.outcomes.push_back(answer(403));
  inner.outcomes.push_back(vault::make_error_code(vault::errc::unreachable));
  metrics::registry registry;
  vault::metered_client metered{inner, registry};

  send_all(metered, 4);

  const auto text = registry.render();
  CHECK(text.find("vault_sidecar_upstream_requests_total{code=\"200\"} 2") != std::string::npos);
  CHECK(text.find("vault_sidecar_upstream_requests_total{code=\"403\"} 1") != std::string::npos);
  CHECK(text.find("vault_sidecar_upstream_errors_total{error=\"unreachable\"} 1") !=
        std::string::npos);
  CHECK(text.find("vault_sidecar_upstream_request_duration_seconds_count 4") != std::string::npos);
}

TEST_CASE("metered_client: passes answers and errors through unchanged", "[vault]") {
  fake_vault_client inner;
  inner.outcomes.push_back(answer(418));
  inner.outcomes.push_back(vault::make_error_code(vault::errc::timeout));
  metrics::registry registry;
  vault::metered_client metered{inner, registry};

  std::vector<result<vault::response>> seen;
  net::io_context io;
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        for (int i = 0; i < 2; ++i) {
          vault::request request;
          auto got = co_await metered.async_send(std::move(request));
          seen.push_back(std::move(got));
        }
      },
      net::detached);
  io.run();

  REQUIRE(seen.size() == 2);
  REQUIRE(seen[0].has_value());
  CHECK(seen[0]->status == 418);
  CHECK(seen[1].error() == vault::errc::timeout);
}
