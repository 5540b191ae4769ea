#include <sidecar/testing/client_certificate.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace sidecar::testing {
namespace {

struct openssl_free {
  void operator()(X509* p) const noexcept { X509_free(p); }
  void operator()(BIO* p) const noexcept { BIO_free(p); }
  void operator()(BIGNUM* p) const noexcept { BN_free(p); }
  void operator()(char* p) const noexcept { OPENSSL_free(p); }
};
using cert_ptr = std::unique_ptr<X509, openssl_free>;

cert_ptr parse(std::string_view pem) {
  if (pem.empty()) return nullptr;
  std::unique_ptr<BIO, openssl_free> in{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  if (!in) return nullptr;
  return cert_ptr{PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr)};
}

}  // namespace

std::optional<certificate_facts> read_certificate(std::string_view pem) {
  const auto cert = parse(pem);
  if (!cert) return std::nullopt;
  certificate_facts facts;
  char name[256] = {};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, name,
                                sizeof name) > 0) {
    facts.common_name = name;
  }
  std::unique_ptr<BIGNUM, openssl_free> serial{
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr)};
  if (serial) {
    std::unique_ptr<char, openssl_free> text{BN_bn2dec(serial.get())};
    if (text) facts.serial_number = text.get();
  }
  return facts;
}

bool certificate_trusted(std::string_view trusted_pem, std::string_view client_pem) {
  const auto trusted = parse(trusted_pem);
  const auto client = parse(client_pem);
  if (!trusted || !client) return false;
  if (X509_cmp(trusted.get(), client.get()) == 0) return true;  // the very certificate
  // Issued by it: names and key identifiers line up (X509_check_issued), and the signature is
  // the trusted certificate's key's.
  return X509_check_issued(trusted.get(), client.get()) == X509_V_OK &&
         X509_verify(client.get(), X509_get0_pubkey(trusted.get())) == 1;
}

}  // namespace sidecar::testing
