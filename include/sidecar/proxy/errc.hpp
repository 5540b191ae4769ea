#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace sidecar::proxy {

/// Why the local listener refused a request target or could not start. A target error's
/// message is the text of the 400 answer, so it says what was wrong without echoing the input.
enum class errc {
  target_too_long = 1,       ///< over max_target_length bytes
  invalid_character,         ///< a control byte, space, NUL (raw or %00), non-ASCII, or '#'
  invalid_percent_encoding,  ///< '%' not followed by two hex digits
  backslash_in_path,         ///< '\' or %5C: refused rather than guessed at
  above_root,                ///< a ".." that would climb above "/"
  unsupported_target_form,   ///< not origin-form or http(s) absolute-form (authority, '*')
  not_loopback,              ///< listener.address is not a loopback address
  invalid_listen_address,    ///< listener.address is not host:port
  socket_path_in_use,        ///< another process is listening on listener.unix_socket
  socket_path_not_a_socket,  ///< listener.unix_socket names a file that is not a socket
  socket_path_too_long,      ///< longer than sockaddr_un allows
};

[[nodiscard]] const boost::system::error_category& error_category() noexcept;

[[nodiscard]] inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace sidecar::proxy

template <>
struct boost::system::is_error_code_enum<sidecar::proxy::errc> : std::true_type {};
