#include <sidecar/testing/wrapping_store.hpp>

#include <chrono>

namespace sidecar::testing {
namespace {

// consts.ErrInvalidWrappingToken: the same words for a token spent, expired or never issued,
// so a caller cannot tell which (and an attacker learns nothing).
vault_reply invalid_wrapping_token() {
  return error_reply(400, {"wrapping token is not valid or does not exist"});
}

}  // namespace

nlohmann::json wrapping_store::wrap(nlohmann::json answer, std::string creation_path,
                                    long long ttl) {
  sweep_expired();
  const auto now = clock_.now();
  const auto token = "hvs." + random_base62(24);
  const auto accessor = random_base62(24);
  auto creation_time = rfc3339(to_wall(clock_, now));
  auto body = envelope("");
  body["wrap_info"] = {{"token", token},
                       {"accessor", accessor},
                       {"ttl", ttl},
                       {"creation_time", creation_time},
                       {"creation_path", creation_path}};
  tokens_.insert_or_assign(token, wrapped{.answer = std::move(answer),
                                          .creation_path = std::move(creation_path),
                                          .creation_time = std::move(creation_time),
                                          .created = now,
                                          .expires = now + std::chrono::seconds{ttl},
                                          .ttl = ttl});
  return body;
}

bool wrapping_store::holds(const std::string& token) {
  sweep_expired();
  return tokens_.contains(token);
}

vault_reply wrapping_store::lookup(const std::string& token) {
  sweep_expired();
  const auto it = tokens_.find(token);
  if (it == tokens_.end()) return invalid_wrapping_token();
  auto body = envelope("system");
  body["data"] = {{"creation_path", it->second.creation_path},
                  {"creation_time", it->second.creation_time},
                  {"creation_ttl", it->second.ttl}};
  return {200, std::move(body)};
}

vault_reply wrapping_store::unwrap(const std::string& token) {
  sweep_expired();
  const auto it = tokens_.find(token);
  if (it == tokens_.end()) return invalid_wrapping_token();
  auto answer = std::move(it->second.answer);
  tokens_.erase(it);  // single use
  return {200, std::move(answer)};
}

void wrapping_store::sweep_expired() {
  const auto now = clock_.now();
  std::erase_if(tokens_, [now](const auto& entry) { return now >= entry.second.expires; });
}

std::variant<long long, vault_reply> parse_wrap_ttl(const std::string& header) {
  const bool negative = header.starts_with('-');
  const auto seconds = parse_duration(negative ? header.substr(1) : header);
  if (!seconds) return error_reply(400, {"time: invalid duration \"" + header + "\""});
  if (negative && *seconds > 0) return error_reply(400, {"requested wrap ttl cannot be negative"});
  return *seconds;
}

}  // namespace sidecar::testing
