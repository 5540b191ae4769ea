#pragma once

#include <sidecar/config/config.hpp>

#include <string>
#include <vector>

namespace sidecar::app {

/// What a configuration re-read on SIGHUP changes in a running sidecar: which live-appliable
/// groups to apply, and every changed key that only a restart can apply. Keys are named as the
/// user writes them (`section.key`; `secrets.NAME`, `env.NAME`, `template.NAME.key`), never with
/// their values, so the lists can be logged whatever they hold.
struct reload_plan {
  bool log = false;    ///< log.level or log.format changed
  bool cache = false;  ///< cache.ttl, refresh_interval, max_stale or max_entries changed
  /// proxy.allow, proxy.forward_writes or listener.require_request_header changed: the
  /// per-request policy of the listener.
  bool request_policy = false;
  std::vector<std::string> applied;        ///< the changed live keys
  std::vector<std::string> needs_restart;  ///< every other changed key

  [[nodiscard]] bool changes_nothing() const noexcept {
    return applied.empty() && needs_restart.empty();
  }
};

/// Compares the running configuration with the re-read one. Pure and total. Secrets, [env]
/// variables and templates are compared by name, so reordering lines changes nothing; the
/// `file` member is not a setting and is ignored. Keys are listed in the order of the
/// configuration contract (DESIGN.md), names within a section sorted.
[[nodiscard]] reload_plan plan_reload(const config::config& running, const config::config& reread);

}  // namespace sidecar::app
