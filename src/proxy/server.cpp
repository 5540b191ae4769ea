#include <sidecar/core/log.hpp>
#include <sidecar/proxy/errc.hpp>
#include <sidecar/proxy/server.hpp>

#include <sidecar/proxy/client_access.hpp>
#include <sidecar/proxy/listen_address.hpp>
#include <sidecar/proxy/session.hpp>

#include <charconv>
#include <cstdio>
#include <exception>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <type_traits>
#include <unistd.h>
#include <vector>

namespace sidecar::proxy {
namespace {

using unix_protocol = net::local::stream_protocol;

std::shared_ptr<spdlog::logger> log() {
  static const auto instance = core::logger("proxy");
  return instance;
}

// Whether something accepts connections on the unix socket at `path` right now.
bool socket_is_live(const std::string& path) {
  net::io_context probe_context;
  unix_protocol::socket probe{probe_context};
  error_code ec;
  probe.connect(unix_protocol::endpoint{path}, ec);
  return !ec;
}

void log_session_end(std::exception_ptr failure) {
  if (!failure) return;
  try {
    std::rethrow_exception(failure);
  } catch (const boost::system::system_error& e) {
    // A terminal cancellation at the end of the grace period surfaces this way.
    if (e.code() != net::error::operation_aborted) log()->error("session failed: {}", e.what());
  } catch (const std::exception& e) {
    log()->error("session failed: {}", e.what());
  }
}

}  // namespace

server::server(net::any_io_executor executor, config::listener_config listener,
               config::proxy_config proxy, listener_limits limits, request_handler& handler,
               metrics::registry& registry, std::vector<config::client_config> clients,
               audit_log* audit)
    : executor_(executor),
      strand_(net::make_strand(executor)),
      listener_(std::move(listener)),
      policy_(std::make_shared<const request_policy>(request_policy{
          .proxy = std::move(proxy), .listener = listener_, .clients = std::move(clients)})),
      limits_(limits),
      handler_(handler),
      stats_(registry),
      audit_(audit),
      tcp_acceptor_(strand_),
      unix_acceptor_(strand_),
      grace_timer_(strand_) {}

server::~server() { remove_socket_file(); }

void server::apply_policy(config::proxy_config proxy, bool require_request_header,
                          std::vector<config::client_config> clients) {
  auto listener = listener_;
  listener.require_request_header = require_request_header;
  policy_.store(std::make_shared<const request_policy>(request_policy{
      .proxy = std::move(proxy), .listener = std::move(listener), .clients = std::move(clients)}));
}

std::vector<client_requests> server::client_counts() {
  const auto policy = policy_.load();
  std::vector<client_requests> counts;
  if (policy->clients.empty()) return counts;
  const auto add = [&](std::string_view name) {
    const auto counters = stats_.for_client(name);
    counts.push_back(client_requests{.name = std::string{name},
                                     .requests = counters.requests->value(),
                                     .refusals = counters.refusals->value()});
  };
  for (const auto& c : policy->clients) add(c.name);
  add("-");
  return counts;
}

result<void> server::start() {
  if (!listener_.address.empty()) {
    if (auto opened = open_tcp(); !opened) return opened;
    net::co_spawn(strand_, accept_loop<tcp>(tcp_acceptor_), log_session_end);
  }
  if (!listener_.unix_socket.empty()) {
    if (auto opened = open_unix(); !opened) {
      error_code ignored;
      tcp_acceptor_.close(ignored);
      return opened;
    }
    net::co_spawn(strand_, accept_loop<unix_protocol>(unix_acceptor_), log_session_end);
  }
  return {};
}

result<void> server::open_tcp() {
  auto endpoint = loopback_endpoint(listener_.address);
  if (!endpoint) return endpoint.error();
  error_code ec;
  tcp_acceptor_.open(endpoint->protocol(), ec);
  if (!ec) tcp_acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) tcp_acceptor_.bind(*endpoint, ec);
  if (!ec) tcp_acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (!ec) tcp_endpoint_ = tcp_acceptor_.local_endpoint(ec);
  if (ec) {
    error_code ignored;
    tcp_acceptor_.close(ignored);
    return ec;
  }
  log()->info("listening on {}:{}", tcp_endpoint_->address().to_string(), tcp_endpoint_->port());
  return {};
}

result<void> server::open_unix() {
  const std::string& path = listener_.unix_socket;
  const auto slash = path.rfind('/');
  const auto directory = slash == std::string::npos ? std::string{"."} : path.substr(0, slash);
  const auto name = slash == std::string::npos ? path : path.substr(slash + 1);
  const auto temporary = directory + "/." + name + "." + std::to_string(::getpid());
  if (temporary.size() >= sizeof(sockaddr_un::sun_path)) return errc::socket_path_too_long;

  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) return errc::socket_path_not_a_socket;
    if (socket_is_live(path)) return errc::socket_path_in_use;
    // A stale socket from an earlier run: the rename below replaces it atomically.
  }

  // Bind under a private name, give it its mode, listen, then rename into place: before
  // listen() a connect is refused whatever the mode, and the final name only ever appears
  // with `socket_mode`. No umask change, which would race with other threads.
  ::unlink(temporary.c_str());
  error_code ec;
  unix_acceptor_.open(unix_protocol{}, ec);
  if (!ec) unix_acceptor_.bind(unix_protocol::endpoint{temporary}, ec);
  if (!ec && ::chmod(temporary.c_str(), static_cast<mode_t>(listener_.socket_mode)) != 0) {
    ec = error_code{errno, boost::system::system_category()};
  }
  if (!ec) unix_acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (!ec && ::rename(temporary.c_str(), path.c_str()) != 0) {
    ec = error_code{errno, boost::system::system_category()};
  }
  struct stat created {};
  if (!ec && ::lstat(path.c_str(), &created) != 0) {
    ec = error_code{errno, boost::system::system_category()};
  }
  if (ec) {
    error_code ignored;
    unix_acceptor_.close(ignored);
    ::unlink(temporary.c_str());
    return ec;
  }
  socket_file_ = std::pair{created.st_dev, created.st_ino};
  log()->info("listening on unix socket {} (mode {:04o})", path, listener_.socket_mode);
  return {};
}

void server::remove_socket_file() {
  if (!socket_file_) return;
  // Only our own socket: another instance may have replaced it since.
  struct stat current {};
  if (::lstat(listener_.unix_socket.c_str(), &current) == 0 &&
      std::pair{current.st_dev, current.st_ino} == *socket_file_) {
    ::unlink(listener_.unix_socket.c_str());
  }
  socket_file_.reset();
}

net::any_io_executor server::session_executor() const {
  if (listener_.threads > 1) return net::make_strand(executor_);
  return executor_;
}

// One loop for both listeners: they differ only in the protocol of the sockets they hand out.
template <class Protocol, class Acceptor>
net::awaitable<void> server::accept_loop(Acceptor& acceptor) {
  steady_timer pause{strand_};
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor.async_accept(session_executor());
    if (ec == net::error::operation_aborted || stopping_) co_return;
    if (ec) {
      // EMFILE and friends: wait a little instead of spinning on the same error.
      log()->warn("accept failed: {}", ec.message());
      pause.expires_after(std::chrono::milliseconds{100});
      co_await pause.async_wait();
      continue;
    }
    launch<Protocol>(typename Protocol::socket{std::move(socket)});
  }
}

template <class Session>
bool server::client_full(Session& connection, std::string& counted) {
  const auto policy = policy_.load();
  if (policy->clients.empty()) return false;
  // Looked up here, once, before the session runs: the session keeps it for its requests.
  const auto client = match_client(policy->clients, connection.peer());
  if (!client) return false;  // refused per request, except the probes
  const auto& matched = policy->clients[*client];
  const std::lock_guard lock{sessions_mutex_};
  auto& open = client_connections_[matched.name];
  if (matched.max_connections != 0 && open >= matched.max_connections) {
    stats_.client_connection_refused(matched.name);
    return true;
  }
  ++open;
  counted = matched.name;
  return false;
}

template <class Protocol>
void server::launch(typename Protocol::socket socket) {
  constexpr std::size_t listener = std::is_same_v<Protocol, tcp> ? 0 : 1;
  if (open_connections_[listener].load() >= limits_.max_connections) {
    stats_.connections_refused.inc();
    error_code ignored;
    socket.close(ignored);
    return;
  }

  const session_context context{limits_, policy_, handler_, stats_, audit_};
  auto connection = std::make_shared<session<Protocol>>(std::move(socket), context);
  std::string client;
  if (client_full(*connection, client)) {
    stats_.connections_refused.inc();
    return;  // the session was never run: destroying it closes the socket
  }
  ++open_connections_[listener];
  stats_.connections_accepted.inc();
  stats_.open_connections.inc();
  std::uint64_t id = 0;
  {
    const std::lock_guard lock{sessions_mutex_};
    id = next_session_id_++;
    const std::weak_ptr<session<Protocol>> weak = connection;
    sessions_.emplace(id, session_handle{.stop =
                                             [weak] {
                                               if (auto s = weak.lock()) s->stop();
                                             },
                                         .close_now =
                                             [weak] {
                                               if (auto s = weak.lock()) s->close_now();
                                             },
                                         .listener = listener,
                                         .client = std::move(client)});
  }
  auto executor = connection->executor();
  auto slot = connection->cancellation_slot();
  auto run = connection->async_run();
  net::co_spawn(executor, std::move(run),
                net::bind_cancellation_slot(
                    slot, [this, id, keep = std::move(connection)](std::exception_ptr failure) {
                      log_session_end(failure);
                      session_ended(id);
                    }));
}

void server::session_ended(std::uint64_t id) {
  bool last = false;
  std::size_t listener = 0;
  {
    const std::lock_guard lock{sessions_mutex_};
    if (const auto ended = sessions_.find(id); ended != sessions_.end()) {
      listener = ended->second.listener;
      if (!ended->second.client.empty()) --client_connections_[ended->second.client];
      sessions_.erase(ended);
    }
    last = sessions_.empty();
  }
  --open_connections_[listener];
  stats_.open_connections.dec();
  if (last && stopping_) {
    net::post(strand_, [this] { grace_timer_.cancel(); });
  }
}

void server::stop() {
  net::post(strand_, [this] { stop_on_strand(); });
}

void server::stop_on_strand() {
  if (stopping_.exchange(true)) return;
  error_code ignored;
  tcp_acceptor_.close(ignored);
  unix_acceptor_.close(ignored);
  remove_socket_file();

  std::vector<session_handle> open;
  {
    const std::lock_guard lock{sessions_mutex_};
    for (const auto& [id, handle] : sessions_) open.push_back(handle);
  }
  if (open.empty()) return;
  log()->info(
      "stopping: {} connection(s) open, grace {} ms", open.size(),
      std::chrono::duration_cast<std::chrono::milliseconds>(limits_.shutdown_grace).count());
  for (const auto& handle : open) handle.stop();

  grace_timer_.expires_after(limits_.shutdown_grace);
  net::co_spawn(
      strand_,
      [this]() -> net::awaitable<void> {
        auto [ec] = co_await grace_timer_.async_wait();
        if (ec) co_return;  // every session ended in time
        std::vector<session_handle> left;
        {
          const std::lock_guard lock{sessions_mutex_};
          for (const auto& [id, handle] : sessions_) left.push_back(handle);
        }
        if (!left.empty())
          log()->warn("closing {} connection(s) after the grace period", left.size());
        for (const auto& handle : left) handle.close_now();
      },
      log_session_end);
}

}  // namespace sidecar::proxy
