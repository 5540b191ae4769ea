#include <sidecar/core/log.hpp>
#include <sidecar/core/version.hpp>
#include <sidecar/vault/address.hpp>
#include <sidecar/vault/beast_client.hpp>
#include <sidecar/vault/errc.hpp>
#include <sidecar/vault/retry.hpp>
#include <sidecar/vault/tls_context.hpp>

#include <boost/beast/core/string.hpp>

#include <array>
#include <stdexcept>
#include <string_view>

namespace sidecar::vault {
namespace {

// Headers only this client may set: a caller's copy would leak a second token or break framing.
constexpr std::array<std::string_view, 5> reserved_headers{
    "X-Vault-Token", "Host", "Content-Length", "Transfer-Encoding", "Connection",
};

bool reserved(std::string_view name) noexcept {
  for (const auto candidate : reserved_headers) {
    if (beast::iequals(name, candidate)) return true;
  }
  return false;
}

upstream_address parse_or_throw(const std::string& text) {
  auto parsed = parse_address(text);
  if (!parsed) {
    throw std::invalid_argument{"vault.address: " + parsed.error() + ": \"" + text + "\""};
  }
  return std::move(*parsed);
}

std::optional<boost::asio::ssl::context> tls_for(const upstream_address& address,
                                                 const config::vault_config& vault) {
  if (!address.tls) return std::nullopt;
  return make_tls_context(vault);
}

connection_target target_for(upstream_address address, const config::vault_config& vault,
                             std::optional<boost::asio::ssl::context>& tls) {
  connection_target target;
  target.tls = tls ? &*tls : nullptr;
  target.verify_name = vault.tls_server_name.empty() ? address.host : vault.tls_server_name;
  target.verify = !vault.tls_skip_verify;
  target.address = std::move(address);
  return target;
}

std::string describe(const result<response>& answer) {
  if (answer) return "status " + std::to_string(answer->status);
  return answer.error().message();
}

}  // namespace

beast_client::beast_client(net::any_io_executor executor, const config::vault_config& vault,
                           core::clock& clock, core::uniform_source random, client_limits limits)
    : beast_client{std::move(executor), vault, parse_or_throw(vault.address), clock,
                   std::move(random),   limits} {}

beast_client::beast_client(net::any_io_executor executor, const config::vault_config& vault,
                           upstream_address address, core::clock& clock,
                           core::uniform_source random, client_limits limits)
    : executor_{std::move(executor)},
      config_{vault},
      random_{std::move(random)},
      limits_{limits},
      tls_{tls_for(address, vault)},
      target_{target_for(std::move(address), vault, tls_)},
      pool_{executor_, clock, limits.max_connections, limits.idle_timeout} {
  if (target_.tls != nullptr && vault.tls_skip_verify) {
    core::logger("vault")->warn(
        "vault.tls_skip_verify is set: the certificate of {} is NOT verified; anyone on the "
        "network path can impersonate Vault and read the token and every secret",
        vault.address);
  }
}

beast_client::~beast_client() = default;

wire_request beast_client::make_wire(const request& req) const {
  wire_request wire{req.method, req.target, 11};
  wire.set(http::field::host, target_.address.host_header);
  wire.set(http::field::user_agent, "vault-sidecar/" + std::string{core::version});
  wire.set("X-Vault-Request", "true");
  if (!config_.namespace_.empty()) wire.set("X-Vault-Namespace", config_.namespace_);
  for (const auto& [name, value] : req.headers) {
    if (!reserved(name)) wire.insert(name, value);
  }
  if (req.token != nullptr && !req.token->empty()) wire.set("X-Vault-Token", req.token->reveal());
  if (!req.body.empty()) {
    wire.set(http::field::content_type, "application/json");
    wire.body().assign(req.body.reveal());
  }
  wire.keep_alive(true);
  wire.prepare_payload();
  return wire;
}

net::awaitable<result<response>> beast_client::async_send(request req) {
  const auto wire = make_wire(req);
  core::backoff delays{limits_.retry_initial, limits_.retry_max, 0.25, random_};
  for (int retries = 0;; ++retries) {
    auto answer = co_await async_attempt(wire);
    const attempt_outcome outcome{answer ? error_code{} : answer.error(),
                                  answer ? answer->status : 0U};
    if (!should_retry(req.method, outcome, retries, config_.max_retries)) co_return answer;

    const auto wait = delays.next();
    core::logger("vault")->debug(
        "{} {}: {}; retry {}/{} in {} ms", std::string_view{http::to_string(req.method)},
        req.target, describe(answer), retries + 1, config_.max_retries,
        std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
    ++stats_.retries;
    steady_timer timer{executor_, wait};
    if (const auto [ec] = co_await timer.async_wait(); ec) co_return ec;
  }
}

net::awaitable<result<response>> beast_client::async_attempt(const wire_request& wire) {
  const auto until = std::chrono::steady_clock::now() + config_.request_timeout;
  auto slot = co_await pool_.async_acquire(until);
  if (!slot) co_return slot.error();

  bool retried_on_fresh = false;
  for (;;) {
    if (slot->get() == nullptr) slot->replace(std::make_unique<connection>(executor_, target_));
    auto& upstream = *slot->get();
    if (!upstream.is_open()) {
      if (const auto ec = co_await upstream.async_open(until)) co_return ec;
      ++stats_.connections_opened;
    }

    ++stats_.requests_sent;
    auto outcome = co_await upstream.async_exchange(wire, until, limits_.max_body);
    if (!outcome.failure) {
      if (outcome.keep_alive) slot->keep();
      co_return std::move(outcome.answer);
    }
    if (retried_on_fresh ||
        !retry_on_fresh_connection(upstream.reused(), outcome.answer_started, outcome.failure)) {
      co_return outcome.failure;
    }
    // Vault closed this keep-alive connection while it sat in the pool; the request never
    // reached it, so sending it again cannot apply it twice.
    core::logger("vault")->debug("{} {}: pooled connection was closed by Vault; sending again",
                                 std::string_view{http::to_string(wire.method())},
                                 std::string_view{wire.target()});
    retried_on_fresh = true;
    ++stats_.stale_retries;
    slot->replace(nullptr);
  }
}

}  // namespace sidecar::vault
