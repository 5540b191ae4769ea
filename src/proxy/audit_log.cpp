#include <sidecar/proxy/audit_log.hpp>

#include <sidecar/core/log.hpp>

#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

namespace sidecar::proxy {
namespace {

std::string utc_time(std::chrono::system_clock::time_point time) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  const std::time_t whole = seconds.count();
  std::tm parts{};
  ::gmtime_r(&whole, &parts);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", parts.tm_year + 1900,
                     parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                     millis);
}

std::string_view or_dash(std::string_view text) { return text.empty() ? "-" : text; }

int open_file(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

}  // namespace

std::string audit_line(const audit_record& record) {
  nlohmann::ordered_json line{{"time", utc_time(record.time)},
                              {"listener", std::string{record.listener}}};
  if (record.peer.uid) line["uid"] = *record.peer.uid;
  if (record.peer.gid) line["gid"] = *record.peer.gid;
  if (record.peer.pid) line["pid"] = *record.peer.pid;
  line["client"] = std::string{or_dash(record.client)};
  line["method"] = std::string{record.method};
  line["path"] = std::string{or_dash(record.path)};
  line["status"] = record.status;
  line["cache"] = std::string{or_dash(record.cache)};
  line["upstream_ms"] = static_cast<double>(static_cast<long long>(record.upstream_ms * 10)) / 10;
  if (!record.reason.empty()) line["reason"] = std::string{record.reason};
  auto text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  return text;
}

result<std::unique_ptr<audit_log>> audit_log::open(const config::audit_config& config,
                                                   metrics::registry& registry) {
  if (config.destination == "off") return std::unique_ptr<audit_log>{};
  if (config.destination == "stderr") {
    return std::unique_ptr<audit_log>{new audit_log{{}, STDERR_FILENO, registry}};
  }
  const int fd = open_file(config.destination);
  if (fd < 0) return error_code{errno, boost::system::system_category()};
  return std::unique_ptr<audit_log>{new audit_log{config.destination, fd, registry}};
}

audit_log::audit_log(std::string path, int fd, metrics::registry& registry)
    : path_{std::move(path)},
      fd_{fd},
      dropped_{registry.make_counter("audit_lines_dropped_total",
                                     "Audit lines lost: the destination did not keep up.")},
      writer_{[this] { run(); }} {}

audit_log::~audit_log() {
  {
    const std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
  if (!path_.empty() && fd_ >= 0) ::close(fd_);
}

void audit_log::write(const audit_record& record) {
  auto line = audit_line(record);
  {
    const std::lock_guard lock{mutex_};
    if (pending_.size() >= max_pending) {
      count_dropped(1);
      return;
    }
    pending_.push_back(std::move(line));
  }
  wake_.notify_one();
}

void audit_log::reopen() noexcept {
  reopen_ = true;
  wake_.notify_one();
}

void audit_log::count_dropped(std::uint64_t lines) {
  dropped_.inc(lines);
  dropped_since_warning_ += lines;
}

void audit_log::run() {
  const auto log = core::logger("audit");
  std::vector<std::string> batch;
  for (;;) {
    {
      std::unique_lock lock{mutex_};
      wake_.wait(lock, [&] { return stopping_ || !pending_.empty() || reopen_.load(); });
      batch.swap(pending_);
      if (batch.empty() && stopping_) return;
    }
    if (reopen_.exchange(false) && !path_.empty()) {
      const int fresh = open_file(path_);
      if (fresh >= 0) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fresh;
      } else {
        log->error("cannot reopen the audit file {}: {}", path_, std::strerror(errno));
      }
    }
    std::uint64_t lost = 0;
    for (const auto& line : batch) {
      if (fd_ < 0 || !write_all(fd_, line)) ++lost;
    }
    batch.clear();
    if (lost != 0) count_dropped(lost);
    if (const auto dropped = dropped_since_warning_.exchange(0); dropped != 0) {
      log->warn("{} audit line(s) dropped: {} does not keep up or cannot be written", dropped,
                path_.empty() ? "stderr" : path_);
    }
  }
}

}  // namespace sidecar::proxy
