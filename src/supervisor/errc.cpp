#include <sidecar/supervisor/errc.hpp>

#include <string>

namespace sidecar::supervisor {
namespace {

class category_impl final : public boost::system::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "supervisor"; }
  [[nodiscard]] std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::template_unreadable:
        return "a template source cannot be read";
      case errc::render_failed:
        return "a template or [env] value cannot be rendered";
      case errc::write_failed:
        return "a rendered file cannot be written";
      case errc::spawn_failed:
        return "the [exec] command cannot be started";
    }
    return "unknown supervisor error";
  }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace sidecar::supervisor
