#include <sidecar/supervisor/render.hpp>

#include <sidecar/core/mustache_tags.hpp>

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

/// Why the tags of `text` cannot be read, as the operator should see it.
std::string tag_problem_text(const core::mustache_tag_problem& found) {
  using kind = core::mustache_tag_problem::kind;
  switch (found.what) {
    case kind::unclosed:
      return fmt::format("unclosed tag at offset {}", found.offset);
    case kind::empty:
      return fmt::format("empty tag {}", found.tag);
    case kind::unsupported:
      return fmt::format(
          "{} is not supported: only {{{{secret.key}}}} tags and "
          "{{{{! comments}}}} (no sections, partials or delimiters)",
          found.tag);
  }
  return "unreadable tag";
}

/// The names of the variable tags in `text` (core::mustache_variables, which config validation
/// reads [env] values with too).
rendered<std::vector<std::string>> variable_names(std::string_view text, std::string_view subject) {
  const auto names = core::mustache_variables(text);
  if (!names) return problem(subject, {}, {}, tag_problem_text(names.error()));
  return std::vector<std::string>(names->begin(), names->end());
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
