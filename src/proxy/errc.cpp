#include <sidecar/proxy/errc.hpp>

#include <string>

namespace sidecar::proxy {
namespace {

class category_impl final : public boost::system::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "proxy"; }
  [[nodiscard]] std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::target_too_long:
        return "request target too long";
      case errc::invalid_character:
        return "invalid character in request target";
      case errc::invalid_percent_encoding:
        return "invalid percent-encoding in request target";
      case errc::backslash_in_path:
        return "backslash in request path";
      case errc::above_root:
        return "request path climbs above the root";
      case errc::unsupported_target_form:
        return "unsupported request target form";
      case errc::not_loopback:
        return "listener address is not a loopback address";
      case errc::invalid_listen_address:
        return "listener address is not host:port";
      case errc::socket_path_in_use:
        return "another process listens on the unix socket";
      case errc::socket_path_not_a_socket:
        return "unix socket path names a non-socket file";
      case errc::socket_path_too_long:
        return "unix socket path too long";
    }
    return "unknown proxy error";
  }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace sidecar::proxy
