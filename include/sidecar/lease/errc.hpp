#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace sidecar::lease {

/// Why the lease store could not produce an answer of its own. Vault's error statuses are not
/// here: they are passed through as answers; transport failures come as vault::errc, and no
/// token to ask Vault with as auth::errc::no_token.
enum class errc {
  stopped = 1,  ///< the store was stopped while the caller waited
};

[[nodiscard]] const boost::system::error_category& error_category() noexcept;

[[nodiscard]] inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace sidecar::lease

template <>
struct boost::system::is_error_code_enum<sidecar::lease::errc> : std::true_type {};
