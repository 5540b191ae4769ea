#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace sidecar {

/// A value or an error_code. Every module reports failures this way; each module has its own
/// `errc` enum with an error category so a message names the module and the cause.
template <class T>
using result = boost::system::result<T, boost::system::error_code>;

}  // namespace sidecar
