#include <sidecar/config/parser.hpp>
#include <sidecar/supervisor/render.hpp>

#include "temp_dir.hpp"

#include <map>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

using namespace sidecar;

// config/exec-example.ini and its template, rendered with the secrets of the dev double's demo
// seed (tests/support/demo-seed.json), as the README's demo would render them.
TEST_CASE("exec-example.ini: the example renders its env and file from the demo secrets",
          "[supervisor]") {
  const std::string root = SIDECAR_SOURCE_DIR;
  const auto loaded = config::load(root + "/config/exec-example.ini",
                                   [](std::string_view) { return std::optional<std::string>{}; });
  REQUIRE(loaded.has_value());
  const auto& cfg = *loaded;
  REQUIRE_FALSE(cfg.exec.command.empty());

  const auto seed =
      nlohmann::json::parse(testing::read_file(root + "/tests/support/demo-seed.json"));
  supervisor::secret_set secrets;
  secrets.set("app", seed["kv_mounts"]["kv-demo"]["secrets"]["sample"]);
  secrets.set("db", {{"username", "v-demo-myapp-role-x"}, {"password", "A1a-dynamic"}});

  std::map<std::string, std::string> env;
  for (const auto& [name, text] : cfg.env) {
    auto value = supervisor::render_template(text, secrets, "env " + name);
    REQUIRE(value.has_value());
    env[name] = std::string{value->reveal()};
  }
  CHECK(env ==
        std::map<std::string, std::string>{{"API_KEY", "key-456"}, {"DB_PASSWORD", "s3cr3t-demo"}});

  REQUIRE(cfg.templates.size() == 1);
  const auto source = testing::read_file(root + "/" + cfg.templates[0].source);
  REQUIRE_FALSE(source.empty());
  auto file = supervisor::render_template(source, secrets, "template app-config");
  REQUIRE(file.has_value());
  const std::string text{file->reveal()};
  CHECK_THAT(text, Catch::Contains("[database]\npassword = s3cr3t-demo\napi_key = key-456\n"));
  CHECK_THAT(text, Catch::Contains("username = v-demo-myapp-role-x\npassword = A1a-dynamic\n"));
  CHECK_THAT(text, !Catch::Contains("{{"));
  CHECK_THAT(text, !Catch::Contains("}}"));
}
