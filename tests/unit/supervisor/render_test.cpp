#include <sidecar/supervisor/render.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;
using supervisor::render_template;
using supervisor::secret_map_of;
using supervisor::secret_set;

namespace {

std::string render_ok(std::string_view text, const secret_set& secrets) {
  auto out = render_template(text, secrets, "template app-config");
  if (!out) FAIL(out.error().message());
  return std::string{out->reveal()};
}

supervisor::render_error render_fails(std::string_view text, const secret_set& secrets) {
  auto out = render_template(text, secrets, "template app-config");
  REQUIRE_FALSE(out.has_value());
  return out.error();
}

secret_set demo_secrets() {
  secret_set secrets;
  secrets.set("app", {{"password", "s3cr3t"}, {"api_key", "key-456"}});
  secrets.set("db", {{"username", "v-app-1"}, {"password", "pw-1"}});
  return secrets;
}

}  // namespace

TEST_CASE("render_template: values are written raw, without HTML escaping", "[supervisor]") {
  secret_set secrets;
  secrets.set("s", {{"v", R"(<&"'>/=`)"}});
  CHECK(render_ok("{{s.v}}", secrets) == R"(<&"'>/=`)");
  CHECK(render_ok("{{{s.v}}}", secrets) == R"(<&"'>/=`)");
  CHECK(render_ok("{{& s.v}}", secrets) == R"(<&"'>/=`)");
}

TEST_CASE("render_template: a config file keeps its text, lines and blanks", "[supervisor]") {
  const auto secrets = demo_secrets();
  const std::string text =
      "[database]\n"
      "user = {{ db.username }}\r\n"
      "password = {{db.password}}\n"
      "\n"
      "  api_key = {{app.api_key}}  ; {{! not rendered }}\n"
      "no newline at the end {{app.password}}";
  CHECK(render_ok(text, secrets) ==
        "[database]\n"
        "user = v-app-1\r\n"
        "password = pw-1\n"
        "\n"
        "  api_key = key-456  ; \n"
        "no newline at the end s3cr3t");
}

TEST_CASE("render_template: text without tags and an empty template render as they are",
          "[supervisor]") {
  const auto secrets = demo_secrets();
  CHECK(render_ok("plain { text } with braces", secrets) == "plain { text } with braces");
  CHECK(render_ok("", secrets).empty());
}

TEST_CASE("render_template: a value that looks like a tag is not rendered again", "[supervisor]") {
  secret_set secrets;
  secrets.set("a", {{"v", "{{b.x}}"}});
  secrets.set("b", {{"x", "leaked"}});
  CHECK(render_ok("{{a.v}}", secrets) == "{{b.x}}");
}

TEST_CASE("render_template: numbers, booleans, null and arrays render as their JSON text",
          "[supervisor]") {
  secret_set secrets;
  secrets.set("c", nlohmann::json::parse(
                       R"({"port": 5432, "ssl": true, "off": false, "ratio": 0.5, "none": null,
                           "hosts": ["a", "b"]})"));
  CHECK(render_ok("{{c.port}} {{c.ssl}} {{c.off}} {{c.ratio}} {{c.none}} {{c.hosts}}", secrets) ==
        R"(5432 true false 0.5 null ["a","b"])");
}

TEST_CASE("render_template: a nested object is walked by name, and naming the object fails",
          "[supervisor]") {
  secret_set secrets;
  secrets.set("app", nlohmann::json::parse(R"({"tls": {"cert": "PEM", "key": "KEY"}})"));
  CHECK(render_ok("{{app.tls.cert}}/{{app.tls.key}}", secrets) == "PEM/KEY");
  const auto error = render_fails("{{app.tls}}", secrets);
  CHECK(error.secret == "app");
  CHECK(error.key == "tls");
  CHECK_THAT(error.message(), Catch::Contains("object"));
}

TEST_CASE("render_template: a missing key names the template, the secret and the key",
          "[supervisor]") {
  const auto secrets = demo_secrets();
  const auto error = render_fails("user={{db.username}}\npass={{db.pasword}}\n", secrets);
  CHECK(error.subject == "template app-config");
  CHECK(error.secret == "db");
  CHECK(error.key == "pasword");
  CHECK(error.message() == "template app-config: secret db has no key pasword");
}

TEST_CASE("render_template: a missing secret is named, and the subject may be an env variable",
          "[supervisor]") {
  const auto secrets = demo_secrets();
  auto out = render_template("{{cache.password}}", secrets, "env CACHE_PASSWORD");
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().subject == "env CACHE_PASSWORD");
  CHECK(out.error().secret == "cache");
  CHECK(out.error().key.empty());
  CHECK_THAT(out.error().message(), Catch::StartsWith("env CACHE_PASSWORD: no secret cache"));
}

TEST_CASE("render_template: a key of a string value and a whole secret are errors",
          "[supervisor]") {
  const auto secrets = demo_secrets();
  const auto deeper = render_fails("{{db.password.more}}", secrets);
  CHECK(deeper.secret == "db");
  CHECK(deeper.key == "password.more");
  const auto whole = render_fails("{{db}}", secrets);
  CHECK(whole.secret == "db");
  CHECK_THAT(whole.message(), Catch::Contains("{{db.KEY}}"));
  CHECK(render_fails("{{db.}}", secrets).key.empty());
}

TEST_CASE("render_template: sections, partials and delimiter changes are refused", "[supervisor]") {
  const auto secrets = demo_secrets();
  for (const std::string_view text :
       {"{{#db}}{{password}}{{/db}}", "{{^db.password}}none{{/db.password}}", "{{> other}}",
        "{{=<% %>=}}<% db.password %>", "{{/db}}"}) {
    INFO(text);
    const auto error = render_fails(text, secrets);
    CHECK_THAT(error.message(), Catch::Contains("not supported"));
  }
}

TEST_CASE("render_template: unclosed and empty tags are errors", "[supervisor]") {
  const auto secrets = demo_secrets();
  CHECK_THAT(render_fails("a {{db.password", secrets).message(), Catch::Contains("unclosed"));
  CHECK_THAT(render_fails("a {{{db.password}}", secrets).message(), Catch::Contains("unclosed"));
  CHECK_THAT(render_fails("a {{ }} b", secrets).message(), Catch::Contains("empty tag"));
}

TEST_CASE("render_template: KV v2, KV v1 and dynamic creds answers resolve to their own maps",
          "[supervisor]") {
  const auto kv2 = secret_map_of(R"({"request_id":"r","lease_id":"","lease_duration":0,
      "data":{"data":{"password":"v2-pass"},"metadata":{"version":3,"created_time":"t"}}})");
  const auto kv1 = secret_map_of(R"({"lease_duration":2764800,
      "data":{"endpoint":"https://api.example.internal","ttl":"1h"}})");
  const auto creds = secret_map_of(R"({"lease_id":"database/creds/myapp-role/abc",
      "renewable":true,"lease_duration":60,"data":{"username":"v-role-x","password":"dyn"}})");
  REQUIRE(kv2);
  REQUIRE(kv1);
  REQUIRE(creds);
  secret_set secrets;
  secrets.set("app", *kv2);
  secrets.set("legacy", *kv1);
  secrets.set("db", *creds);
  CHECK(render_ok("{{app.password}} {{legacy.endpoint}} {{db.username}}:{{db.password}}",
                  secrets) == "v2-pass https://api.example.internal v-role-x:dyn");
  // KV v2's metadata is not part of the map a template sees.
  CHECK(render_fails("{{app.metadata}}", secrets).key == "metadata");
}
