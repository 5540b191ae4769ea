#include <sidecar/proxy/lease_housekeeping.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

using namespace sidecar;
using namespace std::chrono_literals;
using proxy::lease_operation;
using proxy::lease_request;
using proxy::lease_request_error;

namespace {

constexpr std::string_view lease_id = "database/creds/app/abc123";

lease_request parsed(lease_operation operation, std::string_view path_id, std::string_view body) {
  auto result = proxy::parse_lease_request(operation, path_id, body);
  if (const auto* error = std::get_if<lease_request_error>(&result)) FAIL(error->message);
  return std::get<lease_request>(result);
}

std::string refused(lease_operation operation, std::string_view path_id, std::string_view body) {
  auto result = proxy::parse_lease_request(operation, path_id, body);
  if (std::holds_alternative<lease_request>(result)) FAIL("accepted: " << body);
  return std::get<lease_request_error>(result).message;
}

long long increment_of(std::string_view body) {
  return parsed(lease_operation::renew, lease_id, body).increment;
}

// One instant of a manual clock: steady `now` and calendar `wall` at 2026-12-07T14:00:00Z.
struct instant {
  core::time_point now = core::time_point{} + 1000h;
  core::wall_time wall = core::wall_time{} + std::chrono::seconds{1796652000};
};

// A lease issued 7.25 s before `at.now`, granted 10 s: 2.75 s left.
lease::served_lease lease_of(const instant& at, bool renewable = false) {
  return {.path = "database/creds/app",
          .issued = at.now - 7250ms,
          .last_renewal = std::nullopt,
          .expiry = at.now + 2750ms,
          .granted_at_issue = 10,
          .renewable = renewable};
}

nlohmann::json answered(const lease_request& request,
                        const std::optional<lease::served_lease>& lease, const instant& at,
                        unsigned status = 200) {
  const auto answer = proxy::answer_lease_request(request, lease, at.now, at.wall, "req-1");
  CHECK(answer.status == status);
  return nlohmann::json::parse(answer.body);
}

}  // namespace

TEST_CASE("match_lease_endpoint: every body and path form, nothing else", "[proxy][lease]") {
  using proxy::match_lease_endpoint;
  const auto check = [](std::string_view path, lease_operation operation, std::string_view base,
                        std::string_view id) {
    INFO(path);
    const auto found = match_lease_endpoint(path);
    REQUIRE(found.has_value());
    CHECK(found->operation == operation);
    CHECK(found->base == base);
    CHECK(found->path_lease_id == id);
  };
  check("/v1/sys/leases/renew", lease_operation::renew, "/v1/sys/leases/renew", "");
  check("/v1/sys/leases/renew/database/creds/app/x", lease_operation::renew, "/v1/sys/leases/renew",
        "database/creds/app/x");
  check("/v1/sys/renew", lease_operation::renew, "/v1/sys/renew", "");
  check("/v1/sys/renew/database/creds/app/x", lease_operation::renew, "/v1/sys/renew",
        "database/creds/app/x");
  check("/v1/sys/leases/revoke", lease_operation::revoke, "/v1/sys/leases/revoke", "");
  check("/v1/sys/leases/revoke/a/b", lease_operation::revoke, "/v1/sys/leases/revoke", "a/b");
  check("/v1/sys/revoke", lease_operation::revoke, "/v1/sys/revoke", "");
  check("/v1/sys/revoke/a", lease_operation::revoke, "/v1/sys/revoke", "a");
  check("/v1/sys/leases/lookup", lease_operation::lookup, "/v1/sys/leases/lookup", "");

  for (const auto* other :
       {"/v1/sys/leases/lookup/database/", "/v1/sys/leases/lookup/x",
        "/v1/sys/leases/revoke-prefix/x", "/v1/sys/leases/revoke-force/x",
        "/v1/sys/leases/revoke-prefix", "/v1/sys/renewal", "/v1/sys/leases/renew/",
        "/v1/sys/revoke/", "/v1/sys/leases", "/v1/sys/leases/tidy", "/v1/sys/health",
        "/v1/sys/leases/renewx", "/sys/leases/renew", "/v1/database/creds/x"}) {
    INFO(other);
    CHECK_FALSE(match_lease_endpoint(other).has_value());
  }
}

TEST_CASE("parse_lease_request: the lease id from the body, else from the path", "[proxy][lease]") {
  const auto body_form =
      parsed(lease_operation::renew, "", R"({"lease_id":"a/b/c","increment":60})");
  CHECK(body_form.operation == lease_operation::renew);
  CHECK(body_form.lease_id == "a/b/c");
  CHECK(body_form.increment == 60);
  CHECK(parsed(lease_operation::renew, "from/path", "").lease_id == "from/path");
  CHECK(parsed(lease_operation::renew, "from/path", " \r\n").lease_id == "from/path");
  CHECK(parsed(lease_operation::renew, "from/path", "{}").lease_id == "from/path");
  CHECK(parsed(lease_operation::renew, "from/path", "null").lease_id == "from/path");
  CHECK(parsed(lease_operation::revoke, "from/path", R"({"lease_id":""})").lease_id == "from/path");
  // As in Vault's handlers: the body's id wins over the path's.
  CHECK(parsed(lease_operation::revoke, "from/path", R"({"lease_id":"from/body"})").lease_id ==
        "from/body");
  CHECK(parsed(lease_operation::lookup, "", R"({"lease_id":"x","sync":true})").lease_id == "x");
  CHECK(parsed(lease_operation::renew, "", R"({"lease_id":"x"})").increment == 0);
  CHECK(parsed(lease_operation::renew, "", R"({"lease_id":"x","increment":null})").increment == 0);
  // Lookup takes no increment, so a bad one is not its business (Vault's schema has none).
  CHECK(parsed(lease_operation::lookup, "", R"({"lease_id":"x","increment":"bad"})").lease_id ==
        "x");
}

TEST_CASE("parse_lease_request: refusals in Vault's words", "[proxy][lease]") {
  CHECK(refused(lease_operation::renew, "", "") == "lease_id must be specified");
  CHECK(refused(lease_operation::lookup, "", "{}") == "lease_id must be specified");
  CHECK(refused(lease_operation::revoke, "", R"({"lease_id":null})") ==
        "lease_id must be specified");
  CHECK(refused(lease_operation::renew, "id", "{") == "failed to parse JSON input: invalid JSON");
  CHECK(refused(lease_operation::renew, "id", "lease_id=x") ==
        "failed to parse JSON input: invalid JSON");
  CHECK(refused(lease_operation::renew, "id", R"({"lease_id":"x"} trailing)") ==
        "failed to parse JSON input: invalid JSON");
  CHECK(refused(lease_operation::revoke, "id", R"(["x"])") ==
        "failed to parse JSON input: json: cannot unmarshal array into Go value of type "
        "map[string]interface {}");
  CHECK(refused(lease_operation::revoke, "id", R"("x")") ==
        "failed to parse JSON input: json: cannot unmarshal string into Go value of type "
        "map[string]interface {}");
  CHECK(refused(lease_operation::revoke, "id", "42").find("cannot unmarshal number") !=
        std::string::npos);
  CHECK(refused(lease_operation::lookup, "", R"({"lease_id":7})") ==
        "error converting input 7 for field \"lease_id\": could not parse string");
  CHECK(refused(lease_operation::lookup, "", R"({"lease_id":{"a":1}})")
            .starts_with("error converting input {\"a\":1} for field \"lease_id\""));
  // A body of nested brackets is refused before it is parsed.
  const std::string deep = std::string(200, '[') + std::string(200, ']');
  CHECK(refused(lease_operation::renew, "id", deep) ==
        "failed to parse JSON input: nested too deeply");
  CHECK(refused(lease_operation::renew, "id", "\xff\xfe") ==
        "failed to parse JSON input: invalid JSON");
}

TEST_CASE("parse_lease_request: increment as Vault's TypeDurationSecond takes it",
          "[proxy][lease]") {
  CHECK(increment_of(R"({"increment":3600})") == 3600);
  CHECK(increment_of(R"({"increment":0})") == 0);
  CHECK(increment_of(R"({"increment":"3600"})") == 3600);
  CHECK(increment_of(R"({"increment":"+30"})") == 30);
  CHECK(increment_of(R"({"increment":""})") == 0);
  CHECK(increment_of(R"({"increment":"1h"})") == 3600);
  CHECK(increment_of(R"({"increment":"1h30m"})") == 5400);
  CHECK(increment_of(R"({"increment":"1.5h"})") == 5400);
  CHECK(increment_of(R"({"increment":"90s"})") == 90);
  CHECK(increment_of(R"({"increment":"1500ms"})") == 1);  // truncated, as int(d.Seconds())
  CHECK(increment_of(R"({"increment":"999ms"})") == 0);
  CHECK(increment_of(R"({"increment":"2d"})") == 172800);

  const auto error = [](std::string_view body) {
    return refused(lease_operation::renew, "id", body);
  };
  CHECK(error(R"({"increment":-5})") ==
        "error converting input -5 for field \"increment\": cannot provide negative value '-5'");
  CHECK(error(R"({"increment":"-1m"})") ==
        "error converting input -1m for field \"increment\": cannot provide negative value '-60'");
  CHECK(error(R"({"increment":"soon"})") ==
        "error converting input soon for field \"increment\": time: invalid duration \"soon\"");
  CHECK(error(R"({"increment":1.5})") ==
        "error converting input 1.5 for field \"increment\": time: missing unit in duration "
        "\"1.5\"");
  CHECK(error(R"({"increment":"5x"})") ==
        "error converting input 5x for field \"increment\": time: unknown unit \"x\" in duration "
        "\"5x\"");
  CHECK(error(R"({"increment":"1.5d"})") ==
        "error converting input 1.5d for field \"increment\": strconv.ParseInt: parsing \"1.5\": "
        "invalid syntax");
  CHECK(error(R"({"increment":"+-5"})") ==
        "error converting input +-5 for field \"increment\": time: invalid duration \"+-5\"");
  CHECK(error(R"({"increment":true})") ==
        "error converting input true for field \"increment\": could not parse duration from input");
  CHECK(error(R"({"increment":[1]})").ends_with("could not parse duration from input"));
  CHECK(error(R"({"increment":"99999999999999"})") ==
        "error converting input 99999999999999 for field \"increment\": multiplication of "
        "durations resulted in overflow, one operand may be too large");
  CHECK(error(R"({"increment":18446744073709551615})")
            .ends_with("time: invalid duration \"18446744073709551615\""));
}

TEST_CASE("parse_go_duration: Go's time.ParseDuration, in whole seconds", "[proxy][lease]") {
  using proxy::parse_go_duration;
  CHECK(parse_go_duration("0") == 0);
  CHECK(parse_go_duration("-0") == 0);
  CHECK(parse_go_duration("0s") == 0);
  CHECK(parse_go_duration("1h2m3s") == 3723);
  CHECK(parse_go_duration("2h45m") == 9900);
  CHECK(parse_go_duration("-1.5h") == -5400);
  CHECK(parse_go_duration(".5s") == 0);
  CHECK(parse_go_duration("1.s") == 1);
  CHECK(parse_go_duration("61.9s") == 61);
  CHECK(parse_go_duration("1000000us") == 1);
  CHECK(parse_go_duration("1000000\u00b5s") == 1);
  CHECK(parse_go_duration("1000000\u03bcs") == 1);
  CHECK(parse_go_duration("3000000000ns") == 3);
  CHECK(parse_go_duration("2562047h") == 2562047LL * 3600);   // within 2^63 ns
  CHECK(parse_go_duration("1.000000000000000000001s") == 1);  // digits past precision ignored
  for (const auto* bad : {"", "1", "s", ".s", "-", "+", "1d", "1h-2m", "1 h", "h1", "1..5s",
                          "2562048h", "9223372037s", "99999999999999999999ns"}) {
    INFO(bad);
    CHECK_FALSE(parse_go_duration(bad).has_value());
  }
}

TEST_CASE("answer_lease_request: renew says the whole seconds left, never more", "[proxy][lease]") {
  const instant at;
  const auto request = lease_request{
      .operation = lease_operation::renew, .lease_id = std::string{lease_id}, .increment = 2};
  const auto body = answered(request, lease_of(at), at);
  CHECK(body["request_id"] == "req-1");
  CHECK(body["lease_id"] == lease_id);
  CHECK(body["lease_duration"] == 2);  // 2.75 s left, rounded down
  CHECK(body["renewable"] == false);
  CHECK(body["warnings"].is_null());  // 2 s asked, 2 s granted
  CHECK(body["data"].is_null());
  CHECK(body["auth"].is_null());
  CHECK(body["wrap_info"].is_null());
  CHECK(body["mount_type"] == "system");
  // Vault's field order (its HTTPResponse struct), not sorted.
  const auto text =
      proxy::answer_lease_request(request, lease_of(at), at.now, at.wall, "req-1").body;
  CHECK(text.starts_with(R"({"request_id":"req-1","lease_id":"database/creds/app/abc123",)"
                         R"("renewable":false,"lease_duration":2,"data":null,)"));
  CHECK(answered(request, lease_of(at, true), at)["renewable"] == true);

  // A moment before the end: 0 whole seconds, still the lease.
  instant last = at;
  last.now += 2700ms;
  CHECK(answered(request, lease_of(at), last)["lease_duration"] == 0);
}

TEST_CASE("answer_lease_request: an increment that cannot be granted gets Vault's warning",
          "[proxy][lease]") {
  const instant at;
  auto request = lease_request{
      .operation = lease_operation::renew, .lease_id = std::string{lease_id}, .increment = 3600};
  auto body = answered(request, lease_of(at), at);
  CHECK(body["lease_duration"] == 2);
  REQUIRE(body["warnings"].size() == 1);
  CHECK(body["warnings"][0] ==
        "TTL of \"1h\" exceeded the effective max_ttl of \"2s\"; TTL value is capped accordingly");
  // Without an increment, Vault's default is the lease's first grant (10 s here).
  request.increment = 0;
  body = answered(request, lease_of(at), at);
  CHECK(body["warnings"][0] ==
        "TTL of \"10s\" exceeded the effective max_ttl of \"2s\"; TTL value is capped accordingly");
  request.increment = 3;
  CHECK(answered(request, lease_of(at), at)["warnings"].size() == 1);
}

TEST_CASE("answer_lease_request: lookup describes the lease with Go's RFC 3339 times",
          "[proxy][lease]") {
  const instant at;
  const auto request =
      lease_request{.operation = lease_operation::lookup, .lease_id = "id-1", .increment = 0};
  auto body = answered(request, lease_of(at), at);
  CHECK(body["lease_id"] == "");
  CHECK(body["lease_duration"] == 0);
  const auto& data = body["data"];
  CHECK(data["id"] == "id-1");
  CHECK(data["ttl"] == 2);
  CHECK(data["issue_time"] == "2026-12-07T13:59:52.75Z");
  CHECK(data["expire_time"] == "2026-12-07T14:00:02.75Z");
  CHECK(data["last_renewal"].is_null());
  CHECK(data["renewable"] == false);
  CHECK(data.size() == 6);

  auto renewed = lease_of(at, true);
  renewed.last_renewal = at.now - 1s;
  body = answered(request, renewed, at);
  CHECK(body["data"]["last_renewal"] == "2026-12-07T13:59:59Z");
  CHECK(body["data"]["renewable"] == true);
}

TEST_CASE("answer_lease_request: revoke is 204 and changes nothing", "[proxy][lease]") {
  const instant at;
  const auto request =
      lease_request{.operation = lease_operation::revoke, .lease_id = "id-1", .increment = 0};
  const auto answer = proxy::answer_lease_request(request, lease_of(at), at.now, at.wall, "r");
  CHECK(answer.status == 204);
  CHECK(answer.body.empty());
}

TEST_CASE("answer_lease_request: any other lease is 400 lease not found", "[proxy][lease]") {
  const instant at;
  for (const auto operation :
       {lease_operation::renew, lease_operation::lookup, lease_operation::revoke}) {
    const auto request = lease_request{.operation = operation, .lease_id = "x", .increment = 0};
    auto answer = proxy::answer_lease_request(request, std::nullopt, at.now, at.wall, "r");
    CHECK(answer.status == 400);
    CHECK(answer.body == R"({"errors":["lease not found"]})");
    // At its expiry instant a lease is gone, whatever the store said a moment earlier.
    instant end = at;
    end.now += 2750ms;
    answer = proxy::answer_lease_request(request, lease_of(at), end.now, end.wall, "r");
    CHECK(answer.status == 400);
    CHECK(answer.body == R"({"errors":["lease not found"]})");
  }
}

TEST_CASE("lease_visible_to: everything without clients, else the client's allow list",
          "[proxy][lease]") {
  CHECK(proxy::lease_visible_to("database/creds/app", std::nullopt));
  const std::optional<std::vector<std::string>> web{{"/v1/kv-web/*", "/v1/database/creds/web"}};
  CHECK(proxy::lease_visible_to("database/creds/web", web));
  CHECK_FALSE(proxy::lease_visible_to("database/creds/app", web));
  CHECK_FALSE(proxy::lease_visible_to("database/creds/web2", web));
  const std::optional<std::vector<std::string>> creds{{"/v1/database/creds/*"}};
  CHECK(proxy::lease_visible_to("database/creds/app", creds));
  CHECK_FALSE(proxy::lease_visible_to("database/creds/app", std::vector<std::string>{}));
}

TEST_CASE("human_duration: Vault's warning spelling of whole seconds", "[proxy][lease]") {
  CHECK(proxy::human_duration(0) == "0s");
  CHECK(proxy::human_duration(45) == "45s");
  CHECK(proxy::human_duration(60) == "1m");
  CHECK(proxy::human_duration(90) == "1m30s");
  CHECK(proxy::human_duration(3600) == "1h");
  CHECK(proxy::human_duration(3605) == "1h5s");
  CHECK(proxy::human_duration(3660) == "1h1m");
  CHECK(proxy::human_duration(3661) == "1h1m1s");
  CHECK(proxy::human_duration(36000) == "10h");
  CHECK(proxy::human_duration(93660) == "26h1m");
  CHECK(proxy::human_duration(2764800) == "768h");
}

TEST_CASE("go_rfc3339_utc: Go's encoding of a UTC time", "[proxy][lease]") {
  using std::chrono::nanoseconds;
  const core::wall_time epoch{};
  CHECK(proxy::go_rfc3339_utc(epoch) == "1970-01-01T00:00:00Z");
  const auto t = epoch + std::chrono::seconds{1796652000};
  CHECK(proxy::go_rfc3339_utc(t) == "2026-12-07T14:00:00Z");
  CHECK(proxy::go_rfc3339_utc(t + std::chrono::duration_cast<core::wall_time::duration>(
                                      nanoseconds{540139795})) == "2026-12-07T14:00:00.540139795Z");
  CHECK(proxy::go_rfc3339_utc(t + 10ms) == "2026-12-07T14:00:00.01Z");
}
