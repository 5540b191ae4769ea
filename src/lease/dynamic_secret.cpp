#include <sidecar/lease/dynamic_secret.hpp>

#include <sidecar/core/json_depth.hpp>
#include <sidecar/vault/envelope.hpp>

namespace sidecar::lease {

bool is_dynamic_path(std::string_view path) noexcept {
  const auto first = path.find('/');
  if (first == std::string_view::npos) return false;
  const auto rest = path.substr(first + 1);
  return rest.starts_with("creds/") && rest.size() > 6 &&
         rest.find('/', 6) == std::string_view::npos;
}

result<dynamic_secret> dynamic_secret::parse(const vault::response& answer) {
  if (answer.status < 200 || answer.status > 299) {
    return vault::make_error_code(
        vault::classify(answer.status, vault::parse_error(answer).messages));
  }
  // Too deep for the recursive dump() below and the consumers' walks (core/json_depth.hpp).
  if (!core::json_depth_within(answer.body.reveal())) {
    return vault::make_error_code(vault::errc::malformed_response);
  }
  // ordered_json keeps Vault's field order, so the served body differs from Vault's only in the
  // value of lease_duration.
  auto body = nlohmann::ordered_json::parse(answer.body.reveal(), nullptr, false);
  if (!body.is_object()) return vault::make_error_code(vault::errc::malformed_response);
  const auto data = body.find("data");
  if (data == body.end() || !data->is_object()) {
    return vault::make_error_code(vault::errc::malformed_response);
  }

  dynamic_secret out;
  if (const auto it = body.find("lease_id"); it != body.end() && it->is_string()) {
    out.lease_id_ = it->get<std::string>();
  }
  if (const auto it = body.find("renewable"); it != body.end() && it->is_boolean()) {
    out.renewable_ = it->get<bool>();
  }
  if (const auto it = body.find("lease_duration"); it != body.end() && !it->is_null()) {
    // As parse_envelope: anything that is no lease duration (1e300, -1, "60") is refused.
    const auto seconds = vault::lease_duration_value(*it);
    if (!seconds) return vault::make_error_code(vault::errc::malformed_response);
    out.lease_duration_ = *seconds;
  }
  std::string serialised = data->dump();
  out.data_ = core::secret_string{std::move(serialised)};
  // The parsed values are dropped here; the serialised copy above is the one kept.
  *data = nullptr;
  std::string text = "{";
  bool first = true;
  for (const auto& [key, value] : body.items()) {
    if (!first) text += ',';
    first = false;
    text += nlohmann::ordered_json(key).dump();
    text += ':';
    if (key == "data" || key == "lease_duration") {
      out.pieces_.push_back({std::move(text), key == "data" ? slot::data : slot::lease_duration});
      text.clear();
    } else {
      text += value.dump();
    }
  }
  text += '}';
  out.pieces_.push_back({std::move(text), slot::none});
  return out;
}

core::secret_string dynamic_secret::render(long long seconds_left) const {
  const auto seconds = std::to_string(seconds_left);
  std::size_t size = data_.size() + seconds.size();
  for (const auto& piece : pieces_) size += piece.text.size();
  std::string text;
  // Reserved up front so appending never reallocates and leaves a copy of the payload behind.
  text.reserve(size);
  for (const auto& piece : pieces_) {
    text += piece.text;
    switch (piece.then) {
      case slot::data:
        text += data_.reveal();
        break;
      case slot::lease_duration:
        text += seconds;
        break;
      case slot::none:
        break;
    }
  }
  return core::secret_string{std::move(text)};
}

nlohmann::json dynamic_secret::data() const {
  return nlohmann::json::parse(data_.reveal(), nullptr, false);
}

}  // namespace sidecar::lease
