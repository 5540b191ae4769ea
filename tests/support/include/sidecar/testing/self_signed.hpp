#pragma once

#include <filesystem>
#include <string>

namespace sidecar::testing {

/// Paths of the files make_self_signed() writes.
struct self_signed_files {
  std::string ca_cert;                  ///< ca.pem
  std::string server_cert, server_key;  ///< server.pem, server-key.pem (127.0.0.1, localhost)
  std::string client_cert, client_key;  ///< client.pem, client-key.pem (for mTLS)
};

/// Generates a throw-away CA and, signed by it, a server certificate for 127.0.0.1 and
/// localhost and a client certificate, as PEM files in `dir` (created if missing; keys 0600).
/// P-256 keys, valid from an hour ago for a year.
///
/// Thread affinity: any. Errors: throws std::runtime_error with OpenSSL's reason.
self_signed_files make_self_signed(const std::filesystem::path& dir);

}  // namespace sidecar::testing
