#include <sidecar/testing/vault_double.hpp>

#include <sidecar/core/asio.hpp>
#include <sidecar/testing/control_handler.hpp>
#include <sidecar/testing/double_server.hpp>
#include <sidecar/testing/double_state.hpp>
#include <sidecar/testing/vault_http_handler.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <fstream>
#include <future>
#include <iterator>
#include <stdexcept>
#include <thread>

namespace sidecar::testing {
namespace {

// "127.0.0.1:8200", "[::1]:0", "localhost:0" (resolved as loopback).
tcp::endpoint parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos)
    throw std::invalid_argument{"listen address needs a port: " + listen};
  auto host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  const auto port = static_cast<unsigned short>(std::stoul(listen.substr(colon + 1)));
  return {net::ip::make_address(host), port};
}

std::shared_ptr<net::ssl::context> make_tls(const tls_files& files) {
  auto context = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
  context->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                       net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                       net::ssl::context::no_tlsv1_1);
  context->use_certificate_chain_file(files.cert_file);
  context->use_private_key_file(files.key_file, net::ssl::context::pem);
  if (!files.client_ca_file.empty()) {
    context->load_verify_file(files.client_ca_file);
    context->set_verify_mode(net::ssl::verify_peer | net::ssl::verify_fail_if_no_peer_cert);
  } else if (files.request_client_cert) {
    // Vault's listener asks for a certificate and lets the cert auth method judge it.
    context->set_verify_mode(net::ssl::verify_peer);
    context->set_verify_callback([](bool, net::ssl::verify_context&) { return true; });
  }
  return context;
}

std::vector<std::string> strings(const nlohmann::json& value) {
  return value.is_null() ? std::vector<std::string>{} : value.get<std::vector<std::string>>();
}

}  // namespace

struct vault_double::impl {
  explicit impl(double_options& options)
      : own_clock{options.clock ? nullptr : std::make_unique<core::system_clock>()},
        state{options.clock ? *options.clock : *own_clock, std::move(options.database)},
        vault_handler{state},
        vault_server{io, vault_handler, parse_listen(options.listen),
                     options.tls ? make_tls(*options.tls) : nullptr},
        outage_timer{io},
        tls{options.tls} {}

  // Runs `work` on the io thread and waits for it, or runs it directly when already there (the
  // control API calls in from the io thread).
  template <class Task>
  void on_io(Task&& task) {
    if (!thread.joinable() || io.get_executor().running_in_this_thread()) {
      task();
      return;
    }
    std::promise<void> done;
    net::post(io, [&] {
      try {
        task();
        done.set_value();
      } catch (...) {
        done.set_exception(std::current_exception());
      }
    });
    done.get_future().get();
  }

  std::unique_ptr<core::system_clock> own_clock;
  double_state state;
  net::io_context io;
  net::executor_work_guard<net::io_context::executor_type> work{io.get_executor()};
  vault_http_handler vault_handler;
  double_server vault_server;
  std::unique_ptr<control_handler> control;
  std::unique_ptr<double_server> control_server;
  net::steady_timer outage_timer;
  std::optional<tls_files> tls;  // what the Vault listener serves; io thread only
  std::thread thread;
};

vault_double::vault_double(double_options options) : impl_{std::make_unique<impl>(options)} {
  if (!options.seed.is_null()) apply_seed(options.seed);
  if (!options.control_listen.empty()) {
    impl_->control = std::make_unique<control_handler>(*this);
    impl_->control_server = std::make_unique<double_server>(
        impl_->io, *impl_->control, parse_listen(options.control_listen), nullptr);
    impl_->control_server->start();
  }
  impl_->vault_server.start();
  impl_->thread = std::thread{[this] { impl_->io.run(); }};
}

vault_double::~vault_double() {
  impl_->on_io([this] {
    impl_->outage_timer.cancel();
    impl_->vault_server.stop_listening();
    impl_->vault_server.close_connections();
    if (impl_->control_server) {
      impl_->control_server->stop_listening();
      impl_->control_server->close_connections();
    }
  });
  impl_->work.reset();
  impl_->io.stop();
  impl_->thread.join();
}

unsigned short vault_double::port() const { return impl_->vault_server.port(); }

std::string vault_double::address() const {
  return (impl_->vault_server.tls() ? "https://127.0.0.1:" : "http://127.0.0.1:") +
         std::to_string(port());
}

unsigned short vault_double::control_port() const {
  return impl_->control_server ? impl_->control_server->port() : 0;
}

approle_credentials vault_double::add_approle(const approle_spec& spec) {
  return add_approle(spec, {}, {});
}

approle_credentials vault_double::add_approle(const approle_spec& spec, std::string role_id,
                                              std::string secret_id) {
  std::lock_guard lock{impl_->state.mutex};
  return impl_->state.auth.add_approle(spec, std::move(role_id), std::move(secret_id));
}

std::string vault_double::add_secret_id(const std::string& role_name, std::string secret_id) {
  std::lock_guard lock{impl_->state.mutex};
  return impl_->state.auth.add_secret_id(role_name, std::move(secret_id));
}

void vault_double::add_policy(const std::string& name, policy_rules rules) {
  std::lock_guard lock{impl_->state.mutex};
  impl_->state.auth.add_policy(name, std::move(rules));
}

void vault_double::add_jwt_role(const jwt_role_spec& spec) {
  std::lock_guard lock{impl_->state.mutex};
  impl_->state.platform.add_jwt_role(spec);
}

void vault_double::add_jwt(const std::string& mount, const std::string& role, std::string jwt,
                           std::string subject, long long ttl) {
  std::lock_guard lock{impl_->state.mutex};
  impl_->state.platform.add_jwt(mount, role, std::move(jwt), std::move(subject), ttl);
}

void vault_double::add_cert_role(const cert_role_spec& spec) {
  std::lock_guard lock{impl_->state.mutex};
  impl_->state.platform.add_cert_role(spec);
}

void vault_double::add_kv_mount(const std::string& mount, int version) {
  std::lock_guard lock{impl_->state.mutex};
  impl_->state.kv.add_mount(mount, version);
}

void vault_double::put_kv(const std::string& mount, const std::string& path, nlohmann::json data) {
  std::lock_guard lock{impl_->state.mutex};
  impl_->state.kv.put(mount, path, std::move(data));
}

void vault_double::add_database_role(const database_role_spec& spec) {
  std::lock_guard lock{impl_->state.mutex};
  impl_->state.leases.add_role(spec);
}

std::string vault_double::create_token(std::vector<std::string> policies, long long ttl,
                                       bool renewable) {
  std::lock_guard lock{impl_->state.mutex};
  return impl_->state.auth.create_token(std::move(policies), ttl, renewable);
}

void vault_double::apply_seed(const nlohmann::json& seed) {
  if (!seed.is_object()) throw std::invalid_argument{"seed must be a JSON object"};
  if (const auto it = seed.find("kv_mounts"); it != seed.end()) {
    for (const auto& [mount, spec] : it->items()) {
      add_kv_mount(mount, spec.value("version", 2));
      if (const auto secrets = spec.find("secrets"); secrets != spec.end()) {
        for (const auto& [path, data] : secrets->items()) put_kv(mount, path, data);
      }
    }
  }
  if (const auto it = seed.find("policies"); it != seed.end()) {
    for (const auto& [name, rules] : it->items()) {
      policy_rules parsed;
      for (const auto& [pattern, caps] : rules.items()) parsed.emplace_back(pattern, strings(caps));
      add_policy(name, std::move(parsed));
    }
  }
  if (const auto it = seed.find("database_roles"); it != seed.end()) {
    for (const auto& role : *it) {
      add_database_role({.name = role.at("name").get<std::string>(),
                         .default_ttl = role.value("default_ttl", 3600LL),
                         .max_ttl = role.value("max_ttl", 86400LL),
                         .renewable = role.value("renewable", true)});
    }
  }
  if (const auto it = seed.find("jwt_roles"); it != seed.end()) {
    for (const auto& role : *it) {
      const jwt_role_spec spec{.mount = role.value("mount", std::string{"kubernetes"}),
                               .method = role.value("method", std::string{}),
                               .name = role.at("name").get<std::string>(),
                               .policies = strings(role.value("policies", nlohmann::json{})),
                               .token_ttl = role.value("token_ttl", 3600LL),
                               .token_max_ttl = role.value("token_max_ttl", 0LL),
                               .token_period = role.value("token_period", 0LL),
                               .renewable = role.value("renewable", true)};
      add_jwt_role(spec);
      for (const auto& jwt : role.value("jwts", nlohmann::json::array())) {
        add_jwt(spec.mount, spec.name, jwt.at("jwt").get<std::string>(),
                jwt.value("subject", std::string{}), jwt.value("ttl", 0LL));
      }
    }
  }
  if (const auto it = seed.find("cert_roles"); it != seed.end()) {
    for (const auto& role : *it) {
      std::string pem = role.value("certificate", std::string{});
      if (const auto file = role.value("certificate_file", std::string{}); !file.empty()) {
        std::ifstream in{file};
        if (!in) throw std::invalid_argument{"cannot read " + file};
        pem.assign(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
      }
      add_cert_role({.name = role.at("name").get<std::string>(),
                     .certificate_pem = std::move(pem),
                     .policies = strings(role.value("policies", nlohmann::json{})),
                     .token_ttl = role.value("token_ttl", 3600LL),
                     .token_max_ttl = role.value("token_max_ttl", 0LL),
                     .token_period = role.value("token_period", 0LL),
                     .renewable = role.value("renewable", true)});
    }
  }
  if (const auto it = seed.find("approles"); it != seed.end()) {
    for (const auto& role : *it) {
      const approle_spec spec{.name = role.at("name").get<std::string>(),
                              .policies = strings(role.value("policies", nlohmann::json{})),
                              .token_ttl = role.value("token_ttl", 3600LL),
                              .token_max_ttl = role.value("token_max_ttl", 0LL),
                              .token_period = role.value("token_period", 0LL),
                              .token_num_uses = role.value("token_num_uses", 0),
                              .secret_id_num_uses = role.value("secret_id_num_uses", 0),
                              .secret_id_ttl = role.value("secret_id_ttl", 0LL),
                              .bind_secret_id = role.value("bind_secret_id", true),
                              .renewable = role.value("renewable", true)};
      add_approle(spec, role.value("role_id", std::string{}),
                  role.value("secret_id", std::string{}));
      for (const auto& extra : strings(role.value("extra_secret_ids", nlohmann::json{}))) {
        add_secret_id(spec.name, extra);
      }
    }
  }
}

void vault_double::fail_next(const std::string& path_prefix, int count, unsigned status,
                             std::string error_message) {
  std::lock_guard lock{impl_->state.mutex};
  impl_->state.faults.fail_next(path_prefix, count, status, std::move(error_message));
}

void vault_double::set_delay(const std::string& path_prefix, std::chrono::milliseconds delay) {
  std::lock_guard lock{impl_->state.mutex};
  impl_->state.faults.set_delay(path_prefix, delay);
}

void vault_double::drop_next(const std::string& path_prefix, int count) {
  std::lock_guard lock{impl_->state.mutex};
  impl_->state.faults.drop_next(path_prefix, count);
}

void vault_double::corrupt_next(const std::string& path_prefix, int count, corruption mode) {
  std::lock_guard lock{impl_->state.mutex};
  impl_->state.faults.corrupt_next(path_prefix, count, mode);
}

void vault_double::fail_for(const std::string& path_prefix, std::chrono::milliseconds window,
                            unsigned status, std::string error_message,
                            std::vector<std::pair<std::string, std::string>> headers) {
  std::lock_guard lock{impl_->state.mutex};
  impl_->state.faults.fail_for(path_prefix, window, status, std::move(error_message),
                               std::move(headers));
}

void vault_double::clear_faults() {
  std::lock_guard lock{impl_->state.mutex};
  impl_->state.faults.clear();
}

void vault_double::seal() {
  std::lock_guard lock{impl_->state.mutex};
  impl_->state.sealed = true;
}

void vault_double::unseal() {
  std::lock_guard lock{impl_->state.mutex};
  impl_->state.sealed = false;
}

void vault_double::go_down() {
  impl_->on_io([this] {
    impl_->outage_timer.cancel();
    impl_->vault_server.stop_listening();
    impl_->vault_server.close_connections();
  });
}

void vault_double::come_up() {
  impl_->on_io([this] {
    impl_->outage_timer.cancel();
    impl_->vault_server.listen_again();
  });
}

void vault_double::go_down_for(std::chrono::milliseconds outage) {
  go_down();
  impl_->on_io([this, outage] {
    impl_->outage_timer.expires_after(outage);
    impl_->outage_timer.async_wait([this](const error_code& ec) {
      if (!ec) impl_->vault_server.listen_again();
    });
  });
}

void vault_double::use_certificate(const std::string& cert_file, const std::string& key_file) {
  impl_->on_io([&] {
    if (!impl_->tls) throw std::logic_error{"the double serves plain HTTP"};
    auto files = *impl_->tls;
    files.cert_file = cert_file;
    files.key_file = key_file;
    impl_->vault_server.use_tls(make_tls(files));  // a bad file throws before anything changes
    impl_->tls = std::move(files);
  });
}

void vault_double::revoke_all_tokens() {
  std::lock_guard lock{impl_->state.mutex};
  for (const auto& id : impl_->state.auth.revoke_all()) impl_->state.leases.revoke_owned_by(id);
}

std::size_t vault_double::count(const std::string& method, const std::string& path_prefix) const {
  std::lock_guard lock{impl_->state.mutex};
  std::size_t n = 0;
  for (const auto& r : impl_->state.requests) {
    if ((method.empty() || r.method == method) && r.path.starts_with(path_prefix)) ++n;
  }
  return n;
}

std::vector<request_record> vault_double::requests() const {
  std::lock_guard lock{impl_->state.mutex};
  return impl_->state.requests;
}

std::vector<login_record> vault_double::logins() const {
  std::lock_guard lock{impl_->state.mutex};
  return impl_->state.platform.logins();
}

std::size_t vault_double::connections_accepted() const {
  std::lock_guard lock{impl_->state.mutex};
  return impl_->state.connections_accepted;
}

std::size_t vault_double::in_flight() const {
  std::lock_guard lock{impl_->state.mutex};
  return impl_->state.in_flight;
}

std::size_t vault_double::peak_in_flight() const {
  std::lock_guard lock{impl_->state.mutex};
  return impl_->state.peak_in_flight;
}

std::vector<std::string> vault_double::live_lease_ids(const std::string& prefix) const {
  std::lock_guard lock{impl_->state.mutex};
  return impl_->state.leases.live_ids(prefix);
}

std::size_t vault_double::live_leases(const std::string& prefix) const {
  std::lock_guard lock{impl_->state.mutex};
  return impl_->state.leases.live(prefix);
}

}  // namespace sidecar::testing
