#pragma once

#include <cstdio>
#include <cstdlib>

namespace sidecar::fuzz {

/// An invariant of the code under test: a violation aborts, which libFuzzer reports as a crash
/// and saves the input that caused it (build/fuzz/artifacts/).
inline void require(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

}  // namespace sidecar::fuzz
