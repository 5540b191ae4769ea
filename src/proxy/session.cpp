#include <sidecar/core/log.hpp>
#include <sidecar/core/secret_string.hpp>
#include <sidecar/proxy/browser_guard.hpp>
#include <sidecar/proxy/client_access.hpp>
#include <sidecar/proxy/error_response.hpp>
#include <sidecar/proxy/router.hpp>
#include <sidecar/proxy/session.hpp>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <spdlog/logger.h>

#include <array>
#include <chrono>
#include <optional>
#include <type_traits>
#include <variant>

namespace sidecar::proxy {
namespace {

constexpr std::size_t read_chunk = 4096;

// Beast's parser errors mean the peer sent something that is not valid HTTP: worth a 400.
// EOF in the middle of a message and the limits are told apart by the caller.
bool malformed(const error_code& ec) noexcept {
  return ec.category() == make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

const std::shared_ptr<spdlog::logger>& request_log() {
  static const auto log = core::logger("proxy");
  return log;
}

double milliseconds_since(std::chrono::steady_clock::time_point started) noexcept {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
      .count();
}

// A header's first value, nullopt when absent; a second one sets `repeated`.
std::optional<std::string_view> single(const string_request& request, std::string_view name,
                                       bool& repeated) {
  const auto [first, last] = request.equal_range(name);
  if (first == last) return std::nullopt;
  if (std::next(first) != last) repeated = true;
  return std::string_view{first->value()};
}

browser_signals signals_of(const string_request& request) {
  bool repeated = false;
  auto host = single(request, "Host", repeated);
  auto origin = single(request, "Origin", repeated);
  auto sec_fetch_site = single(request, "Sec-Fetch-Site", repeated);
  return browser_signals{.method = request.method_string(),
                         .version = request.version(),
                         .host = host,
                         .origin = origin,
                         .sec_fetch_site = sec_fetch_site,
                         .repeated = repeated};
}

route_decision refused_before_routing(const guard_refusal& refusal) {
  return route_decision{.kind = route_class::deny,
                        .target = {},
                        .upstream_target = {},
                        .list = false,
                        .status = refusal.status,
                        .reason = std::string{refusal.reason},
                        .allow = refusal.allow,
                        .lease = {}};
}

// Finishes a Beast answer for the wire and returns its status. Every answer may carry a secret
// or say something about one: no browser or intermediate keeps it. Set here, where every Beast
// answer is finished; ready_answer writes the same line.
unsigned finish_response(string_response& response, unsigned version, bool keep_alive) {
  response.version(version);
  response.keep_alive(keep_alive);
  response.set(http::field::cache_control, "no-store");
  const unsigned status = response.result_int();
  if (status < 200 || status == 204 || status == 304) {
    // No body, and no Content-Length either (RFC 9110 §8.6); prepare_payload would add
    // "Content-Length: 0", or throw on a body.
    core::cleanse(response.body());
    response.erase(http::field::content_length);
    response.erase(http::field::transfer_encoding);
  } else {
    response.prepare_payload();
  }
  return status;
}

}  // namespace

template <class Protocol>
session<Protocol>::session(socket_type socket, const session_context& context)
    : socket_(std::move(socket)), context_(context), deadline_(socket_.get_executor()) {
  // A ready answer is first offered with a plain send; the socket must not block it.
  error_code ignored;
  socket_.non_blocking(true, ignored);
}

template <class Protocol>
const peer_identity& session<Protocol>::peer() {
  if (!peer_) {
    if constexpr (std::is_same_v<Protocol, tcp>) {
      error_code local_ec;
      error_code remote_ec;
      const auto local = socket_.local_endpoint(local_ec);
      const auto remote = socket_.remote_endpoint(remote_ec);
      peer_ = local_ec || remote_ec ? peer_identity{} : tcp_peer_identity(local, remote);
    } else {
      peer_ = unix_peer_identity(socket_.native_handle());
    }
  }
  return *peer_;
}

template <class Protocol>
void session<Protocol>::match_client_of(const std::shared_ptr<const request_policy>& policy) {
  if (client_policy_ == policy) return;
  client_policy_ = policy;
  client_ = policy->clients.empty() ? std::nullopt : match_client(policy->clients, peer());
  client_counters_ = policy->clients.empty()
                         ? server_stats::client_counters{nullptr, nullptr}
                         : context_.stats.for_client(client_ ? policy->clients[*client_].name
                                                             : std::string_view{"-"});
}

template <class Protocol>
void session<Protocol>::stop() {
  net::post(executor(), [self = this->shared_from_this()] {
    self->stop_requested_ = true;
    error_code ignored;
    if (self->idle_) self->socket_.cancel(ignored);
  });
}

template <class Protocol>
void session<Protocol>::close_now() {
  net::post(executor(), [self = this->shared_from_this()] {
    self->stop_requested_ = true;
    self->cancel_.emit(net::cancellation_type::terminal);
    self->close_socket();
  });
}

template <class Protocol>
void session<Protocol>::audit(std::string_view method, const route_decision* decision,
                              unsigned status, std::string_view cache) {
  if (context_.audit == nullptr) return;
  constexpr bool unix_socket = !std::is_same_v<Protocol, tcp>;
  const bool refused = decision == nullptr || !decision->allowed();
  context_.audit->write(audit_record{
      .time = std::chrono::system_clock::now(),
      .listener = unix_socket ? "unix" : "tcp",
      .peer = peer(),
      .client = client_ && client_policy_ ? std::string_view{client_policy_->clients[*client_].name}
                                          : std::string_view{},
      .method = method,
      .path = decision != nullptr ? std::string_view{decision->target.path} : std::string_view{},
      .status = status,
      .cache = cache,
      .upstream_ms = std::chrono::duration<double, std::milli>(waited_).count(),
      .reason = refused && decision != nullptr ? std::string_view{decision->reason}
                                               : std::string_view{}});
}

template <class Protocol>
void session<Protocol>::shutdown_send() {
  error_code ignored;
  socket_.shutdown(Protocol::socket::shutdown_send, ignored);
}

template <class Protocol>
void session<Protocol>::close_socket() {
  error_code ignored;
  socket_.close(ignored);
}

template <class Protocol>
net::awaitable<bool> session<Protocol>::async_write_rest(const head_and_body& buffers,
                                                         std::size_t sent) {
  beast::buffers_suffix<head_and_body> rest{buffers};
  rest.consume(sent);
  deadline_.expires_after(context_.limits.write_timeout);
  auto [ec, _] = co_await net::async_write(socket_, rest, use_result);
  co_return !ec;
}

template <class Protocol>
net::awaitable<bool> session<Protocol>::async_write(string_response& response, bool head) {
  deadline_.expires_after(context_.limits.write_timeout);
  http::response_serializer<http::string_body> serializer{response};
  // A HEAD answer carries the headers of the GET answer, Content-Length included, and no body.
  auto [ec, _] = head ? co_await http::async_write_header(socket_, serializer, use_result)
                      : co_await http::async_write(socket_, serializer, use_result);
  co_return !ec;
}

template <class Protocol>
void session<Protocol>::record_written(const string_request& request,
                                       const route_decision& decision, unsigned status,
                                       std::string_view cache,
                                       std::chrono::steady_clock::time_point started) {
  // The request line: normalised path only (no query, no header, no body), so neither a token
  // nor a secret can reach the log through it. Formatted only when the line is logged.
  const auto& log = request_log();
  if (log->should_log(spdlog::level::debug)) {
    log->debug("request {} {} -> {} ({}, {:.1f} ms)", request.method_string(), decision.target.path,
               status, to_string(decision.kind), milliseconds_since(started));
  }
  audit(request.method_string(), &decision, status, cache);
}

template <class Protocol>
net::awaitable<bool> session<Protocol>::async_write_answer(
    handler_answer& answer, const string_request& request, const route_decision& decision,
    std::chrono::steady_clock::time_point started) {
  const bool keep_alive = request.keep_alive() && !stop_requested_;
  const bool head = request.method() == http::verb::head;
  const auto* const ready = std::get_if<ready_answer>(&answer);
  auto* const response = std::get_if<string_response>(&answer);
  const unsigned status = ready != nullptr
                              ? ready->status()
                              : finish_response(*response, request.version(), keep_alive);
  // Counted before the write, so a client that has read its answer sees it in the metrics.
  context_.stats.request_done(decision.kind, status, std::chrono::steady_clock::now() - started);
  bool written = false;
  if (ready != nullptr) {
    ready->serialise_head(head_, request.version(), keep_alive);
    // One gathered write of the head and the held body; a HEAD answer stops after the head.
    const head_and_body buffers{net::buffer(head_),
                                net::buffer(ready->body().data(), head ? 0 : ready->body().size())};
    // The answer usually fits the socket's send buffer: then this one non-blocking send is the
    // whole write, with no suspension and no deadline to keep. Inline, not a coroutine of its
    // own, so a hit creates no second frame.
    error_code ec;
    const std::size_t sent = socket_.write_some(buffers, ec);
    written = !ec && sent == net::buffer_size(buffers);
    if (!written && (!ec || ec == net::error::would_block || ec == net::error::try_again)) {
      written = co_await async_write_rest(buffers, sent);
    }
    record_written(request, decision, status, ready->added_field("X-Cache"), started);
  } else {
    written = co_await async_write(*response, head);
    core::cleanse(response->body());
    record_written(request, decision, status, (*response)["X-Cache"], started);
  }
  // finish_response() set the response's keep_alive to this same value.
  co_return written&& keep_alive;
}

template <class Protocol>
net::awaitable<void> session<Protocol>::async_refuse_and_close(unsigned status,
                                                               std::string_view message) {
  const auto started = std::chrono::steady_clock::now();
  auto response = error_response(status, message);
  response.keep_alive(false);
  response.prepare_payload();
  context_.stats.request_done(route_class::deny, status,
                              std::chrono::steady_clock::now() - started);
  const bool written = co_await async_write(response, false);
  // Refused before routing (no method or path worth trusting): the status and the reason.
  request_log()->debug("request refused -> {} ({}, {:.1f} ms): {}", status,
                       to_string(route_class::deny), milliseconds_since(started), message);
  if (context_.audit != nullptr) {
    const route_decision refusal{.kind = route_class::deny,
                                 .target = {},
                                 .upstream_target = {},
                                 .list = false,
                                 .status = status,
                                 .reason = std::string{message},
                                 .allow = {},
                                 .lease = {}};
    waited_ = {};
    audit("-", &refusal, status, {});
  }
  if (!written) co_return;
  // The client may still be sending the request we refused; read and drop it for a while so
  // our close does not turn into a reset that destroys the answer before it is read.
  shutdown_send();
  deadline_.expires_after(context_.limits.linger_timeout);
  std::array<char, read_chunk> sink{};
  for (;;) {
    auto [ec, _] = co_await socket_.async_read_some(net::buffer(sink), use_result);
    if (ec) co_return;
  }
}

template <class Protocol>
bool session<Protocol>::parse_buffered(http::request_parser<http::string_body>& parser,
                                       error_code& ec) {
  if (buffer_.size() == 0) return false;
  const std::size_t used = parser.put(buffer_.data(), ec);
  buffer_.consume(used);
  if (ec == http::error::need_more) ec = {};
  return !ec && parser.is_header_done();
}

template <class Protocol>
net::awaitable<bool> session<Protocol>::async_read_request(string_request& request, bool first) {
  const auto& limits = context_.limits;
  // Keep-alive: the idle timeout runs until the next request's first byte, then the header
  // timeout. A new connection starts with the header timeout straight away.
  if (!first && buffer_.size() == 0) {
    deadline_.expires_after(limits.idle_timeout);
    auto [ec, n] = co_await socket_.async_read_some(buffer_.prepare(read_chunk), use_result);
    if (ec) co_return false;
    buffer_.commit(n);
  }
  http::request_parser<http::string_body> parser;
  parser.header_limit(limits.header_limit);
  parser.body_limit(limits.body_limit);
  // Usually the whole header came in one read: parsed here, without a deadline or a suspension.
  error_code ec;
  if (!parse_buffered(parser, ec) && !ec) {
    deadline_.expires_after(limits.header_timeout);
    auto [read_ec, _] = co_await http::async_read_header(socket_, buffer_, parser, use_result);
    ec = read_ec;
  }
  if (ec == http::error::header_limit) {
    co_await async_refuse_and_close(431, "request header fields too large");
    co_return false;
  }
  if (ec == http::error::body_limit) {  // the parser checks Content-Length with the header
    co_await async_refuse_and_close(413, "request body too large");
    co_return false;
  }
  if (ec) {
    if (malformed(ec)) co_await async_refuse_and_close(400, "malformed HTTP request");
    co_return false;  // timeout, EOF, reset or stop: nothing worth answering
  }
  idle_ = false;

  if (!parser.is_done()) {
    if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
      deadline_.expires_after(limits.write_timeout);
      auto [write_ec, written] = co_await http::async_write(socket_, go_on, use_result);
      if (write_ec) co_return false;
    }
    deadline_.expires_after(limits.body_timeout);
    auto [body_ec, n] = co_await http::async_read(socket_, buffer_, parser, use_result);
    if (body_ec == http::error::body_limit) {  // chunked bodies have no length up front
      co_await async_refuse_and_close(413, "request body too large");
      co_return false;
    }
    if (body_ec) {
      if (malformed(body_ec)) co_await async_refuse_and_close(400, "malformed HTTP request");
      co_return false;
    }
  }
  // The handler keeps deadlines of its own; the next write sets the connection's again.
  deadline_.expires_never();
  request = parser.release();
  co_return true;
}

template <class Protocol>
const route_decision& session<Protocol>::route(const string_request& request) {
  // One snapshot per request: a SIGHUP reload applies from the next request on, also on a
  // keep-alive connection, and never halfway through this one.
  auto policy = context_.policy.load();
  const std::string_view method = request.method_string();
  const std::string_view target = request.target();
  const std::string_view marker = request["X-Vault-Request"];
  auto& last = last_route_;
  match_client_of(policy);
  // Before routing, on every route: a refused browser request is not even normalised.
  constexpr bool unix_socket = !std::is_same_v<Protocol, tcp>;
  if (const auto refusal = check_browser_guards(signals_of(request), unix_socket)) {
    last.policy.reset();  // not a routing the next request could reuse
    last.decision = refused_before_routing(*refusal);
    return last.decision;
  }
  // Routing is a pure function of these four (and of the connection's peer, fixed): a client
  // asking again for what it just asked (an app polling its secret) skips normalising and
  // routing, and their allocations.
  if (last.policy == policy && last.method == method && last.target == target &&
      last.request_header == marker) {
    return last.decision;
  }
  last.decision = check_client_access(
      check_request_header(route_request(method, target, policy->proxy, policy->listener), method,
                           marker, policy->listener.require_request_header),
      policy->clients, client_, policy->clients.empty() ? peer_identity{} : peer());
  last.policy = std::move(policy);  // held, so a later snapshot cannot reuse its address
  last.method.assign(method);
  last.target.assign(target);
  last.request_header.assign(marker);
  return last.decision;
}

template <class Protocol>
net::awaitable<void> session<Protocol>::async_run() {
  // The deadline's watcher holds the session until async_run() ends, by any path, and stops it.
  net::co_spawn(executor(), deadline_.async_watch([this] { close_socket(); }),
                [self = this->shared_from_this()](const std::exception_ptr&) {});
  struct stop_watch {
    lazy_deadline& deadline;
    ~stop_watch() { deadline.stop(); }
  } const stop_watch_at_exit{deadline_};

  bool first = true;
  while (!stop_requested_) {
    idle_ = true;
    string_request request;
    if (!co_await async_read_request(request, first)) break;
    first = false;
    const auto started = std::chrono::steady_clock::now();

    const route_decision& decision = route(request);
    if (client_counters_.requests != nullptr) {
      client_counters_.requests->inc();
      if (!decision.allowed()) client_counters_.refusals->inc();
    }
    // Built in place, never default-constructed first: a hit then moves no Beast message.
    std::optional<handler_answer> answer;
    waited_ = {};
    if (!decision.allowed()) {
      auto refusal = error_response(decision.status, decision.reason);
      if (!decision.allow.empty()) refusal.set(http::field::allow, decision.allow);
      answer.emplace(std::move(refusal));
    } else if (answer = context_.handler.try_answer_at_once(request, decision); !answer) {
      const auto asked = std::chrono::steady_clock::now();
      auto handled = co_await context_.handler.async_handle(request, decision);
      waited_ = std::chrono::steady_clock::now() - asked;
      answer.emplace(std::move(handled));
    }
    core::cleanse(request.body());  // a write's body may hold a secret
    if (!co_await async_write_answer(*answer, request, decision, started)) break;
  }
  shutdown_send();
}

template class session<tcp>;
template class session<net::local::stream_protocol>;

}  // namespace sidecar::proxy
