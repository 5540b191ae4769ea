#include <sidecar/proxy/forwarding_handler.hpp>

#include <sidecar/auth/errc.hpp>
#include <sidecar/core/log.hpp>
#include <sidecar/core/text.hpp>
#include <sidecar/lease/errc.hpp>
#include <sidecar/proxy/cache_clear.hpp>
#include <sidecar/proxy/error_response.hpp>
#include <sidecar/proxy/health.hpp>
#include <sidecar/proxy/lease_housekeeping.hpp>
#include <sidecar/proxy/token_self.hpp>
#include <sidecar/vault/errc.hpp>

#include <boost/beast/http/field.hpp>

#include <array>
#include <charconv>
#include <memory>

namespace sidecar::proxy {
namespace {

constexpr std::string_view json_type = "application/json";
// relay()'s Content-Type for a JSON answer, as Beast serialises it.
constexpr std::string_view json_content_type_line = "Content-Type: application/json\r\n";

// Client headers worth passing on to Vault. Everything else stays local: hop-by-hop headers,
// Host, lengths, and above all the client's X-Vault-Token and Authorization, which are never
// forwarded (the sidecar's own token is injected instead).
constexpr std::array<std::string_view, 5> forwarded_headers{
    "X-Vault-Wrap-TTL", "X-Vault-Wrap-Format", "X-Vault-Index", "X-Vault-Inconsistent",
    "X-Vault-Forward"};

// Listings and wrapped reads are per request by nature: forwarded, never cached.
bool served_from_cache(const string_request& request, const route_decision& decision) {
  return !decision.list && request.find("X-Vault-Wrap-TTL") == request.end();
}

// The one place where a failure to get an answer becomes an HTTP answer (DESIGN.md: unreachable
// 502, deadline 504, both in Vault's {"errors":[...]} shape).
string_response failure_response(const error_code& ec) {
  if (ec == vault::errc::timeout) {
    return error_response(504, "Vault did not answer within vault.request_timeout");
  }
  if (ec == auth::errc::no_token) {
    return error_response(503,
                          "vault-sidecar holds no valid Vault token and has nothing cached "
                          "for this path");
  }
  if (ec == lease::errc::stopped) return error_response(503, "vault-sidecar is shutting down");
  if (ec.category() == vault::error_category()) {
    return error_response(502, "upstream Vault: " + ec.message());
  }
  return error_response(502, "upstream failure: " + ec.message());
}

string_response relay(unsigned status, std::string_view content_type, std::string_view body) {
  string_response answer{static_cast<http::status>(status), 11};
  if (!content_type.empty()) answer.set(http::field::content_type, content_type);
  answer.body().assign(body.data(), body.size());
  return answer;
}

string_response json_answer(unsigned status, std::string body) {
  string_response answer{static_cast<http::status>(status), 11};
  answer.set(http::field::content_type, json_type);
  answer.set(http::field::cache_control, "no-store");
  answer.body() = std::move(body);
  return answer;
}

// Cached reads: KV entries and the KV mount preflight, whose answer changes as rarely.
bool cached_kind(route_class kind) noexcept {
  return kind == route_class::kv_read || kind == route_class::mount_preflight;
}

// auth/token/*-self about the caller's own token (X-Vault-Token, or none): never forwarded.
string_response token_self(const string_request& request, const route_decision& decision,
                           core::wall_time issued) {
  const auto call = token_self_call_of(decision.target.path);
  if (!call) return error_response(500, "internal error: not a token self-call");
  const auto it = request.find("X-Vault-Token");
  const std::string_view caller =
      it == request.end() ? std::string_view{} : std::string_view{it->value()};
  auto got = answer_token_self(*call, caller, new_request_id(), issued);
  if (got.status == 204) return relay(204, {}, {});
  return json_answer(got.status, std::move(got.body));
}

// The Vault path of a routed request without the /v1/ prefix ("kv-demo/data/x").
std::string_view vault_path(const route_decision& decision) {
  return core::without_api_prefix(decision.target.path);
}

}  // namespace

forwarding_handler::forwarding_handler(net::any_io_executor engine, bool hop_to_engine,
                                       engine_parts parts, std::function<void()> request_quit)
    : engine_{std::move(engine)},
      hop_to_engine_{hop_to_engine},
      parts_{parts},
      request_quit_{std::move(request_quit)},
      engine_metrics_{parts.registry},
      issued_{parts.clock.wall_now()} {}

net::awaitable<handler_answer> forwarding_handler::async_handle(const string_request& request,
                                                                const route_decision& decision) {
  if (!hop_to_engine_) co_return co_await handle_on_engine(request, decision);
  // More than one io thread: the engine's state is single-threaded, so run there and resume on
  // the session's strand with the answer.
  co_return co_await net::co_spawn(engine_, handle_on_engine(request, decision),
                                   net::use_awaitable);
}

std::optional<handler_answer> forwarding_handler::try_answer_at_once(
    const string_request& request, const route_decision& decision) {
  // Touches no engine state: answered here on any thread.
  if (decision.kind == route_class::token_self) return token_self(request, decision, issued_);
  if (hop_to_engine_) return std::nullopt;  // the cache and leases belong to another strand
  if (cached_kind(decision.kind) && served_from_cache(request, decision)) {
    if (auto fresh = parts_.cache.find_fresh(decision.upstream_target)) {
      return kv_answer(std::move(*fresh));
    }
  }
  if (decision.kind == route_class::dynamic_read) {
    if (auto held = parts_.leases.find_held(vault_path(decision))) {
      if (held->status == 200) parts_.leases.mark_served(vault_path(decision));
      return creds_answer(std::move(*held));
    }
  }
  return std::nullopt;
}

net::awaitable<handler_answer> forwarding_handler::handle_on_engine(
    const string_request& request, const route_decision& decision) {
  switch (decision.kind) {
    case route_class::kv_read:
    case route_class::mount_preflight:
      co_return co_await read_kv(request, decision);
    case route_class::kv_write:
      co_return co_await forward(request, decision, true);
    case route_class::dynamic_read:
      co_return co_await read_dynamic(decision);
    case route_class::sys_health:
      co_return co_await forward(request, decision, false);
    case route_class::local_health:
      co_return health();
    case route_class::local_metrics:
      co_return metrics();
    case route_class::local_cache_clear:
      co_return clear_cache(request);
    case route_class::local_quit:
      co_return quit();
    case route_class::lease_housekeeping:
      co_return answer_lease(request, decision);
    case route_class::token_self:
      co_return token_self(request, decision, issued_);
    case route_class::deny:
      break;
  }
  // The listener answers denials itself; reaching here is a broken invariant.
  co_return error_response(500, "internal error: a denied request reached the handler");
}

net::awaitable<handler_answer> forwarding_handler::read_kv(const string_request& request,
                                                           const route_decision& decision) {
  if (!served_from_cache(request, decision)) co_return co_await forward(request, decision, true);

  auto got = co_await parts_.cache.async_get(decision.upstream_target);
  if (!got) co_return failure_response(got.error());
  co_return kv_answer(std::move(*got));
}

handler_answer forwarding_handler::kv_answer(cache::cached_answer cached) {
  if (cached.state != cache::cache_state::stale && cached.status() == 200) {
    // The hot path: the stored bytes as they are, with X-Cache and Age after Vault's headers.
    const auto lines = cached.answer->header_lines();
    const auto body = cached.body();
    ready_answer answer{200, std::move(cached.answer), lines, body};
    answer.add_field("X-Cache", cache::to_string(cached.state));
    std::array<char, 24> age{};
    const auto end = std::to_chars(age.data(), age.data() + age.size(), cached.age_seconds).ptr;
    answer.add_field("Age",
                     std::string_view{age.data(), static_cast<std::size_t>(end - age.data())});
    return answer;
  }
  auto answer = relay(cached.status(), cached.content_type(), cached.body());
  for (const auto& [name, value] : cached.answer->headers()) answer.set(name, value);
  answer.set("X-Cache", cache::to_string(cached.state));
  answer.set(http::field::age, std::to_string(cached.age_seconds));
  if (cached.state == cache::cache_state::stale) {
    answer.set(http::field::warning, R"(110 - "Response is Stale")");
  }
  return answer;
}

net::awaitable<handler_answer> forwarding_handler::read_dynamic(const route_decision& decision) {
  auto got = co_await parts_.leases.async_get(vault_path(decision));
  if (!got) co_return failure_response(got.error());
  // Resumed at once, on the io thread: still the lease that was rendered.
  if (got->status == 200) parts_.leases.mark_served(vault_path(decision));
  co_return creds_answer(std::move(*got));
}

string_response forwarding_handler::answer_lease(const string_request& request,
                                                 const route_decision& decision) {
  const auto& details = decision.lease;
  const auto parsed =
      parse_lease_request(details.operation, details.path_lease_id.reveal(), request.body());
  if (const auto* refused = std::get_if<lease_request_error>(&parsed)) {
    return error_response(400, refused->message);
  }
  const auto& asked = std::get<lease_request>(parsed);
  auto lease = parts_.leases.find_served(asked.lease_id);
  if (lease && !lease_visible_to(lease->path, details.caller_allow)) lease.reset();
  const auto answer = answer_lease_request(asked, lease, parts_.clock.now(),
                                           parts_.clock.wall_now(), new_request_id());
  if (answer.status == 204) return string_response{http::status::no_content, 11};
  return json_answer(answer.status, answer.body);
}

handler_answer forwarding_handler::creds_answer(lease::dynamic_answer got) {
  const std::string_view x_cache = got.cache == lease::cache_state::hit ? "HIT" : "MISS";
  if (got.status == 200 && got.content_type == json_type) {
    // Written from the rendering the lease store holds; cleansed when the last holder lets go.
    const auto bytes = got.body->reveal();
    ready_answer answer{200, std::move(got.body), json_content_type_line, bytes};
    answer.add_field("X-Cache", x_cache);
    return answer;
  }
  auto answer = relay(got.status, got.content_type, got.body->reveal());
  for (const auto& [name, value] : got.headers) answer.set(name, value);
  answer.set("X-Cache", x_cache);
  return answer;
}

net::awaitable<string_response> forwarding_handler::forward(const string_request& request,
                                                            const route_decision& decision,
                                                            bool with_token) {
  vault::request upstream{.method = request.method(),
                          .target = decision.upstream_target,
                          .body = core::secret_string{std::string_view{request.body()}},
                          .token = nullptr,
                          .headers = {}};
  // LIST is not an HTTP method Beast knows; Vault takes GET with list=true (which the router
  // has put in the query of every listing) the same way.
  if (decision.list) upstream.method = http::verb::get;
  if (with_token) {
    upstream.token = parts_.tokens.current_token();
    if (upstream.token == nullptr) co_return failure_response(auth::errc::no_token);
  }
  for (const auto name : forwarded_headers) {
    if (const auto it = request.find(name); it != request.end()) {
      upstream.headers.emplace_back(std::string{name}, std::string{it->value()});
    }
  }

  auto got = co_await parts_.upstream.async_send(std::move(upstream));
  if (!got) co_return failure_response(got.error());
  if (decision.kind == route_class::kv_write && got->status >= 200 && got->status < 300) {
    parts_.cache.invalidate(vault_path(decision));
  }
  auto answer = relay(got->status, got->content_type, got->body.reveal());
  for (const auto& [name, value] : got->headers) answer.set(name, value);
  co_return answer;
}

string_response forwarding_handler::health() {
  const auto now = parts_.clock.now();
  std::optional<vault::upstream_state> upstream;
  vault::gate_stats upstream_stats;
  if (parts_.gate != nullptr) {
    upstream = parts_.gate->state(now);
    upstream_stats = parts_.gate->stats();
  }
  const auto report = make_health_report(
      {.started = started_,
       .token = parts_.tokens.stats(),
       .cache = parts_.cache.snapshot(),
       .leases = parts_.leases.snapshot(),
       .now = now,
       .clients = client_counts_ ? client_counts_() : std::vector<client_requests>{},
       .upstream = upstream,
       .upstream_stats = upstream_stats,
       .wall_now = parts_.clock.wall_now()});
  return json_answer(report.status, report.body);
}

string_response forwarding_handler::metrics() {
  engine_metrics_.update(parts_.tokens.stats(), parts_.cache.stats(), parts_.lease_stats,
                         parts_.leases.snapshot());
  if (parts_.gate != nullptr) {
    engine_metrics_.update_upstream(parts_.gate->state(parts_.clock.now()), parts_.gate->stats(),
                                    parts_.clock.now());
  }
  string_response answer{http::status::ok, 11};
  answer.set(http::field::content_type, metrics::registry::content_type);
  answer.body() = parts_.registry.render();
  return answer;
}

string_response forwarding_handler::clear_cache(const string_request& request) {
  using kind = cache_clear_request::kind;
  const auto parsed = parse_cache_clear(request.body());
  if (const auto* refused = std::get_if<cache_clear_error>(&parsed)) {
    return error_response(400, refused->message);
  }
  const auto& clear = std::get<cache_clear_request>(parsed);
  switch (clear.type) {
    case kind::all:
      parts_.cache.clear_all();
      break;
    case kind::request_path:
      parts_.cache.clear_prefix(clear.value);
      break;
    case kind::lease:
    case kind::token:
    case kind::token_accessor:
      // KV entries carry no lease and are all read with the sidecar's one token, so these
      // types match nothing in the cache; Vault Proxy answers them 200 as well.
      break;
  }
  core::logger("proxy")->info("cache cleared: type {}", to_string(clear.type));
  return json_answer(200, "");
}

string_response forwarding_handler::quit() {
  core::logger("proxy")->info("quit requested through /sidecar/v1/quit");
  request_quit_();
  return json_answer(200, "");
}

}  // namespace sidecar::proxy
