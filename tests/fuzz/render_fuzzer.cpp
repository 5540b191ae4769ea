// libFuzzer target: the template renderer (src/supervisor/render.cpp), which turns an operator's
// [template.NAME] file or [env] value and the secrets read from Vault into the bytes written for
// the app, through kainjow's Mustache parser.
//
// Input: the template text, optionally followed by a NUL byte and a JSON object mapping secret
// names to their maps (`{"db":{"password":"x"}}`); without one, a fixed set with the secrets
// the seed templates name.
//
// Invariants checked (a violation aborts, which libFuzzer reports as a crash; an exception out
// of render_template would be one too):
//  - rendering is deterministic;
//  - a text without any tag renders as itself;
//  - a refusal has a reason and its message names the subject.

#include "require.hpp"

#include <sidecar/supervisor/render.hpp>
#include <sidecar/supervisor/secret_set.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace sidecar;

using fuzz::require;

constexpr std::string_view default_secrets = R"({
  "app": {"password": "s3cr3t&<x>", "api_key": "k-123", "tls": {"cert": "-----BEGIN-----"}},
  "db": {"username": "v-app-x1", "password": "p'\"{{a.b}}", "port": 5432, "ssl": true,
         "hosts": ["a", "b"], "none": null}
})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input{reinterpret_cast<const char*>(data), size};
  const auto split = input.find('\0');
  const auto text = input.substr(0, split);
  const auto model_text =
      split == std::string_view::npos ? default_secrets : input.substr(split + 1);

  supervisor::secret_set secrets;
  auto model = nlohmann::json::parse(model_text, nullptr, false);
  if (model.is_object()) {
    for (auto& [name, map] : model.items()) secrets.set(name, std::move(map));
  }

  const std::string_view subject = "template fuzz";
  const auto first = supervisor::render_template(text, secrets, subject);
  const auto second = supervisor::render_template(text, secrets, subject);
  require(first.has_value() == second.has_value(), "rendering is deterministic");
  if (first) {
    require(*first == *second, "rendering is deterministic");
    if (text.find("{{") == std::string_view::npos) {
      require(first->reveal() == text, "a text without tags renders as itself");
    }
  } else {
    require(!first.error().reason.empty(), "a refusal has a reason");
    require(first.error().message().starts_with(subject), "a refusal names its subject");
    require(first.error().message() == second.error().message(), "rendering is deterministic");
  }
  return 0;
}
