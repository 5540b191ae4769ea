#pragma once

// The few certificate checks the double's cert auth method makes (OpenSSL underneath).

#include <optional>
#include <string>
#include <string_view>

namespace sidecar::testing {

/// What cert login puts into the token's metadata.
struct certificate_facts {
  std::string common_name;
  std::string serial_number;  ///< decimal, as Vault writes it
};

/// The facts of a PEM certificate; nullopt when `pem` holds none.
[[nodiscard]] std::optional<certificate_facts> read_certificate(std::string_view pem);

/// True when `client_pem` is `trusted_pem` itself, or was issued by it and carries its
/// signature (a trusted CA); false for anything unreadable.
[[nodiscard]] bool certificate_trusted(std::string_view trusted_pem, std::string_view client_pem);

}  // namespace sidecar::testing
