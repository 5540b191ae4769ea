#pragma once

#include <sidecar/core/asio.hpp>
#include <sidecar/core/clock.hpp>
#include <sidecar/vault/client.hpp>
#include <sidecar/vault/errc.hpp>

#include <map>
#include <optional>
#include <string>

namespace sidecar::cache::testing {

/// A scripted Vault for the cache's tests: an answer (or a transport error) per target, request
/// counts per target, the token each request carried, and an optional delay before answering so
/// that concurrent callers overlap. Unscripted targets get Vault's plain 404.
///
/// Thread affinity: io thread only.
class fake_vault_client final : public vault::client {
 public:
  net::awaitable<result<vault::response>> async_send(vault::request req) override;

  /// Answers `target` (exact, with its query) with `status` and `body` from now on.
  void answer(const std::string& target, unsigned status, std::string body);
  /// Fails `target` with a transport error from now on.
  void fail(const std::string& target, vault::errc error);
  /// Fails every target with a transport error until called with nullopt.
  void fail_all(std::optional<vault::errc> error) { fail_all_ = error; }
  /// Throws from async_send for `target` from now on (a broken invariant in the client).
  void throw_on(const std::string& target) { scripts_[target].throws = true; }
  /// Waits this long before answering each request.
  void delay(core::duration by) { delay_ = by; }

  [[nodiscard]] int requests(const std::string& target) const;
  [[nodiscard]] int total_requests() const noexcept { return total_; }
  [[nodiscard]] const std::string& last_token() const noexcept { return last_token_; }

 private:
  struct script {
    unsigned status = 404;
    std::string body;
    std::optional<vault::errc> error;
    bool throws = false;
  };
  std::map<std::string, script> scripts_;
  std::map<std::string, int> counts_;
  std::optional<vault::errc> fail_all_;
  core::duration delay_{};
  int total_ = 0;
  std::string last_token_;
};

/// KV v2 read body with `data` as the secret's map and `version` in the metadata.
[[nodiscard]] std::string kv2_body(const std::string& data_json, int version);
/// KV v1 read body.
[[nodiscard]] std::string kv1_body(const std::string& data_json);

}  // namespace sidecar::cache::testing
