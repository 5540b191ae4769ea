#include <sidecar/vault/tls_context.hpp>

#include <boost/system/system_error.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>
#include <string>

namespace sidecar::vault {
namespace {

namespace ssl = boost::asio::ssl;

// Asio reports OpenSSL's reason ("no such file", "no start line"); the key and path make the
// message actionable.
template <class Load>
void load_or_throw(const char* key, const std::string& path, Load load) {
  try {
    load();
  } catch (const boost::system::system_error& e) {
    throw std::invalid_argument{std::string{"vault."} + key + ": cannot load " + path + ": " +
                                e.code().message()};
  }
}

}  // namespace

ssl::context make_tls_context(const config::vault_config& vault) {
  ssl::context context{ssl::context::tls_client};
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);

  if (vault.tls_skip_verify) {
    context.set_verify_mode(ssl::verify_none);
  } else {
    context.set_verify_mode(ssl::verify_peer);
    if (vault.ca_cert.empty()) {
      context.set_default_verify_paths();
    } else {
      load_or_throw("ca_cert", vault.ca_cert, [&] { context.load_verify_file(vault.ca_cert); });
    }
  }

  if (vault.client_cert.empty() != vault.client_key.empty()) {
    throw std::invalid_argument{"vault.client_cert and vault.client_key must be set together"};
  }
  if (!vault.client_cert.empty()) {
    load_or_throw("client_cert", vault.client_cert,
                  [&] { context.use_certificate_chain_file(vault.client_cert); });
    load_or_throw("client_key", vault.client_key,
                  [&] { context.use_private_key_file(vault.client_key, ssl::context::pem); });
    if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
      ERR_clear_error();
      throw std::invalid_argument{"vault.client_key: " + vault.client_key +
                                  " does not match vault.client_cert " + vault.client_cert};
    }
  }
  return context;
}

}  // namespace sidecar::vault
