#pragma once

#include <boost/system/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace sidecar::vault {

/// Where Vault listens, from `vault.address` ("https://vault.example.com:8200").
struct upstream_address {
  bool tls = true;
  std::string host;  ///< a name or an IP address, IPv6 without brackets: for resolving and TLS
  std::uint16_t port = 0;  ///< the scheme's default (80, 443) when the address names none
  std::string
      host_header;  ///< the `Host` value: host, bracketed when IPv6, ":port" when not default
};

/// Parses `http[s]://host[:port][/]`. Anything else (another scheme, user info, a path, a query,
/// a fragment, an empty host, a port out of range) is refused with a reason for the start-up
/// error message: a Vault address names a server, never a resource.
[[nodiscard]] boost::system::result<upstream_address, std::string> parse_address(
    std::string_view text);

}  // namespace sidecar::vault
