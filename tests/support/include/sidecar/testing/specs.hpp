#pragma once

// Plain descriptions of what a test puts into the Vault double (roles, policies, database
// roles) and of what it can observe afterwards (request records).

#include <string>
#include <utility>
#include <vector>

namespace sidecar::testing {

/// Server certificate and key (PEM files); a non-empty `client_ca_file` makes the listener
/// require client certificates signed by that CA (mTLS).
struct tls_files {
  std::string cert_file, key_file;
  std::string client_ca_file;
  /// Ask every client for a certificate without requiring one, and accept whatever it sends:
  /// what Vault's listener does so the cert auth method can judge it (tls_files::client_ca_file
  /// empty).
  bool request_client_cert = false;
};

struct approle_credentials {
  std::string role_id, secret_id;
};

/// An AppRole role. TTLs in seconds; 0 means Vault's default (token_ttl, token_max_ttl: the
/// system's 32 days; num_uses, secret_id_ttl: unlimited).
struct approle_spec {
  std::string name{};
  std::vector<std::string> policies{};
  long long token_ttl = 3600, token_max_ttl = 0, token_period = 0;
  int token_num_uses = 0, secret_id_num_uses = 0;
  long long secret_id_ttl = 0;
  bool bind_secret_id = true, renewable = true;
};

/// A role of a Kubernetes or JWT auth mount (`auth/<mount>/login {"role","jwt"}`). Which JWTs
/// it accepts is configured per role (vault_double::add_jwt), standing in for Vault's
/// TokenReview call or signature check. TTLs as for approle_spec.
struct jwt_role_spec {
  std::string mount = "kubernetes";  ///< "kubernetes" or "jwt" (the method), or a custom mount
  std::string method{};              ///< "kubernetes" | "jwt"; empty: the mount's name
  std::string name{};
  std::vector<std::string> policies{};
  long long token_ttl = 3600, token_max_ttl = 0, token_period = 0;
  bool renewable = true;
};

/// A role of the cert auth method (`auth/cert/login {"name"}` over mutual TLS): a client
/// certificate equal to `certificate_pem`, or issued by it when it is a CA, logs in.
struct cert_role_spec {
  std::string name{};
  std::string certificate_pem{};
  std::vector<std::string> policies{};
  long long token_ttl = 3600, token_max_ttl = 0, token_period = 0;
  bool renewable = true;
};

/// One login attempt at a Kubernetes, JWT or cert mount: which role, and the subject the
/// accepted JWT was registered with or the certificate's common name (never the JWT itself),
/// empty when it was refused.
struct login_record {
  std::string mount{}, role{}, subject{};
  unsigned status = 0;
};

/// A role of the `database` mount; its credentials' leases last default_ttl, renewable up to
/// max_ttl after issue.
struct database_role_spec {
  std::string name{};
  long long default_ttl = 3600, max_ttl = 86400;
  bool renewable = true;
};

/// A policy: path patterns ("kv-demo/data/app" exact, "kv-demo/*" prefix glob) with their
/// capabilities (create, read, update, patch, delete, list, sudo, deny).
using policy_rules = std::vector<std::pair<std::string, std::vector<std::string>>>;

/// One request the double answered (or dropped: status 0).
struct request_record {
  std::string method{}, path{}, query{}, token{};
  unsigned status = 0;
  long long at_ms = 0;  ///< when it was answered (or dropped), ms since the double started
};

}  // namespace sidecar::testing
