// The one translation unit that compiles the Asio, Asio SSL and Beast implementations
// (separate compilation keeps every other file's build time down).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
