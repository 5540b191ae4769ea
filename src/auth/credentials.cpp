#include <sidecar/auth/credentials.hpp>

#include <sidecar/auth/errc.hpp>
#include <sidecar/core/log.hpp>
#include <sidecar/core/text.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace sidecar::auth {
namespace {

// A role_id or secret_id is a UUID-sized token; anything this large is not a credential file.
constexpr std::size_t max_credential_bytes = 16 * 1024;

result<core::secret_string> from_text(std::string_view text, const std::string& what,
                                      const std::string& source) {
  const auto value = core::trim_whitespace(text);
  if (value.empty()) {
    core::logger("auth")->error("{} from {} is empty", what, source);
    return make_error_code(errc::credential_empty);
  }
  return core::secret_string{value};
}

// Reads with open/read into one buffer that is cleansed afterwards: an ifstream would leave a
// copy of the secret in its own buffer.
result<core::secret_string> read_file(const std::string& path, const std::string& what) {
  const auto log = core::logger("auth");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    log->error("cannot open {} file {}: {}", what, path, std::strerror(errno));
    return make_error_code(errc::credential_unreadable);
  }
  std::string buffer(max_credential_bytes + 1, '\0');
  std::size_t used = 0;
  int read_errno = 0;
  while (used < buffer.size()) {
    const auto n = ::read(fd, buffer.data() + used, buffer.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) read_errno = errno;
    if (n <= 0) break;
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  result<core::secret_string> out = make_error_code(errc::credential_unreadable);
  if (read_errno != 0) {
    log->error("cannot read {} file {}: {}", what, path, std::strerror(read_errno));
  } else if (used > max_credential_bytes) {
    log->error("{} file {} is larger than {} bytes", what, path, max_credential_bytes);
  } else {
    out = from_text(std::string_view{buffer.data(), used}, what, "file " + path);
  }
  core::cleanse(buffer);
  return out;
}

result<core::secret_string> from_env(const env_lookup& env, const char* name,
                                     const std::string& what) {
  return from_text(env(name), what, std::string{"$"} + name);
}

result<void> load_role_id(const config::auth_config& config, const env_lookup& env,
                          credentials& out) {
  result<core::secret_string> value = make_error_code(errc::role_id_missing);
  if (!config.role_id_file.empty()) {
    out.role_id_source = "file " + config.role_id_file;
    value = read_file(config.role_id_file, "role_id");
  } else if (env("VAULT_ROLE_ID") != nullptr) {
    out.role_id_source = "$VAULT_ROLE_ID";
    value = from_env(env, "VAULT_ROLE_ID", "role_id");
  } else {
    core::logger("auth")->error("no role_id: set auth.role_id_file or VAULT_ROLE_ID");
  }
  if (!value) return value.error();
  out.role_id = std::move(*value);
  return {};
}

result<void> load_secret_id(const config::auth_config& config, const env_lookup& env,
                            credentials& out) {
  result<core::secret_string> value = make_error_code(errc::secret_id_missing);
  const char* credentials_directory = env("CREDENTIALS_DIRECTORY");
  if (!config.secret_id_file.empty()) {
    out.secret_id_source = "file " + config.secret_id_file;
    value = read_file(config.secret_id_file, "secret_id");
    // A wrapping token's file goes only once it is unwrapped (the token manager removes it):
    // if the lookup refuses a substituted token, the file is the evidence.
    if (value && config.secret_id_response_wrapping_path.empty()) {
      if (auto removed = remove_secret_id_file(config); !removed) return removed.error();
    }
  } else if (env("VAULT_SECRET_ID") != nullptr) {
    out.secret_id_source = "$VAULT_SECRET_ID";
    value = from_env(env, "VAULT_SECRET_ID", "secret_id");
  } else if (credentials_directory != nullptr && *credentials_directory != '\0') {
    const auto path = std::string{credentials_directory} + "/secret_id";
    out.secret_id_source = "systemd credential " + path;
    value = read_file(path, "secret_id");
  } else {
    core::logger("auth")->error(
        "no secret_id: set auth.secret_id_file, VAULT_SECRET_ID or a systemd credential named "
        "secret_id");
  }
  if (!value) return value.error();
  out.secret_id = std::move(*value);
  return {};
}

}  // namespace

env_lookup process_environment() {
  return [](const char* name) -> const char* { return std::getenv(name); };
}

result<void> remove_secret_id_file(const config::auth_config& config) {
  if (!config.remove_secret_id_file_after_reading || config.secret_id_file.empty()) return {};
  if (::unlink(config.secret_id_file.c_str()) != 0) {
    core::logger("auth")->error("cannot remove secret_id file {} after reading: {}",
                                config.secret_id_file, std::strerror(errno));
    return make_error_code(errc::credential_not_removed);
  }
  return {};
}

result<core::secret_string> read_jwt(const config::auth_config& config) {
  return read_file(config.jwt_file, "JWT");
}

result<credentials> load_credentials(const config::auth_config& config, const env_lookup& env) {
  credentials out;
  switch (config.kind) {
    case config::auth_method::approle:
      break;
    case config::auth_method::kubernetes:
    case config::auth_method::jwt: {
      auto jwt = read_jwt(config);
      if (!jwt) return jwt.error();
      out.jwt = std::move(*jwt);
      return out;
    }
    case config::auth_method::cert:
      return out;
    case config::auth_method::token_file: {
      auto token = read_file(config.token_file, "token");
      if (!token) return token.error();
      out.token = std::move(*token);
      return out;
    }
  }
  if (auto loaded = load_role_id(config, env, out); !loaded) return loaded.error();
  if (auto loaded = load_secret_id(config, env, out); !loaded) return loaded.error();
  core::logger("auth")->debug("role_id from {}, secret_id from {}", out.role_id_source,
                              out.secret_id_source);
  return out;
}

}  // namespace sidecar::auth
