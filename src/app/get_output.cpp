#include <sidecar/app/get_output.hpp>

#include <sidecar/app/exit_code.hpp>
#include <sidecar/config/values.hpp>

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <nlohmann/json.hpp>

#include <map>

namespace sidecar::app {
namespace {

using json = nlohmann::json;

constexpr std::size_t max_error_text = 300;  ///< of Vault's `errors`, on stderr

std::string prefix(std::string_view shown_path) {
  return "vault-sidecar get: " + std::string{shown_path} + ": ";
}

get_outcome failure(int code, std::string message) { return {code, {}, message + '\n'}; }

/// `text` fit for a terminal: control characters become `?` (a hostile answer cannot move the
/// cursor or rewrite what was printed before), cut at `limit` bytes.
std::string printable(std::string_view text, std::size_t limit = max_error_text) {
  std::string out{text.substr(0, limit)};
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (text.size() > limit) out += "...";
  return out;
}

/// Vault's `{"errors":[...]}` as one line; empty when the body has none.
std::string vault_errors(std::string_view body) {
  const auto document = json::parse(body, nullptr, false);
  if (!document.is_object() || !document.contains("errors") || !document["errors"].is_array()) {
    return {};
  }
  std::string joined;
  for (const auto& error : document["errors"]) {
    if (!error.is_string()) continue;
    if (!joined.empty()) joined += "; ";
    joined += error.get<std::string>();
  }
  return printable(joined);
}

get_outcome refused_or_missing(std::string_view shown_path, unsigned status,
                               std::string_view body) {
  const auto errors = vault_errors(body);
  const auto because = errors.empty() ? std::string{} : ": " + errors;
  if (status == 404)
    return failure(exit_code::missing, prefix(shown_path) + "no such secret (404)" + because);
  if (status == 403)
    return failure(exit_code::refused, prefix(shown_path) + "refused (403)" + because);
  return failure(exit_code::failed,
                 prefix(shown_path) + "the sidecar answered " + std::to_string(status) + because);
}

bool is_v2_document(const json& document) {
  if (!document.is_object()) return false;
  const auto data = document.find("data");
  return data != document.end() && data->is_object() && data->contains("data") &&
         (*data)["data"].is_object() && data->contains("metadata") &&
         (*data)["metadata"].is_object();
}

/// The secret's data map in `document`, or nullptr when there is none of `shape`.
const json* data_map(const json& document, answer_shape shape) {
  if (!document.is_object() || !document.contains("data")) return nullptr;
  const json* data = &document["data"];
  if (shape == answer_shape::kv_v2 || (shape == answer_shape::either && is_v2_document(document))) {
    if (!data->is_object() || !data->contains("data")) return nullptr;
    data = &(*data)["data"];
  }
  return data->is_object() ? data : nullptr;
}

/// A field's value as a shell or a script wants it: a string as it is, anything else as JSON.
std::string value_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string field_names(const json& data) {
  std::string names;
  for (const auto& [name, value] : data.items()) {
    if (!names.empty()) names += ", ";
    names += printable(name, 64);
  }
  return names.empty() ? "none" : names;
}

get_outcome one_field(std::string_view shown_path, const json& data, const std::string& field) {
  const auto found = data.find(field);
  if (found == data.end()) {
    return failure(exit_code::missing, prefix(shown_path) + "no field \"" + printable(field, 64) +
                                           "\" (fields: " + field_names(data) + ")");
  }
  return {exit_code::ok, value_text(*found), {}};
}

get_outcome env_lines(std::string_view shown_path, const json& data) {
  std::map<std::string, std::string> field_of_name;
  std::string out;
  for (const auto& [field, value] : data.items()) {
    auto name = env_name(field);
    const auto [clash, fresh] = field_of_name.emplace(name, field);
    if (!fresh) {
      return failure(exit_code::failed, prefix(shown_path) + "fields \"" +
                                            printable(clash->second, 64) + "\" and \"" +
                                            printable(field, 64) + "\" both become " + name);
    }
    const auto text = value_text(value);
    if (text.find('\0') != std::string::npos) {
      return failure(exit_code::failed, prefix(shown_path) + "field \"" + printable(field, 64) +
                                            "\" holds a NUL byte, which no shell variable can");
    }
    out += name + '=' + shell_quote(text) + '\n';
  }
  return {exit_code::ok, std::move(out), {}};
}

}  // namespace

bool looks_like_kv_v2(std::string_view body) {
  return is_v2_document(json::parse(body, nullptr, false));
}

std::string env_name(std::string_view field) {
  std::string name;
  if (field.empty() || (field.front() >= '0' && field.front() <= '9')) name += '_';
  for (const char c : field) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (c >= 'a' && c <= 'z') {
      name += static_cast<char>(c - 'a' + 'A');
    } else {
      name += keep ? c : '_';
    }
  }
  return name;
}

std::string shell_quote(std::string_view value) {
  std::string quoted{"'"};
  for (const char c : value) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + '\'';
}

get_outcome render_answer(const get_options& options, std::string_view shown_path,
                          answer_shape shape, unsigned status, std::string_view body) {
  if (status != 200) return refused_or_missing(shown_path, status, body);
  if (options.field.empty() && options.format == get_format::raw) {
    return {exit_code::ok, std::string{body}, {}};
  }
  const auto document = json::parse(body, nullptr, false);
  const json* data = data_map(document, shape);
  if (data == nullptr) {
    return failure(exit_code::failed, prefix(shown_path) + "the answer holds no data map");
  }
  if (!options.field.empty()) return one_field(shown_path, *data, options.field);
  if (options.format == get_format::env) return env_lines(shown_path, *data);
  return {exit_code::ok, data->dump(2, ' ', false, json::error_handler_t::replace) + '\n', {}};
}

get_outcome transport_failure(std::string_view where, const error_code& error,
                              std::chrono::milliseconds timeout) {
  const auto head = "vault-sidecar get: " + std::string{where} + ": ";
  const bool not_http =
      error.category() == http::make_error_code(http::error::end_of_stream).category() &&
      error != http::error::end_of_stream && error != http::error::partial_message;
  if (not_http) return failure(exit_code::failed, head + "not an HTTP answer: " + error.message());
  if (error == beast::error::timeout) {
    return failure(exit_code::unavailable,
                   head + "no answer within " + config::format_duration(timeout));
  }
  return failure(exit_code::unavailable, head + error.message());
}

}  // namespace sidecar::app
