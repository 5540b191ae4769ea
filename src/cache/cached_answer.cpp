#include <sidecar/cache/cached_answer.hpp>

namespace sidecar::cache {

std::string_view to_string(cache_state state) noexcept {
  switch (state) {
    case cache_state::hit:
      return "HIT";
    case cache_state::miss:
      return "MISS";
    case cache_state::stale:
      return "STALE";
  }
  return "MISS";
}

}  // namespace sidecar::cache
