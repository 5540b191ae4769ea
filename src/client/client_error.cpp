#include <sidecar/client.hpp>

#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <string>

namespace sidecar {
namespace {

class category_impl final : public boost::system::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "client"; }
  [[nodiscard]] std::string message(int value) const override {
    switch (static_cast<client_errc>(value)) {
      case client_errc::bad_config:
        return "the configuration cannot be used";
      case client_errc::not_started:
        return "the client has not logged in yet";
      case client_errc::stopped:
        return "the client is stopped";
      case client_errc::wrong_thread:
        return "a blocking call needs the client's own io thread running, called from another";
    }
    return "unknown client error";
  }
};

}  // namespace

const boost::system::error_category& client_category() noexcept {
  static const category_impl instance;
  return instance;
}

std::string client_error::message() const {
  std::string text = code.message();
  if (status == 0 && messages.empty()) return text;
  text += " (";
  if (status != 0) text += std::to_string(status);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    text += (i == 0 && status == 0) ? "" : (i == 0 ? ": " : "; ");
    text += messages[i];
  }
  text += ")";
  return text;
}

void throw_exception_from_error(const client_error& error, const boost::source_location& location) {
  boost::throw_exception(boost::system::system_error{error.code, error.message()}, location);
}

}  // namespace sidecar
