#include <sidecar/proxy/listen_address.hpp>

#include <sidecar/proxy/errc.hpp>

#include <charconv>
#include <cstdint>
#include <string>

namespace sidecar::proxy {

result<tcp::endpoint> loopback_endpoint(std::string_view address) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return errc::invalid_listen_address;
  auto host = address.substr(0, colon);
  const auto port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  std::uint16_t port = 0;
  const auto [end, parse_ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (parse_ec != std::errc{} || end != port_text.data() + port_text.size() || port_text.empty()) {
    return errc::invalid_listen_address;
  }
  error_code ec;
  const auto ip = net::ip::make_address(std::string{host}, ec);
  if (ec) return errc::invalid_listen_address;
  if (!ip.is_loopback()) return errc::not_loopback;
  return tcp::endpoint{ip, port};
}

}  // namespace sidecar::proxy
