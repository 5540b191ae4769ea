#include <sidecar/config/values.hpp>
#include <sidecar/supervisor/render.hpp>

#include <catch2/catch.hpp>

#include <string_view>

using namespace sidecar;

namespace {

// Config validation of an [env] value, and the rendering of it at start-up.
bool config_accepts(std::string_view text) { return config::template_references(text).has_value(); }

bool renderer_accepts(std::string_view text) {
  supervisor::secret_set secrets;
  secrets.set("db", {{"password", "pw-1"}});
  return supervisor::render_template(text, secrets, "env DB").has_value();
}

}  // namespace

TEST_CASE("templates: config validation accepts the tags the renderer renders", "[supervisor]") {
  for (const std::string_view text :
       {"{{db.password}}", "{{ db.password }}", "{{\tdb.password\n}}", "{{{db.password}}}",
        "{{{ db.password }}}", "{{& db.password}}", "{{! note }}{{db.password}}", "no tags",
        "a { b } c"}) {
    INFO(text);
    CHECK(config_accepts(text));
    CHECK(renderer_accepts(text));
  }
}

TEST_CASE("templates: config validation refuses the tags the renderer refuses", "[supervisor]") {
  for (const std::string_view text :
       {"{{db.password", "{{{db.password}}", "{{db.password}", "{{ }}", "{{}}", "{{{ }}}", "{{& }}",
        "{{#db}}{{password}}{{/db}}", "{{ #db }}{{/db}}", "{{^db}}x{{/db}}", "{{/db}}",
        "{{> other}}", "{{=<% %>=}}<% db.password %>"}) {
    INFO(text);
    CHECK_FALSE(config_accepts(text));
    CHECK_FALSE(renderer_accepts(text));
  }
}
