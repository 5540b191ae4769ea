#pragma once

#include <sidecar/core/asio.hpp>

#include <boost/asio/cancellation_state.hpp>

namespace sidecar {

/// Whether a coroutine has been cancelled, read through
/// `co_await net::this_coro::cancellation_state`, which never throws. Checked before a co_await
/// that follows a resumption: once a cancellation has been emitted, awaiting anything throws
/// (Asio's throw_if_cancelled), and the sidecar's coroutines report errors as values.
[[nodiscard]] inline bool is_cancelled(const net::cancellation_state& state) noexcept {
  return state.cancelled() != net::cancellation_type::none;
}

}  // namespace sidecar
