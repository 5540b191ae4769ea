#pragma once

#include <sidecar/core/asio.hpp>
#include <sidecar/core/result.hpp>
#include <sidecar/core/secret_string.hpp>

#include <string>
#include <utility>
#include <vector>

namespace sidecar::vault {

/// One request to Vault. `target` is origin-form with the query ("/v1/kv-demo/data/x?version=1").
struct request {
  http::verb method = http::verb::get;
  std::string target;
  core::secret_string body;  ///< JSON; may hold a secret_id, so it is cleansed after use
  const core::secret_string* token = nullptr;  ///< sent as X-Vault-Token when set
  /// Extra headers to send (e.g. a client's X-Vault-Wrap-TTL); never X-Vault-Token.
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Vault's answer as it came, whatever the status: the proxy relays it byte for byte.
struct response {
  unsigned status = 0;
  std::string content_type;
  core::secret_string body;  ///< raw bytes; secrets live here
  /// Headers worth relaying to a local client (Retry-After, Warning, ...).
  std::vector<std::pair<std::string, std::string>> headers;
  /// Answered by the sidecar on Vault's behalf (a 429 while Vault's Retry-After pause lasts or
  /// the upstream budget is spent): nothing was sent, so metrics do not count it as Vault's.
  bool local = false;
};

/// The seam between the sidecar and Vault: everything that talks to Vault (auth, cache, lease,
/// proxy) goes through one of these. `beast_client` is the real one; tests may use a fake.
///
/// Errors: a transport failure (vault::errc unreachable, timeout, tls_failure,
/// malformed_response, response_too_large) is an error; any HTTP answer, error statuses
/// included, is a response. Reads are retried inside as configured; writes never are.
class client {
 public:
  virtual ~client() = default;
  virtual net::awaitable<result<response>> async_send(request req) = 0;
};

}  // namespace sidecar::vault
