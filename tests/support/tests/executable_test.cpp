// The standalone vault-dev-double as a process: seeded from the demo seed file, ports written
// to files, driven with the curl CLI, stopped with SIGTERM.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct curl_reply {
  long status = 0;
  json body;
};

// Runs curl, capturing the body and the status code (appended on a last line).
curl_reply curl(const std::string& arguments) {
  const auto command = "curl -sS -w '\\n%{http_code}' " + arguments;
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> chunk{};
  while (const auto n = std::fread(chunk.data(), 1, chunk.size(), pipe))
    output.append(chunk.data(), n);
  ::pclose(pipe);
  const auto newline = output.rfind('\n');
  REQUIRE(newline != std::string::npos);
  curl_reply reply{std::stol(output.substr(newline + 1)), nullptr};
  const auto body = output.substr(0, newline);
  if (!body.empty()) reply.body = json::parse(body);
  return reply;
}

// The double as a child process; killed with SIGTERM and reaped when the object goes away.
class double_process {
 public:
  explicit double_process(const std::filesystem::path& dir) : dir_{dir} {
    std::vector<std::string> args{SIDECAR_VAULT_DEV_DOUBLE,
                                  "--seed",
                                  SIDECAR_DEMO_SEED,
                                  "--port-file",
                                  (dir / "port").string(),
                                  "--control-port-file",
                                  (dir / "control-port").string(),
                                  "--log-level",
                                  "warn"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    REQUIRE(::posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
  }
  ~double_process() {
    if (pid_ > 0) (void)stop();
  }
  double_process(const double_process&) = delete;
  double_process& operator=(const double_process&) = delete;

  /// Waits for the port file the double writes once it is listening.
  [[nodiscard]] std::string read_port(const char* name) const {
    const auto file = dir_ / name;
    for (int i = 0; i < 500 && !std::filesystem::exists(file); ++i)
      std::this_thread::sleep_for(20ms);
    std::ifstream in{file};
    std::string port;
    in >> port;
    return port;
  }

  /// SIGTERM, then the exit status.
  int stop() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("vault-dev-double: the executable serves the demo seed and its control API",
          "[vault_double]") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("vault-dev-double-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    double_process process{dir};
    const auto port = process.read_port("port");
    const auto control = process.read_port("control-port");
    REQUIRE_FALSE(port.empty());
    REQUIRE_FALSE(control.empty());
    const auto base = "http://127.0.0.1:" + port;

    CHECK(curl(base + "/v1/sys/health").status == 200);
    const auto login = curl(
        "-X POST -d '{\"role_id\":\"6e3d9c1a-5f0b-4c7e-9a2d-demo00role01\","
        "\"secret_id\":\"b7f4e2c9-1d8a-4e6b-8c3f-demo0secret1\"}' " +
        base + "/v1/auth/approle/login");
    REQUIRE(login.status == 200);
    const auto token = login.body["auth"]["client_token"].get<std::string>();
    const auto secret =
        curl("-H 'X-Vault-Token: " + token + "' " + base + "/v1/kv-demo/data/sample");
    CHECK(secret.status == 200);
    CHECK(secret.body["data"]["data"]["username"] == "demo");
    const auto creds =
        curl("-H 'X-Vault-Token: " + token + "' " + base + "/v1/database/creds/myapp-role");
    CHECK(creds.body["lease_duration"] == 60);

    const auto control_base = "http://127.0.0.1:" + control;
    CHECK(curl("-X POST " + control_base + "/control/seal").status == 204);
    CHECK(curl(base + "/v1/sys/health").status == 503);
    const auto counters = curl(control_base + "/control/counters");
    CHECK(counters.body["requests"]["GET /v1/sys/health"] == 2);
    CHECK(process.stop() == 0);
  }
  std::filesystem::remove_all(dir);
}
