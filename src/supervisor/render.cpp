#include <sidecar/supervisor/render.hpp>

#include <sidecar/core/text.hpp>

#include <kainjow/mustache.hpp>

#include <fmt/format.h>

#include <map>
#include <vector>

namespace sidecar::supervisor {
namespace {

using mustache_data = kainjow::mustache::data;
constexpr auto npos = std::string_view::npos;

render_error problem(std::string_view subject, std::string secret, std::string key,
                     std::string reason) {
  return {std::string{subject}, std::move(secret), std::move(key), std::move(reason)};
}

/// The names of the variable tags in `text`, read as kainjow's parser reads them with the
/// default delimiters (which stay the default: `{{=...=}}` is refused). Comments are skipped.
rendered<std::vector<std::string>> variable_names(std::string_view text, std::string_view subject) {
  std::vector<std::string> names;
  for (auto at = text.find("{{"); at != npos; at = text.find("{{", at)) {
    const bool triple = at + 2 < text.size() && text[at + 2] == '{';
    const std::string_view end = triple ? "}}}" : "}}";
    const auto start = at + (triple ? 3 : 2);
    const auto close = text.find(end, start);
    if (close == npos) {
      return problem(subject, {}, {}, fmt::format("unclosed tag at offset {}", at));
    }
    auto name = core::trim_whitespace(text.substr(start, close - start));
    const auto tag = text.substr(at, close + end.size() - at);
    at = close + end.size();
    if (!triple && !name.empty()) {
      if (name.front() == '!') continue;
      if (name.front() == '&') {
        name = core::trim_whitespace(name.substr(1));
      } else if (std::string_view{"#^/>="}.find(name.front()) != npos) {
        return problem(subject, {}, {},
                       fmt::format("{} is not supported: only {{{{secret.key}}}} tags and "
                                   "{{{{! comments}}}} (no sections, partials or delimiters)",
                                   tag));
      }
    }
    if (name.empty()) return problem(subject, {}, {}, fmt::format("empty tag {}", tag));
    names.emplace_back(name);
  }
  return names;
}

std::vector<std::string> split_name(std::string_view name) {
  std::vector<std::string> parts;
  for (;;) {
    const auto dot = name.find('.');
    parts.emplace_back(name.substr(0, dot));
    if (dot == npos) return parts;
    name.remove_prefix(dot + 1);
  }
}

/// The value a checked name ends on, or why there is none.
rendered<const nlohmann::json*> resolve(const std::vector<std::string>& parts,
                                        const secret_set& secrets, std::string_view subject) {
  const auto& secret = parts.front();
  const auto* node = secrets.find(secret);
  if (node == nullptr) {
    return problem(subject, secret, {},
                   fmt::format("no secret {} (not in [secrets], or not read from Vault)", secret));
  }
  if (parts.size() == 1) {
    return problem(subject, secret, {},
                   fmt::format("{{{{{0}}}}} names a whole secret; name one of its keys, as in "
                               "{{{{{0}.KEY}}}}",
                               secret));
  }
  std::string key;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    key += (i == 1 ? "" : ".") + parts[i];
    const auto next = node->is_object() ? node->find(parts[i]) : node->end();
    if (!node->is_object() || next == node->end()) {
      return problem(subject, secret, key, fmt::format("secret {} has no key {}", secret, key));
    }
    node = &*next;
  }
  if (node->is_object()) {
    return problem(
        subject, secret, key,
        fmt::format("{}.{} is an object in secret {}; name one of its keys", secret, key, secret));
  }
  return node;
}

/// Strings as they are; anything else as its JSON text (42, true, null, [1,2]).
std::string value_text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

/// The mustache model of the referenced values only, so no other secret is copied. Its strings
/// are cleansed by cleanse_model once rendering is done.
class model final {
 public:
  void add(const std::vector<std::string>& parts, std::string text) {
    mustache_data* node = &root_;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) node = &(*node)[parts[i]];
    (*node)[parts.back()] = mustache_data{text};
    core::cleanse(text);
    leaves_.push_back(&parts);
  }

  [[nodiscard]] const mustache_data& root() const noexcept { return root_; }

  model() = default;
  model(const model&) = delete;
  model& operator=(const model&) = delete;
  ~model() {
    for (const auto* parts : leaves_) {
      const mustache_data* node = &root_;
      for (const auto& part : *parts) node = node->get(part);
      // kainjow offers no mutable access to a string it holds; the string itself is a
      // non-const heap object owned by the model, so writing through const_cast is sound.
      core::cleanse(const_cast<std::string&>(node->string_value()));
    }
  }

 private:
  mustache_data root_;
  std::vector<const std::vector<std::string>*> leaves_;  ///< into the caller's name parts
};

}  // namespace

std::string render_error::message() const { return subject + ": " + reason; }

rendered<core::secret_string> render_template(std::string_view text, const secret_set& secrets,
                                              std::string_view subject) {
  auto names = variable_names(text, subject);
  if (!names) return names.error();
  std::map<std::vector<std::string>, std::size_t> referenced;  ///< name parts -> value length
  for (const auto& name : *names) referenced.emplace(split_name(name), 0);

  model values;
  for (auto& [parts, length] : referenced) {
    auto value = resolve(parts, secrets, subject);
    if (!value) return value.error();
    auto text_of_value = value_text(**value);
    length = text_of_value.size();
    values.add(parts, std::move(text_of_value));
  }
  auto expected = text.size();
  for (const auto& name : *names) expected += referenced.at(split_name(name));

  kainjow::mustache::mustache engine{std::string{text}};
  if (!engine.is_valid()) return problem(subject, {}, {}, engine.error_message());
  engine.set_custom_escape([](const std::string& raw) { return raw; });
  std::string out;
  out.reserve(expected);  // so no reallocation leaves a copy behind
  engine.render(values.root(), [&out](const std::string& piece) { out += piece; });
  if (!engine.is_valid()) {
    core::cleanse(out);
    return problem(subject, {}, {}, engine.error_message());
  }
  return core::secret_string{std::move(out)};
}

}  // namespace sidecar::supervisor
