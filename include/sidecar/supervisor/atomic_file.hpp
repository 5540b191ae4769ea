#pragma once

#include <sidecar/core/result.hpp>

#include <string>
#include <string_view>

namespace sidecar::supervisor {

/// Makes the file at `path` hold exactly `content` with mode `perms`, so that a reader sees the
/// old file or the new one and never a part: a temporary file in the same directory, created
/// with O_CREAT|O_EXCL and chmod-ed to `perms` before a byte is written (the umask has no say),
/// is written, fsync'd and renamed over `path`, then the directory is fsync'd so the rename
/// survives a crash. When the file already holds `content` with mode `perms` nothing is written,
/// so file watchers do not fire for nothing; true when the file was (re)written. Bytes read back
/// for the comparison are cleansed. Errors: the failing call's errno (system category); a
/// temporary file left by a failure is removed.
[[nodiscard]] result<bool> write_file_if_changed(const std::string& path, std::string_view content,
                                                 unsigned perms);

}  // namespace sidecar::supervisor
