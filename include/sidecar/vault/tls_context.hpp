#pragma once

#include <sidecar/config/config.hpp>

#include <boost/asio/ssl/context.hpp>

namespace sidecar::vault {

/// The client TLS context for `vault`: TLS 1.2 or newer; the peer verified against `ca_cert`
/// (a PEM bundle) or else the system's default CA paths, unless `tls_skip_verify`; the client
/// certificate and key of `client_cert` / `client_key` for mTLS.
///
/// Errors: start-up only. A CA, certificate or key file that cannot be read or does not parse,
/// or a key that does not match its certificate, throws std::invalid_argument naming the key
/// (`vault.ca_cert: cannot load /etc/ca.pem: No such file or directory`).
[[nodiscard]] boost::asio::ssl::context make_tls_context(const config::vault_config& vault);

}  // namespace sidecar::vault
