#include <sidecar/auth/errc.hpp>

#include <string>

namespace sidecar::auth {
namespace {

class category_impl final : public boost::system::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "auth"; }
  [[nodiscard]] std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::role_id_missing:
        return "no role_id: set auth.role_id_file or VAULT_ROLE_ID";
      case errc::secret_id_missing:
        return "no secret_id: set auth.secret_id_file, VAULT_SECRET_ID or a systemd credential "
               "named secret_id";
      case errc::credential_unreadable:
        return "a credential file could not be read";
      case errc::credential_empty:
        return "a credential is empty";
      case errc::credential_not_removed:
        return "the secret_id file could not be removed";
      case errc::login_refused:
        return "Vault refused the login";
      case errc::vault_unavailable:
        return "Vault unavailable for login within login_timeout";
      case errc::token_lost:
        return "Vault token lost";
      case errc::no_token:
        return "no Vault token to send, so Vault was not asked";
    }
    return "unknown auth error";
  }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace sidecar::auth
