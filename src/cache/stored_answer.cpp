#include <sidecar/cache/stored_answer.hpp>
#include <sidecar/vault/envelope.hpp>

#include <boost/beast/http/fields.hpp>

namespace sidecar::cache {

// Secret values live in the parsed map's strings; overwrite them before the json frees them.
void cleanse_json(nlohmann::json& value) noexcept {
  if (value.is_string()) {
    core::cleanse(value.get_ref<std::string&>());
  } else if (value.is_structured()) {
    for (auto& item : value) cleanse_json(item);
  }
}

namespace {

bool is_kv2_shape(const nlohmann::json& data) {
  if (!data.is_object()) return false;
  const auto inner = data.find("data");
  const auto metadata = data.find("metadata");
  return inner != data.end() && metadata != data.end() && metadata->is_object();
}

// Through Beast's own field container, so names, trimmed values and the replacement of a
// repeated name come out exactly as the proxy's Beast path writes them.
std::string serialise_lines(const std::string& content_type,
                            const std::vector<std::pair<std::string, std::string>>& headers) {
  http::fields fields;
  if (!content_type.empty()) fields.set(http::field::content_type, content_type);
  for (const auto& [name, value] : headers) fields.set(name, value);
  std::string out;
  for (const auto& field : fields) {
    out.append(field.name_string());
    out += ": ";
    out.append(field.value());
    out += "\r\n";
  }
  return out;
}

}  // namespace

stored_answer::stored_answer(vault::response answer, core::time_point fetched_at)
    : status_{answer.status},
      content_type_{std::move(answer.content_type)},
      headers_{std::move(answer.headers)},
      header_lines_{serialise_lines(content_type_, headers_)},
      fetched_at_{fetched_at} {
  if (status_ == 200) {
    if (auto parsed = vault::parse_envelope(answer)) {
      auto& data = parsed->data;
      if (parsed->lease_id.empty() && !parsed->auth) {
        kv_version_ = is_kv2_shape(data) ? 2 : 1;
      }
      cleanse_json(data);  // only the verdict is kept; data() parses again on demand
    } else {
      well_formed_ = false;
    }
  }
  body_ = std::move(answer.body);
}

stored_answer::~stored_answer() = default;

nlohmann::json stored_answer::data() const {
  if (kv_version_ == 0) return nullptr;
  // The constructor parsed this body already, so it is a JSON object with a `data` member.
  auto envelope = nlohmann::json::parse(body(), nullptr, false);
  nlohmann::json out;
  if (const auto data = envelope.find("data"); data != envelope.end()) {
    out = std::move(kv_version_ == 2 ? (*data)["data"] : *data);
  }
  cleanse_json(envelope);  // the metadata and the moved-from husks
  return out;
}

}  // namespace sidecar::cache
