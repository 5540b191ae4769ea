#pragma once

#include <sidecar/core/clock.hpp>
#include <sidecar/core/secret_string.hpp>
#include <sidecar/vault/client.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sidecar::cache {

/// One answer from Vault, frozen as it came and ready to relay: status, content type, headers
/// and body bytes, and the header lines pre-serialised for the proxy's hit path, so that serving
/// it again costs no JSON work. The secret's key/value map is not kept: only templates and the
/// client library need it, so data() parses it from the body on demand instead of every entry
/// holding its secrets twice (measured: half of an entry's memory). Shared
/// (`shared_ptr<const stored_answer>`) between the cache and every caller relaying it; the body
/// is cleansed when the last holder lets go, whether it was replaced, evicted or cleared.
///
/// Thread affinity: immutable after construction; may be read from any thread.
class stored_answer {
 public:
  /// Takes Vault's answer as it came; parses the body only for a 200.
  stored_answer(vault::response answer, core::time_point fetched_at);
  ~stored_answer();
  stored_answer(const stored_answer&) = delete;
  stored_answer& operator=(const stored_answer&) = delete;
  stored_answer(stored_answer&&) = delete;
  stored_answer& operator=(stored_answer&&) = delete;

  [[nodiscard]] unsigned status() const noexcept { return status_; }
  [[nodiscard]] const std::string& content_type() const noexcept { return content_type_; }
  /// The secret bytes, for the wire only.
  [[nodiscard]] std::string_view body() const noexcept { return body_.reveal(); }
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& headers() const noexcept {
    return headers_;
  }
  /// Content-Type and the relayed headers as "Name: value\r\n" lines, serialised once the way
  /// Beast would write them (a repeated name keeps its last value): what a hit writes verbatim.
  [[nodiscard]] std::string_view header_lines() const noexcept { return header_lines_; }
  [[nodiscard]] core::time_point fetched_at() const noexcept { return fetched_at_; }

  /// The secret's own map for templates: `data.data` of a KV v2 read (recognised by `data.data`
  /// beside `data.metadata`), `data` otherwise. Null unless the answer is cacheable. Parsed from
  /// the body on each call; the rest of the envelope is cleansed, the returned map is the
  /// caller's to cleanse (cleanse_json) or to hand on.
  [[nodiscard]] nlohmann::json data() const;
  /// 2 for the KV v2 shape, 1 for any other cacheable answer, 0 when not cacheable.
  [[nodiscard]] int kv_version() const noexcept { return kv_version_; }
  /// A 200 whose body is Vault's JSON envelope without a lease or auth: a static secret that may
  /// be shared between callers. A leased or login answer belongs to one caller only.
  [[nodiscard]] bool cacheable() const noexcept { return kv_version_ != 0; }
  /// False for a 200 whose body is not Vault's JSON envelope (cut short, garbled): no answer.
  [[nodiscard]] bool well_formed() const noexcept { return well_formed_; }

 private:
  unsigned status_;
  std::string content_type_;
  core::secret_string body_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string header_lines_;
  core::time_point fetched_at_;
  bool well_formed_ = true;
  int kv_version_ = 0;
};

/// Overwrites every string value of `value` (recursively) in place, for a parsed secret map
/// about to be freed. Keys are field names, not secrets; numbers and booleans are left alone.
void cleanse_json(nlohmann::json& value) noexcept;

}  // namespace sidecar::cache
