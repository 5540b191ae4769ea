// libFuzzer target: everything that reads Vault's answers. The envelope and error parsers
// (src/vault/envelope.cpp), as the token manager uses them for login and renew-self answers; the
// cache's stored_answer (src/cache/); the lease store's dynamic_secret (src/lease/); the
// supervisor's secret_map_of (src/supervisor/secret_set.cpp); and the timing decisions the
// parsed lease durations feed (src/auth/, src/lease/schedule.cpp).
//
// Input: one byte choosing the HTTP status, then the body.
//
// Invariants checked (a violation aborts, which libFuzzer reports as a crash):
//  - a 2xx answer with an auth object has a client token; a non-2xx never parses as an envelope;
//  - a dynamic secret renders back to a JSON object whose `data` is the data it parsed and whose
//    lease_duration is the one asked for;
//  - a cacheable stored answer keeps the body byte for byte and holds a data map;
//  - vault_error::summary() is one line.

#include "require.hpp"

#include <sidecar/auth/renewal_due.hpp>
#include <sidecar/auth/token_state.hpp>
#include <sidecar/auth/ttl_capped.hpp>
#include <sidecar/cache/stored_answer.hpp>
#include <sidecar/core/clock.hpp>
#include <sidecar/lease/dynamic_secret.hpp>
#include <sidecar/lease/schedule.hpp>
#include <sidecar/supervisor/secret_set.hpp>
#include <sidecar/vault/envelope.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace sidecar;

using fuzz::require;

// The statuses the code tells apart, then a few it does not; any other byte is taken as is.
constexpr std::array<unsigned, 12> statuses{200, 204, 400, 403, 404, 412,
                                            429, 500, 503, 501, 299, 302};

unsigned status_of(std::uint8_t byte) {
  return byte < statuses.size() ? statuses[byte] : 100U + byte * 2U;
}

// What the token manager does with a login or renew-self answer: the TTL it schedules on.
void check_token_timing(const vault::auth_info& auth, const vault::envelope& answer) {
  const core::manual_clock clock;
  const auth::token_state token{.issued = clock.now(),
                                .ttl = std::chrono::seconds{auth.lease_duration},
                                .renewable = auth.renewable && auth.token_type != "batch",
                                .max_ttl_reached = false};
  const auto due = auth::renewal_due(token, 0.8);
  require(due >= token.issued, "a renewal is never due before the token was issued");
  require(auth::expiry(token) >= token.issued, "a token never expires before it was issued");
  (void)auth::ttl_capped(auth::expiry(token) - clock.now(), token.ttl, answer.warnings);
}

void check_envelope(const vault::response& answer) {
  const auto error = vault::parse_error(answer);
  require(error.summary().find('\n') == std::string::npos, "an error summary is one line");
  (void)vault::classify(answer.status, error.messages);

  const auto parsed = vault::parse_envelope(answer);
  if (!parsed) return;
  require(answer.status >= 200 && answer.status <= 299, "only a 2xx parses as an envelope");
  require(parsed->lease_duration >= 0, "a lease duration is not negative");
  if (parsed->auth) {
    require(!parsed->auth->client_token.empty(), "an auth object has a client token");
    require(parsed->auth->lease_duration >= 0, "a token TTL is not negative");
    check_token_timing(*parsed->auth, *parsed);
  }
  // The lease store's renewal answer.
  (void)lease::renewal_capped(3600, parsed->lease_duration, parsed->warnings);
}

void check_dynamic_secret(const vault::response& answer) {
  const auto secret = lease::dynamic_secret::parse(answer);
  if (!secret) return;
  require(secret->lease_duration() >= 0, "a lease duration is not negative");
  const core::manual_clock clock;
  const auto granted = clock.now();
  const auto due =
      lease::rotation_due(granted, std::chrono::seconds{secret->lease_duration()}, 0.8);
  require(due >= granted, "a rotation is never due before the lease was granted");

  const auto rendered = secret->render(42);
  const auto served = nlohmann::json::parse(rendered.reveal(), nullptr, false);
  require(served.is_object(), "a served dynamic secret is a JSON object");
  require(served.contains("data") && served["data"] == secret->data(),
          "a served dynamic secret carries the data it parsed");
  require(!served.contains("lease_duration") || served["lease_duration"] == 42,
          "a served dynamic secret has the lease_duration asked for");
}

void check_stored_answer(const vault::response& answer) {
  const cache::stored_answer stored{answer, core::time_point{}};
  require(stored.body() == answer.body.reveal(), "a stored answer keeps the body as it came");
  if (stored.cacheable()) {
    require(stored.status() == 200, "only a 200 is cacheable");
    require(stored.kv_version() == 1 || stored.kv_version() == 2, "a KV version is 1 or 2");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  vault::response answer;
  answer.status = status_of(data[0]);
  answer.content_type = "application/json";
  answer.body =
      core::secret_string{std::string_view{reinterpret_cast<const char*>(data + 1), size - 1}};

  check_envelope(answer);
  check_dynamic_secret(answer);
  check_stored_answer(answer);
  if (auto map = supervisor::secret_map_of(answer.body.reveal())) supervisor::cleanse_json(*map);
  return 0;
}
