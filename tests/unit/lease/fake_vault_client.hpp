#pragma once

#include <sidecar/core/asio.hpp>
#include <sidecar/core/clock.hpp>
#include <sidecar/vault/client.hpp>
#include <sidecar/vault/errc.hpp>

#include <nlohmann/json.hpp>

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sidecar::lease::test {

/// One request as the fake saw it, with the instant it arrived.
struct recorded_request {
  http::verb method = http::verb::get;
  std::string target;
  nlohmann::json body;  ///< parsed; null for an empty body
  bool had_token = false;
  core::time_point at;
};

/// How a request fails: a transport error, or else Vault answering `status` with `body`.
struct fault {
  std::optional<vault::errc> transport;
  unsigned status = 503;
  std::string body = R"({"errors":["Vault is sealed"]})";
};

/// An in-process stand-in for Vault's database secrets engine and sys/leases: each creds read of
/// a configured role mints a new lease (`<path>/<n>`, user `v-<n>`); renewals grant the increment
/// up to the role's max TTL, with Vault's capping warning and "past the max TTL" refusal;
/// revocations are recorded. Faults can be scripted per target or held for every creds read,
/// and every answer can be delayed.
///
/// Thread affinity: io thread only. Cancellation: a cancelled delay ends the request with
/// operation_aborted.
class fake_vault_client final : public vault::client {
 public:
  fake_vault_client(net::any_io_executor executor, core::clock& clock);

  /// A role at `path` ("database/creds/app") whose leases last `ttl` s, renewable up to `max_ttl`.
  void add_role(std::string path, long long ttl, long long max_ttl, bool renewable = true);
  /// The next request for `target` ("/v1/database/creds/app") fails this way.
  void push_fault(std::string target, fault how);
  /// Every creds read fails this way until cleared with std::nullopt.
  void hold_fault(std::optional<fault> how);
  void set_delay(core::duration delay) noexcept { delay_ = delay; }

  net::awaitable<result<vault::response>> async_send(vault::request req) override;

  [[nodiscard]] const std::vector<recorded_request>& requests() const noexcept { return requests_; }
  [[nodiscard]] std::size_t count(http::verb method, std::string_view target) const;
  [[nodiscard]] const std::vector<std::string>& revoked() const noexcept { return revoked_; }

 private:
  struct role {
    long long ttl = 0;
    long long max_ttl = 0;
    bool renewable = true;
    int minted = 0;
  };
  struct lease {
    std::string role_path;
    core::time_point issued;
  };

  [[nodiscard]] result<vault::response> answer(const vault::request& req,
                                               const nlohmann::json& body);
  [[nodiscard]] vault::response mint(const std::string& path, role& spec);
  [[nodiscard]] vault::response renew(const nlohmann::json& body);

  net::any_io_executor executor_;
  core::clock& clock_;
  std::map<std::string, role, std::less<>> roles_;
  std::map<std::string, lease, std::less<>> leases_;
  std::map<std::string, std::deque<fault>, std::less<>> scripted_;
  std::optional<fault> held_;
  core::duration delay_{};
  std::vector<recorded_request> requests_;
  std::vector<std::string> revoked_;
};

}  // namespace sidecar::lease::test
