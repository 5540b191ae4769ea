#pragma once

// Asio, SSL and Beast are compiled once, in src/core/asio_impl.cpp; every target that includes
// this header gets BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION from
// sidecar::core, so no other translation unit instantiates their implementation.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>

namespace sidecar {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

/// Completion token for `co_await op(..., use_result)`: errors come back as the first tuple
/// element instead of being thrown.
inline constexpr auto use_result = net::as_tuple(net::use_awaitable);

/// I/O objects whose operations default to `use_result`, so `co_await timer.async_wait()`
/// yields a tuple and never throws.
using steady_timer = net::as_tuple_t<net::use_awaitable_t<>>::as_default_on_t<net::steady_timer>;
using tcp_acceptor = net::as_tuple_t<net::use_awaitable_t<>>::as_default_on_t<tcp::acceptor>;
using tcp_socket = net::as_tuple_t<net::use_awaitable_t<>>::as_default_on_t<tcp::socket>;
using tcp_resolver = net::as_tuple_t<net::use_awaitable_t<>>::as_default_on_t<tcp::resolver>;

using string_request = http::request<http::string_body>;
using string_response = http::response<http::string_body>;

}  // namespace sidecar
