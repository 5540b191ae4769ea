#include <sidecar/testing/self_signed.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <memory>
#include <stdexcept>

namespace sidecar::testing {
namespace {

struct openssl_free {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
  void operator()(X509* p) const noexcept { X509_free(p); }
  void operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); }
  void operator()(BIO* p) const noexcept { BIO_free(p); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, openssl_free>;
using cert_ptr = std::unique_ptr<X509, openssl_free>;

[[noreturn]] void fail(const char* what) {
  const auto code = ERR_get_error();
  char reason[256] = {};
  ERR_error_string_n(code, reason, sizeof reason);
  throw std::runtime_error{std::string{what} + ": " + reason};
}

key_ptr make_key() {
  key_ptr key{EVP_EC_gen("P-256")};
  if (!key) fail("EC key generation");
  return key;
}

struct cert_spec {
  const char* common_name = nullptr;
  bool ca = false;
  const char* extended_usage = nullptr;  // "serverAuth" / "clientAuth"
  const char* alt_names = nullptr;
};

void add_extension(X509* cert, X509V3_CTX* context, int nid, const char* value) {
  std::unique_ptr<X509_EXTENSION, openssl_free> ext{
      X509V3_EXT_conf_nid(nullptr, context, nid, value)};
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) fail("certificate extension");
}

// Signs with `issuer_key`; a null `issuer` makes the certificate self-signed.
cert_ptr make_cert(const cert_spec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  cert_ptr cert{X509_new()};
  if (!cert) fail("X509_new");
  unsigned char serial_bytes[8];
  if (RAND_bytes(serial_bytes, sizeof serial_bytes) != 1) fail("serial");
  std::uint64_t serial = 0;
  for (const auto b : serial_bytes) serial = (serial << 8U) | b;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), (serial >> 1U) | 1U);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  auto* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.common_name), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);

  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  add_extension(cert.get(), &context, NID_basic_constraints,
                spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add_extension(cert.get(), &context, NID_key_usage,
                spec.ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  add_extension(cert.get(), &context, NID_subject_key_identifier, "hash");
  if (issuer) add_extension(cert.get(), &context, NID_authority_key_identifier, "keyid:always");
  if (spec.extended_usage) {
    add_extension(cert.get(), &context, NID_ext_key_usage, spec.extended_usage);
  }
  if (spec.alt_names) add_extension(cert.get(), &context, NID_subject_alt_name, spec.alt_names);
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) fail("X509_sign");
  return cert;
}

void write_cert(const std::filesystem::path& path, X509* cert) {
  std::unique_ptr<BIO, openssl_free> out{BIO_new_file(path.c_str(), "w")};
  if (!out || PEM_write_bio_X509(out.get(), cert) != 1) fail("writing certificate");
}

void write_key(const std::filesystem::path& path, EVP_PKEY* key) {
  {
    std::unique_ptr<BIO, openssl_free> out{BIO_new_file(path.c_str(), "w")};
    if (!out ||
        PEM_write_bio_PrivateKey(out.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      fail("writing private key");
    }
  }
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

}  // namespace

self_signed_files make_self_signed(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const auto ca_key = make_key();
  const auto ca = make_cert({.common_name = "vault-dev-double CA", .ca = true}, ca_key.get(),
                            nullptr, ca_key.get());
  const auto server_key = make_key();
  const auto server = make_cert({.common_name = "127.0.0.1",
                                 .extended_usage = "serverAuth",
                                 .alt_names = "IP:127.0.0.1,DNS:localhost"},
                                server_key.get(), ca.get(), ca_key.get());
  const auto client_key = make_key();
  const auto client =
      make_cert({.common_name = "vault-sidecar client", .extended_usage = "clientAuth"},
                client_key.get(), ca.get(), ca_key.get());

  const self_signed_files files{
      .ca_cert = (dir / "ca.pem").string(),
      .server_cert = (dir / "server.pem").string(),
      .server_key = (dir / "server-key.pem").string(),
      .client_cert = (dir / "client.pem").string(),
      .client_key = (dir / "client-key.pem").string(),
  };
  write_cert(files.ca_cert, ca.get());
  write_cert(files.server_cert, server.get());
  write_key(files.server_key, server_key.get());
  write_cert(files.client_cert, client.get());
  write_key(files.client_key, client_key.get());
  return files;
}

}  // namespace sidecar::testing
