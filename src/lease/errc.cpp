#include <sidecar/lease/errc.hpp>

#include <string>

namespace sidecar::lease {
namespace {

class category_impl final : public boost::system::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "lease"; }
  [[nodiscard]] std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::stopped:
        return "lease store stopped";
    }
    return "unknown lease error";
  }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace sidecar::lease
