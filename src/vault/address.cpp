#include <sidecar/vault/address.hpp>

#include <boost/url/parse.hpp>

#include <charconv>

namespace sidecar::vault {

boost::system::result<upstream_address, std::string> parse_address(std::string_view text) {
  const auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return std::string{"not a URL like https://vault.example.com:8200"};
  const auto& url = *parsed;

  upstream_address out;
  if (url.scheme_id() == boost::urls::scheme::https) {
    out.tls = true;
  } else if (url.scheme_id() == boost::urls::scheme::http) {
    out.tls = false;
  } else {
    return std::string{"the scheme must be http or https"};
  }
  if (url.has_userinfo()) return std::string{"user info is not allowed"};
  if (url.has_query() || url.has_fragment())
    return std::string{"a query or fragment is not allowed"};
  if (const auto path = url.encoded_path(); !path.empty() && path != "/") {
    return std::string{"a path is not allowed (requests go to /v1/...)"};
  }
  if (url.host_type() != boost::urls::host_type::name &&
      url.host_type() != boost::urls::host_type::ipv4 &&
      url.host_type() != boost::urls::host_type::ipv6) {
    return std::string{"the host must be a name or an IP address"};
  }
  out.host = url.host_address();
  if (out.host.empty()) return std::string{"the host is empty"};

  const std::uint16_t default_port = out.tls ? 443 : 80;
  out.port = default_port;
  if (url.has_port()) {
    const std::string_view digits = url.port();
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || value == 0 ||
        value > 65535) {
      return std::string{"the port must be a number from 1 to 65535"};
    }
    out.port = static_cast<std::uint16_t>(value);
  }

  out.host_header =
      url.host_type() == boost::urls::host_type::ipv6 ? "[" + out.host + "]" : out.host;
  if (out.port != default_port) out.host_header += ":" + std::to_string(out.port);
  return out;
}

}  // namespace sidecar::vault
