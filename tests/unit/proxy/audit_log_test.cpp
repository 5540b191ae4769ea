#include <sidecar/metrics/registry.hpp>
#include <sidecar/proxy/audit_log.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace sidecar;
using proxy::audit_record;

namespace {

audit_record hit() {
  return audit_record{.time = std::chrono::system_clock::time_point{} + std::chrono::hours{24} +
                              std::chrono::milliseconds{1234},
                      .listener = "unix",
                      .peer = {.uid = 65534, .gid = 65534, .pid = 77},
                      .client = "web",
                      .method = "GET",
                      .path = "/v1/kv-web/data/app",
                      .status = 200,
                      .cache = "HIT",
                      .upstream_ms = 0.0,
                      .reason = {}};
}

std::vector<std::string> lines_of(const std::filesystem::path& path) {
  std::ifstream in{path};
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("audit_line: one JSON line with every field, in order", "[proxy]") {
  CHECK(proxy::audit_line(hit()) ==
        R"({"time":"1970-01-02T00:00:01.234Z","listener":"unix","uid":65534,"gid":65534,)"
        R"("pid":77,"client":"web","method":"GET","path":"/v1/kv-web/data/app","status":200,)"
        R"("cache":"HIT","upstream_ms":0.0})"
        "\n");
}

TEST_CASE("audit_line: unknown ids are left out, empty fields are '-', refusals say why",
          "[proxy]") {
  auto refused = hit();
  refused.listener = "tcp";
  refused.peer = {.uid = 0, .gid = std::nullopt, .pid = std::nullopt};
  refused.client = {};
  refused.path = {};
  refused.status = 403;
  refused.cache = {};
  refused.upstream_ms = 12.345;
  refused.reason = "permission denied: \"x\"";
  const auto line = nlohmann::json::parse(proxy::audit_line(refused));
  CHECK(line["uid"] == 0);
  CHECK_FALSE(line.contains("gid"));
  CHECK_FALSE(line.contains("pid"));
  CHECK(line["client"] == "-");
  CHECK(line["path"] == "-");
  CHECK(line["cache"] == "-");
  CHECK(line["upstream_ms"] == 12.3);
  CHECK(line["reason"] == "permission denied: \"x\"");
  CHECK(line["listener"] == "tcp");
}

TEST_CASE("audit_log: off is no log; a file gets mode 0600, every line, and is reopened",
          "[proxy]") {
  metrics::registry registry;
  auto off = proxy::audit_log::open({.destination = "off"}, registry);
  REQUIRE(off);
  CHECK(*off == nullptr);

  const auto dir =
      std::filesystem::temp_directory_path() / ("sidecar-audit-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "audit.json";
  {
    auto opened = proxy::audit_log::open({.destination = path.string()}, registry);
    REQUIRE(opened);
    auto& log = **opened;
    log.write(hit());
    log.write(hit());
    // logrotate: move the file away, then SIGHUP; later lines go to a new file.
    for (int i = 0; i < 200 && lines_of(path).size() < 2; ++i) ::usleep(10000);
    std::filesystem::rename(path, dir / "audit.json.1");
    log.reopen();
    for (int i = 0; i < 200 && !std::filesystem::exists(path); ++i) ::usleep(10000);
    log.write(hit());
  }  // the destructor writes what is pending
  CHECK(lines_of(dir / "audit.json.1").size() == 2);
  const auto after = lines_of(path);
  REQUIRE(after.size() == 1);
  CHECK(nlohmann::json::parse(after[0])["client"] == "web");
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  std::filesystem::remove_all(dir);
}

TEST_CASE("audit_log: a file that cannot be opened is an error at open", "[proxy]") {
  metrics::registry registry;
  CHECK_FALSE(proxy::audit_log::open({.destination = "/nonexistent-dir/audit.json"}, registry));
}
