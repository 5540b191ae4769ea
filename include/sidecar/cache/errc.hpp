#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace sidecar::cache {

/// Why the cache could not answer a read. Vault's own failures come back as vault::errc; no
/// usable token and nothing servable held is auth::errc::no_token.
enum class errc {
  fetch_aborted = 1,  ///< the shared upstream fetch ended without an answer (an exception)
};

[[nodiscard]] const boost::system::error_category& error_category() noexcept;

[[nodiscard]] inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace sidecar::cache

template <>
struct boost::system::is_error_code_enum<sidecar::cache::errc> : std::true_type {};
