// embedded_app: reads a KV secret and database creds through sidecar::client (the engine
// in-process, no sidecar daemon) and reports when the creds rotate. It prints key names and
// lease times, never a secret value.
//
//   VAULT_ADDR=http://127.0.0.1:8200 VAULT_ROLE_ID=... VAULT_SECRET_ID=... \
//     embedded_app [kv path] [creds path] [seconds to run]
//
// Exit status: 0 once the creds have rotated (or `seconds` passed without a rotation being
// due), 1 when a read or the login failed, 2 when `seconds` passed without the expected rotation.

#include <sidecar/client.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>

namespace {

std::string env_or(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string{value} : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string kv_path = argc > 1 ? argv[1] : "kv-demo/data/sample";
  const std::string creds_path = argc > 2 ? argv[2] : "database/creds/myapp-role";
  const auto run_for = std::chrono::seconds{argc > 3 ? std::stoi(argv[3]) : 30};

  sidecar::config::config cfg;
  cfg.vault.address = env_or("VAULT_ADDR", "http://127.0.0.1:8200");
  // The AppRole credentials come from VAULT_ROLE_ID / VAULT_SECRET_ID (or auth.*_file).
  sidecar::client vault{cfg};

  std::mutex mutex;
  std::condition_variable rotated_cv;
  int announced = 0;
  int rotations = 0;
  // Runs on the client's engine strand, never concurrently with another callback.
  vault.on_change(creds_path, [&](const std::string& path, const nlohmann::json& data) {
    const std::scoped_lock lock{mutex};
    // The first call announces the first creds; every later one a rotation.
    std::cout << (announced++ == 0 ? "creds issued for " : "creds rotated for ") << path << " ("
              << data.size() << " fields)" << std::endl;
    if (announced > 1) ++rotations;
    rotated_cv.notify_all();
  });

  if (auto started = vault.start(); !started) {
    std::cerr << "login failed: " << started.error().message() << std::endl;
    return 1;
  }
  std::cout << "logged in, token " << sidecar::auth::to_string(vault.token_status().status)
            << std::endl;

  auto secret = vault.kv(kv_path);
  if (!secret) {
    std::cerr << "cannot read " << kv_path << ": " << secret.error().message() << std::endl;
    return 1;
  }
  std::cout << "kv " << kv_path << ": keys";
  for (const auto& item : secret->items()) std::cout << ' ' << item.key();
  std::cout << std::endl;

  auto creds = vault.dynamic(creds_path);
  if (!creds) {
    std::cerr << "cannot read " << creds_path << ": " << creds.error().message() << std::endl;
    return 1;
  }
  std::cout << "creds " << creds_path << ": " << creds->seconds_left << " s left" << std::endl;

  std::unique_lock lock{mutex};
  const bool due = std::chrono::seconds{creds->seconds_left} < run_for;
  const bool rotated = rotated_cv.wait_for(lock, run_for, [&] { return rotations > 0; });
  lock.unlock();
  vault.stop();
  if (rotated) {
    std::cout << "rotation seen; stopping" << std::endl;
    return 0;
  }
  std::cout << "no rotation within " << run_for.count() << " s" << std::endl;
  return due ? 2 : 0;
}
