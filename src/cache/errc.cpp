#include <sidecar/cache/errc.hpp>

#include <string>

namespace sidecar::cache {
namespace {

class category_impl final : public boost::system::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "cache"; }
  [[nodiscard]] std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::fetch_aborted:
        return "the read from Vault ended without an answer";
    }
    return "unknown cache error";
  }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace sidecar::cache
