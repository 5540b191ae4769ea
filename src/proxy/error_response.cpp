#include <sidecar/proxy/error_response.hpp>

#include <nlohmann/json.hpp>

namespace sidecar::proxy {

string_response error_response(unsigned status, std::string_view message) {
  string_response response{static_cast<http::status>(status), 11};
  response.set(http::field::content_type, "application/json");
  response.set(http::field::cache_control, "no-store");
  const nlohmann::json body{{"errors", nlohmann::json::array({std::string{message}})}};
  response.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

}  // namespace sidecar::proxy
