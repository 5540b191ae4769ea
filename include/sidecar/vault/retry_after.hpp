#pragma once

#include <sidecar/core/clock.hpp>

#include <chrono>
#include <optional>
#include <string_view>

namespace sidecar::vault {

/// The longest pause a Retry-After may impose: a wrong or hostile header must not silence the
/// sidecar for hours.
inline constexpr core::duration retry_after_cap = std::chrono::minutes{5};

/// The wait a `Retry-After` header asks for (RFC 9110 §10.2.3): delay-seconds ("6") or an
/// HTTP-date in IMF-fixdate form ("Sun, 06 Nov 1994 08:49:37 GMT", or "UTC" as older Vault
/// releases write it) taken against `now`; a
/// date in the past is zero. Capped at retry_after_cap. Anything else (empty, negative, signs,
/// fractions, other date forms, trailing garbage) is nullopt: ignored, as if there were no
/// header, so the ordinary jittered backoff applies.
[[nodiscard]] std::optional<core::duration> parse_retry_after(std::string_view value,
                                                              core::wall_time now) noexcept;

}  // namespace sidecar::vault
