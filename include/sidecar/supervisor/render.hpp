#pragma once

#include <sidecar/core/secret_string.hpp>
#include <sidecar/supervisor/secret_set.hpp>

#include <boost/system/result.hpp>

#include <string>
#include <string_view>

// Rendering of [template.NAME] files and [env] values: Mustache (kainjow) over the secret set,
// with `{{secret.key}}` (also `{{{...}}}` and `{{& ...}}`) the only tags besides comments. Values
// are written raw: HTML escaping would corrupt passwords and connection strings.

namespace sidecar::supervisor {

/// Why a template or value cannot be rendered. Mustache renders a missing name as nothing, which
/// would silently write an empty password; every tag is therefore checked against the secret set
/// first, and the error names what the operator needs to fix.
struct render_error {
  std::string subject;  ///< what was rendered: "template app-config" or "env DB_PASSWORD"
  std::string secret;   ///< the [secrets] name, when the problem is about one
  std::string key;      ///< the key inside that secret, when the problem is about one
  std::string reason;   ///< the problem, never a secret value

  /// "template app-config: secret db has no key password" and the like.
  [[nodiscard]] std::string message() const;
};

template <class T>
using rendered = boost::system::result<T, render_error>;

/// Renders `text` with `secrets`: `{{db.password}}` is the value of key `password` in the map of
/// secret `db`; a nested object may be walked (`{{app.tls.cert}}`). Strings are written as they
/// are, numbers, booleans, null and arrays as their JSON text. Errors: an unknown secret, a
/// missing key, a name that ends on an object, a tag other than a variable or comment (sections,
/// partials and delimiter changes), an unclosed tag. `subject` only labels errors. Pure.
[[nodiscard]] rendered<core::secret_string> render_template(std::string_view text,
                                                            const secret_set& secrets,
                                                            std::string_view subject);

}  // namespace sidecar::supervisor
