#pragma once

#include <sidecar/core/asio.hpp>
#include <sidecar/core/result.hpp>
#include <sidecar/vault/client.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::auth::testing {

/// One request as the fake saw it. Test-only: secrets are kept in clear to assert on them.
struct recorded_request {
  http::verb method = http::verb::unknown;
  std::string target;
  std::string body;
  bool has_token = false;
  std::string token;
  std::chrono::steady_clock::time_point at;
};

/// A vault::client that answers from a script and records every request, for token_manager
/// tests on a real io_context without sockets. It answers after one pass through the
/// io_context, as a client doing I/O would.
///
/// Thread affinity: io thread only. Errors: whatever the script returns.
class fake_vault_client final : public vault::client {
 public:
  /// Called for each request with the request and how many earlier requests went to the same
  /// target; returns the answer or a transport error.
  using script = std::function<result<vault::response>(const recorded_request&, std::size_t)>;

  explicit fake_vault_client(script answers);

  net::awaitable<result<vault::response>> async_send(vault::request req) override;

  [[nodiscard]] const std::vector<recorded_request>& requests() const noexcept { return requests_; }
  [[nodiscard]] std::vector<recorded_request> requests_to(std::string_view target) const;

 private:
  script answers_;
  std::vector<recorded_request> requests_;
};

inline constexpr std::string_view login_target = "/v1/auth/approle/login";
inline constexpr std::string_view renew_target = "/v1/auth/token/renew-self";

/// A JSON answer with the given status.
[[nodiscard]] vault::response json_answer(unsigned status, std::string body);
/// A successful AppRole login (vault-api.md §3.3).
[[nodiscard]] vault::response login_answer(std::string_view token, std::string_view accessor,
                                           long long ttl_seconds, bool renewable);
/// A successful renew-self (vault-api.md §3.4), with optional warnings.
[[nodiscard]] vault::response renew_answer(std::string_view token, long long ttl_seconds,
                                           bool renewable,
                                           const std::vector<std::string>& warnings = {});
/// Vault's error shape: {"errors":[message]}.
[[nodiscard]] vault::response error_answer(unsigned status, std::string_view message);

}  // namespace sidecar::auth::testing
