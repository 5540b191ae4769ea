#pragma once

#include <sidecar/core/clock.hpp>
#include <sidecar/core/log.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

// The configuration contract of DESIGN.md as plain, immutable data: one struct per INI section,
// each member's default is the documented default. Produced only by config::load (parser.hpp),
// which validates everything, so code that receives a config never re-checks it.

namespace sidecar::config {

using namespace std::chrono_literals;
using core::duration;

struct vault_config {
  std::string address = "https://127.0.0.1:8200";  ///< [VAULT_ADDR]; scheme, host, port
  std::string ca_cert;                             ///< PEM bundle path [VAULT_CACERT]
  std::string client_cert;                         ///< mTLS [VAULT_CLIENT_CERT]
  std::string client_key;                          ///< [VAULT_CLIENT_KEY]
  std::string tls_server_name;                     ///< SNI / verify name [VAULT_TLS_SERVER_NAME]
  bool tls_skip_verify = false;                    ///< [VAULT_SKIP_VERIFY]
  std::string namespace_;                          ///< X-Vault-Namespace [VAULT_NAMESPACE]
  duration request_timeout = 10s;
  int max_retries = 3;  ///< reads only: connect errors, 412, 429, 5xx except 501
  /// Requests per second to Vault, a token bucket with a burst of the same size; 0 = unlimited.
  /// Login and token renewal are not counted: they never wait behind callers.
  int rate_limit = 0;
  int max_concurrent_requests = 0;  ///< to Vault at once, login and renewal aside; 0 = unlimited
};

enum class renew_failure_policy { exit, serve_cached };

/// How the sidecar gets its token (auth.method). approle, kubernetes, jwt and cert log in;
/// token_file reads a token someone else created.
enum class auth_method { approle, kubernetes, jwt, cert, token_file };

/// auth.relogin: whether a token that reached its max TTL (or that Vault calls invalid) is
/// replaced by a new login. Never for approle (the brief's rule); on_expiry by default for the
/// methods whose platform keeps the credential fresh.
enum class relogin_policy { never, on_expiry };

struct auth_config {
  std::string method = "approle";
  std::string mount = "approle";
  std::string role_id_file;    ///< or $VAULT_ROLE_ID
  std::string secret_id_file;  ///< or $VAULT_SECRET_ID, or $CREDENTIALS_DIRECTORY/secret_id
  bool remove_secret_id_file_after_reading = false;
  duration check_interval = 10s;
  double renew_at = 0.8;  ///< fraction of the token TTL, in (0, 1)
  renew_failure_policy on_renew_failure = renew_failure_policy::exit;
  duration login_timeout = 60s;
  // Issue 20 (methods other than AppRole). `method` above stays the user-facing name; `kind` is
  // the same choice as an enum, set by the parser together with it.
  auth_method kind = auth_method::approle;
  std::string role;  ///< kubernetes, jwt (required), cert (optional certificate role name)
  std::string jwt_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string token_file;                          ///< token_file (required)
  relogin_policy relogin = relogin_policy::never;  ///< default on_expiry for kubernetes/jwt/cert
  std::string secret_id_response_wrapping_path;  ///< approle: secret_id_file holds a wrapping token
};

struct listener_config {
  std::string address = "127.0.0.1:8100";  ///< host:port, loopback only; empty = no TCP
  std::string unix_socket;                 ///< path; empty = none
  unsigned socket_mode = 0660;
  bool require_request_header = false;
  bool enable_quit = false;
  int threads = 1;
  /// Open connections at most; one accepted beyond it is closed at once. Each takes a file
  /// descriptor: the daemon raises its soft RLIMIT_NOFILE to the hard limit at start-up.
  std::size_t max_connections = 1024;
};

struct proxy_config {
  /// Path patterns; a trailing `*` matches any suffix. Normalised targets are matched.
  std::vector<std::string> allow = {"/v1/kv-*", "/v1/database/creds/*"};
  bool forward_writes = false;
};

struct cache_config {
  duration ttl = 5min;
  duration refresh_interval = 1min;
  duration max_stale = 1h;  ///< 0 = never serve stale
  std::size_t max_entries = 10000;
  duration negative_ttl = 5s;  ///< how long a KV 404 is kept and served; 0 = off
};

enum class lease_strategy { rotate, renew };

struct database_config {
  double renew_at = 0.8;
  lease_strategy strategy = lease_strategy::rotate;
  bool revoke_on_shutdown = false;
};

using core::log_format;

struct log_config {
  std::string level = "info";  ///< trace|debug|info|warn|error (validated)
  log_format format = log_format::text;
};

enum class restart_policy { always, never };

struct exec_config {
  std::vector<std::string> command;  ///< split like a shell would; empty = no exec mode
  restart_policy restart_on_secret_changes = restart_policy::always;
  int restart_stop_signal = 15;  ///< SIGTERM; parsed from a name like "SIGTERM"
  duration restart_grace = 30s;
};

struct template_config {
  std::string name;  ///< NAME of [template.NAME]
  std::string source;
  std::string destination;
  unsigned perms = 0600;
  std::string command;  ///< optional, run after the file changed
};

/// [client.NAME]: who may read what once any client is configured (caller identity from the
/// kernel: SO_PEERCRED on the unix socket, the peer socket's owner on loopback TCP).
struct client_config {
  std::string name;                 ///< NAME of [client.NAME]; sections keep file order
  std::vector<std::string> users;   ///< as written: user names or uids
  std::vector<std::string> groups;  ///< as written: group names or gids
  std::vector<std::string> allow;   ///< patterns, each inside proxy.allow
  std::size_t max_connections = 0;  ///< this client's open connections at most; 0 = no own cap
  // Resolved by config::load from the user and group databases, so matching a caller never
  // calls NSS on the request path:
  std::vector<std::uint32_t> uids;  ///< of `users`
  std::vector<std::uint32_t> gids;  ///< of `groups`
  std::vector<std::uint32_t>
      member_uids;  ///< users whose primary or supplementary group is in gids

  friend bool operator==(const client_config&, const client_config&) = default;
};

struct audit_config {
  std::string destination = "off";  ///< off | stderr | absolute file path
};

struct security_config {
  bool lock_memory = false;  ///< mlockall
};

struct config {
  std::string file;  ///< the path it was read from
  vault_config vault;
  auth_config auth;
  listener_config listener;
  proxy_config proxy;
  cache_config cache;
  database_config database;
  log_config log;
  exec_config exec;
  /// [secrets]: name -> Vault path without /v1/ (e.g. "kv-demo/data/sample"), in file order.
  std::vector<std::pair<std::string, std::string>> secrets;
  /// [env]: variable -> template over [secrets], in file order.
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<template_config> templates;
  security_config security;
  std::vector<client_config> clients;  ///< [client.NAME] sections in file order
  audit_config audit;
};

}  // namespace sidecar::config
