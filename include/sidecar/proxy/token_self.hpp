#pragma once

#include <sidecar/core/clock.hpp>
#include <sidecar/proxy/request_id.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace sidecar::proxy {

/// Token housekeeping a Vault client does on start and on a timer (hvac's is_authenticated(),
/// Spring Vault's and the Go client's token watchers): lookup-self, renew-self, revoke-self. The
/// sidecar answers them itself and never forwards them, since Vault would describe (or renew,
/// or revoke) the sidecar's own token. The caller needs no token of its own, so the answers
/// describe the one it sent as a token that never expires and is never renewed, which is what a
/// client's watcher then leaves alone.
enum class token_self_call { lookup, renew, revoke };

/// The call a normalised path names ("/v1/auth/token/lookup-self" ...), or nullopt. Pure.
[[nodiscard]] std::optional<token_self_call> token_self_call_of(std::string_view path) noexcept;

/// The methods the call takes, as an Allow header: Vault serves lookup-self as a read or an
/// update, the other two as updates (POST or PUT).
[[nodiscard]] std::string_view token_self_methods(token_self_call call) noexcept;

struct token_self_answer {
  unsigned status = 200;  ///< 200 with a JSON body; 204 (no body) for revoke-self
  std::string body;
};

/// Vault's envelope for `call` about `caller_token` (the X-Vault-Token the caller sent, or
/// empty; any bytes, never trusted as UTF-8): lookup-self's `data` with id = caller_token,
/// ttl 0, expire_time null, renewable false, issue_time = `issued`; renew-self's `auth` block in
/// the same terms; revoke-self 204, nothing done. No accessor, policy or other trait of the
/// sidecar's own token appears. Pure.
[[nodiscard]] token_self_answer answer_token_self(token_self_call call,
                                                  std::string_view caller_token,
                                                  std::string_view request_id,
                                                  core::wall_time issued);

}  // namespace sidecar::proxy
