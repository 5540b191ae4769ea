#include <sidecar/supervisor/atomic_file.hpp>

#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <thread>

using namespace sidecar;
using supervisor::write_file_if_changed;
using testing::read_file;
using testing::temp_dir;

namespace {

struct stat stat_of(const std::string& path) {
  struct stat status {};
  REQUIRE(::stat(path.c_str(), &status) == 0);
  return status;
}

/// Sets the umask for one scope (it is process-wide; these tests are single-threaded there).
class scoped_umask final {
 public:
  explicit scoped_umask(mode_t mask) : previous_{::umask(mask)} {}
  ~scoped_umask() { ::umask(previous_); }
  scoped_umask(const scoped_umask&) = delete;
  scoped_umask& operator=(const scoped_umask&) = delete;

 private:
  mode_t previous_;
};

std::size_t entries_in(const std::filesystem::path& dir) {
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator{dir},
                                                std::filesystem::directory_iterator{}));
}

}  // namespace

TEST_CASE("write_file_if_changed: writes the content with exactly the mode asked for",
          "[supervisor]") {
  temp_dir dir;
  const auto path = dir.file("config.ini");
  {
    const scoped_umask permissive{0};
    auto written = write_file_if_changed(path, "password = x\n", 0600);
    REQUIRE(written.has_value());
    CHECK(*written);
  }
  CHECK(read_file(path) == "password = x\n");
  CHECK((stat_of(path).st_mode & 07777) == 0600);

  const auto other = dir.file("shared.ini");
  {
    const scoped_umask strict{077};  // what the daemon sets; perms still win
    REQUIRE(write_file_if_changed(other, "a", 0644).has_value());
  }
  CHECK((stat_of(other).st_mode & 07777) == 0644);
  CHECK(entries_in(dir.path()) == 2);  // no temporary file left behind
}

TEST_CASE("write_file_if_changed: the same content is not written again", "[supervisor]") {
  temp_dir dir;
  const auto path = dir.file("config.ini");
  REQUIRE(write_file_if_changed(path, "v1", 0600).value());
  const auto before = stat_of(path);
  std::this_thread::sleep_for(std::chrono::milliseconds{20});  // a rewrite would move mtime

  auto again = write_file_if_changed(path, "v1", 0600);
  REQUIRE(again.has_value());
  CHECK_FALSE(*again);
  const auto after = stat_of(path);
  CHECK(after.st_ino == before.st_ino);
  CHECK(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
  CHECK(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);

  SECTION("new content is written, as a new file") {
    CHECK(write_file_if_changed(path, "v2", 0600).value());
    CHECK(read_file(path) == "v2");
    CHECK(stat_of(path).st_ino != before.st_ino);
  }
  SECTION("a different mode rewrites the same content") {
    CHECK(write_file_if_changed(path, "v1", 0640).value());
    CHECK((stat_of(path).st_mode & 07777) == 0640);
  }
  SECTION("a file changed behind its back is put right") {
    testing::write_plain_file(path, "edited");
    REQUIRE(::chmod(path.c_str(), 0600) == 0);
    CHECK(write_file_if_changed(path, "v1", 0600).value());
    CHECK(read_file(path) == "v1");
  }
  SECTION("a longer file that starts with the content differs") {
    testing::write_plain_file(path, "v1 and more");
    REQUIRE(::chmod(path.c_str(), 0600) == 0);
    CHECK(write_file_if_changed(path, "v1", 0600).value());
    CHECK(read_file(path) == "v1");
  }
}

TEST_CASE("write_file_if_changed: a polling reader never sees a partial file", "[supervisor]") {
  temp_dir dir;
  const auto path = dir.file("big.ini");
  const std::string a(256 * 1024, 'a');
  const std::string b(192 * 1024, 'b');
  REQUIRE(write_file_if_changed(path, a, 0600).value());

  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<int> torn{0};
  std::thread reader{[&] {
    while (!done) {
      const auto seen = read_file(path);
      if (seen != a && seen != b) ++torn;
      ++reads;
    }
  }};
  for (int i = 0; i < 60; ++i) {
    REQUIRE(write_file_if_changed(path, i % 2 == 0 ? b : a, 0600).value());
  }
  done = true;
  reader.join();
  INFO("reads: " << reads.load());
  CHECK(reads > 0);
  CHECK(torn == 0);
  CHECK(entries_in(dir.path()) == 1);
}

TEST_CASE("write_file_if_changed: a missing directory is an error and leaves nothing",
          "[supervisor]") {
  temp_dir dir;
  auto written = write_file_if_changed(dir.file("missing/config.ini"), "x", 0600);
  REQUIRE_FALSE(written.has_value());
  CHECK(written.error() == boost::system::errc::no_such_file_or_directory);
  CHECK(entries_in(dir.path()) == 0);
}

TEST_CASE("write_file_if_changed: a directory in the way is an error and leaves no temporary",
          "[supervisor]") {
  temp_dir dir;
  std::filesystem::create_directory(dir.path() / "config.ini");
  auto written = write_file_if_changed(dir.file("config.ini"), "x", 0600);
  REQUIRE_FALSE(written.has_value());
  CHECK(entries_in(dir.path()) == 1);
}
