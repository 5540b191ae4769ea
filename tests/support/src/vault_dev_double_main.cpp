// vault-dev-double: the Vault API double as a process, for end-to-end tests and the README's
// demo. Serves until SIGTERM or SIGINT; logs one line per request on stderr.

#include <sidecar/core/log.hpp>
#include <sidecar/testing/postgres_database_backend.hpp>
#include <sidecar/testing/self_signed.hpp>
#include <sidecar/testing/vault_double.hpp>

#include <boost/program_options.hpp>

#include <pthread.h>
#include <signal.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

namespace {

namespace po = boost::program_options;
using sidecar::testing::double_options;

// Written to a temporary name, then renamed, so a script polling for the file never reads a
// half-written port.
void write_port_file(const std::string& path, unsigned short port) {
  if (path.empty()) return;
  const auto temporary = path + ".tmp";
  {
    std::ofstream out{temporary, std::ios::trunc};
    out << port << "\n";
    if (!out) throw std::runtime_error{"cannot write " + temporary};
  }
  std::filesystem::rename(temporary, path);
}

int wait_for_signal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int received = 0;
  sigwait(&signals, &received);
  return received;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so only sigwait() sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  po::options_description description{"vault-dev-double options"};
  description.add_options()("help", "show this help")(
      "listen", po::value<std::string>()->default_value("127.0.0.1:0"), "Vault API address")(
      "port-file", po::value<std::string>(), "write the Vault API port here")(
      "control-listen", po::value<std::string>()->default_value("127.0.0.1:0"),
      "control API address (plain HTTP)")("control-port-file", po::value<std::string>(),
                                          "write the control API port here")(
      "seed", po::value<std::string>(), "JSON seed file (mounts, secrets, roles, policies)")(
      "tls-cert", po::value<std::string>(), "server certificate chain (PEM)")(
      "tls-key", po::value<std::string>(), "server private key (PEM)")(
      "tls-self-signed", po::value<std::string>(),
      "generate ca.pem, server.pem, server-key.pem, client.pem, client-key.pem in DIR and serve "
      "TLS")("require-client-cert",
             "require client certificates (signed by the self-signed CA or --tls-client-ca)")(
      "tls-client-ca", po::value<std::string>(), "CA file for client certificates (implies mTLS)")(
      "tls-request-client-cert",
      "ask clients for a certificate without requiring one, for the cert auth method (as Vault's "
      "listener does)")(
      "postgres", po::value<std::string>(),
      "mint database creds as real roles on this PostgreSQL (libpq connection string)")(
      "postgres-file", po::value<std::string>(),
      "like --postgres, the connection string read from a file (scripts/postgres.sh's "
      "DIR/conninfo)")("log-level", po::value<std::string>()->default_value("info"),
                       "trace|debug|info|warn|error");

  try {
    po::variables_map args;
    po::store(po::parse_command_line(argc, argv, description), args);
    po::notify(args);
    if (args.count("help")) {
      std::cout << description << "\n";
      return 0;
    }
    spdlog::level::level_enum level{};
    if (!sidecar::core::parse_log_level(args["log-level"].as<std::string>(), level)) {
      throw std::invalid_argument{"bad --log-level"};
    }
    sidecar::core::configure_logging(level, sidecar::core::log_format::text);

    double_options options;
    options.listen = args["listen"].as<std::string>();
    options.control_listen = args["control-listen"].as<std::string>();
    if (args.count("seed")) {
      std::ifstream in{args["seed"].as<std::string>()};
      if (!in) throw std::runtime_error{"cannot read " + args["seed"].as<std::string>()};
      options.seed = nlohmann::json::parse(in);
    }
    if (args.count("tls-self-signed")) {
      const auto files =
          sidecar::testing::make_self_signed(args["tls-self-signed"].as<std::string>());
      options.tls = sidecar::testing::tls_files{files.server_cert, files.server_key, {}};
      if (args.count("require-client-cert")) options.tls->client_ca_file = files.ca_cert;
    } else if (args.count("tls-cert") || args.count("tls-key")) {
      if (!args.count("tls-cert") || !args.count("tls-key")) {
        throw std::invalid_argument{"--tls-cert and --tls-key go together"};
      }
      options.tls = sidecar::testing::tls_files{
          args["tls-cert"].as<std::string>(), args["tls-key"].as<std::string>(), {}};
    } else if (args.count("require-client-cert") || args.count("tls-client-ca")) {
      throw std::invalid_argument{
          "client certificates need TLS (--tls-cert/--tls-key or --tls-self-signed)"};
    }
    if (args.count("tls-client-ca"))
      options.tls->client_ca_file = args["tls-client-ca"].as<std::string>();
    if (args.count("tls-request-client-cert")) {
      if (!options.tls) throw std::invalid_argument{"--tls-request-client-cert needs TLS"};
      options.tls->request_client_cert = true;
    }
    if (args.count("require-client-cert") && options.tls->client_ca_file.empty()) {
      throw std::invalid_argument{
          "--require-client-cert needs --tls-client-ca or --tls-self-signed"};
    }

    if (args.count("postgres") && args.count("postgres-file")) {
      throw std::invalid_argument{"--postgres and --postgres-file exclude each other"};
    }
    if (args.count("postgres")) {
      options.database = std::make_shared<sidecar::testing::postgres_database_backend>(
          sidecar::core::secret_string{args["postgres"].as<std::string>()});
    } else if (args.count("postgres-file")) {
      std::ifstream in{args["postgres-file"].as<std::string>()};
      std::string conninfo;
      if (!std::getline(in, conninfo)) {
        throw std::runtime_error{"cannot read " + args["postgres-file"].as<std::string>()};
      }
      options.database = std::make_shared<sidecar::testing::postgres_database_backend>(
          sidecar::core::secret_string{std::move(conninfo)});
    }

    sidecar::testing::vault_double vault{std::move(options)};
    if (args.count("port-file")) write_port_file(args["port-file"].as<std::string>(), vault.port());
    if (args.count("control-port-file")) {
      write_port_file(args["control-port-file"].as<std::string>(), vault.control_port());
    }
    sidecar::core::logger("vault-double")
        ->info("serving {} (control on 127.0.0.1:{})", vault.address(), vault.control_port());
    const auto signal = wait_for_signal();
    sidecar::core::logger("vault-double")->info("signal {}: stopping", signal);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "vault-dev-double: " << e.what() << "\n";
    return 1;
  }
}
