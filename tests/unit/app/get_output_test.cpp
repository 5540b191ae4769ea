#include <sidecar/app/exit_code.hpp>
#include <sidecar/app/get_output.hpp>

#include <boost/beast/http/error.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace sidecar;
using namespace std::chrono_literals;
using app::answer_shape;
using app::get_format;

namespace {

constexpr std::string_view password = "kv-canary-pw-5150";

const std::string v2_body =
    R"({"request_id":"r","lease_id":"","renewable":false,"lease_duration":0,"data":{"data":)"
    R"({"username":"demo","password":"kv-canary-pw-5150"},"metadata":{"version":3,)"
    R"("created_time":"2026-01-01T00:00:00Z","deletion_time":"","destroyed":false}},)"
    R"("wrap_info":null,"warnings":null,"auth":null})";
const std::string v1_body =
    R"({"lease_duration":2764800,"data":{"endpoint":"https://x","ttl":"1h","port":5432,)"
    R"("tls":true,"nothing":null,"list":[1,"a"]}})";
const std::string creds_body =
    R"({"lease_id":"database/creds/myapp-role/abc","renewable":true,"lease_duration":59,)"
    R"("data":{"username":"v-app-x1","password":"kv-canary-pw-5150"}})";

app::get_options with_field(std::string field) {
  app::get_options options;
  options.field = std::move(field);
  return options;
}

app::get_options with_format(get_format format) {
  app::get_options options;
  options.format = format;
  return options;
}

app::get_outcome render(const app::get_options& options, std::string_view body,
                        unsigned status = 200, answer_shape shape = answer_shape::either) {
  return app::render_answer(options, "kv-demo/sample", shape, status, body);
}

/// What a POSIX shell reads back from `eval "NAME=<quoted>"`: the round trip shell_quote promises.
std::string through_shell(std::string_view value) {
  static int counter = 0;
  const auto dir = std::filesystem::temp_directory_path();
  const auto stem = "sidecar-quote-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const auto script = dir / (stem + ".sh");
  const auto output = dir / (stem + ".out");
  {
    std::ofstream file{script, std::ios::binary};
    file << "V=unchanged\neval \"$(cat <<'SIDECAR_EOF'\nV=" << app::shell_quote(value)
         << "\nSIDECAR_EOF\n)\"\nprintf '%s' \"$V\"\n";
  }
  const auto command = "/bin/sh " + script.string() + " > " + output.string() + " 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
  std::ifstream in{output, std::ios::binary};
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove(script);
  std::filesystem::remove(output);
  return text.str();
}

}  // namespace

TEST_CASE("env_name: upper-cased, [A-Z0-9_] only, never a leading digit", "[app]") {
  CHECK(app::env_name("password") == "PASSWORD");
  CHECK(app::env_name("username") == "USERNAME");
  CHECK(app::env_name("MiXeD_case_9") == "MIXED_CASE_9");
  CHECK(app::env_name("db-user") == "DB_USER");
  CHECK(app::env_name("a.b c/d=e") == "A_B_C_D_E");
  CHECK(app::env_name("$(id)") == "__ID_");
  CHECK(app::env_name("9lives") == "_9LIVES");
  CHECK(app::env_name("0") == "_0");
  CHECK(app::env_name("_private") == "_PRIVATE");
  CHECK(app::env_name("") == "_");
  CHECK(app::env_name("\xc3\xa9t\xc3\xa9") == "__T__");  // "été": each non-ASCII byte is one _
  CHECK(app::env_name(std::string_view{"a\0b", 3}) == "A_B");
}

TEST_CASE("shell_quote: single quotes, each quote closed, escaped and reopened", "[app]") {
  CHECK(app::shell_quote("") == "''");
  CHECK(app::shell_quote("abc") == "'abc'");
  CHECK(app::shell_quote("it's") == "'it'\\''s'");
  CHECK(app::shell_quote("''") == "''\\'''\\'''");
  CHECK(app::shell_quote("$(rm -rf /)") == "'$(rm -rf /)'");
  CHECK(app::shell_quote("a\nb") == "'a\nb'");
}

TEST_CASE("shell_quote: a shell's eval reads back exactly the value, running nothing", "[app]") {
  const std::array<std::string, 12> values{
      "",
      "plain",
      "with space  and\ttab",
      "it's",
      "'",
      "\\'\\",
      "$(touch /tmp/sidecar-quote-pwned)",
      "`touch /tmp/sidecar-quote-pwned`",
      "$HOME ${PATH} $1 $@ *",
      "line one\nline two\n",
      "; exit 7 ; # & | > <",
      "\"double\" and 'single' \xc3\xa9",
  };
  std::filesystem::remove("/tmp/sidecar-quote-pwned");
  for (const auto& value : values) {
    INFO("value: " << value);
    CHECK(through_shell(value) == value);
  }
  CHECK_FALSE(std::filesystem::exists("/tmp/sidecar-quote-pwned"));
}

TEST_CASE("looks_like_kv_v2: data.data and data.metadata objects", "[app]") {
  CHECK(app::looks_like_kv_v2(v2_body));
  CHECK_FALSE(app::looks_like_kv_v2(v1_body));
  CHECK_FALSE(app::looks_like_kv_v2(creds_body));
  CHECK_FALSE(app::looks_like_kv_v2(R"({"data":{"data":{},"metadata":null}})"));
  CHECK_FALSE(app::looks_like_kv_v2(R"({"data":{"data":"x","metadata":{}}})"));
  CHECK_FALSE(app::looks_like_kv_v2(R"({"data":{"metadata":{}}})"));
  CHECK_FALSE(app::looks_like_kv_v2("not json"));
  CHECK_FALSE(app::looks_like_kv_v2("[]"));
  CHECK_FALSE(app::looks_like_kv_v2(""));
}

TEST_CASE("render_answer: --field prints the value and nothing after it", "[app]") {
  CHECK(render(with_field("password"), v2_body) == app::get_outcome{0, std::string{password}, ""});
  CHECK(render(with_field("username"), v2_body, 200, answer_shape::kv_v2).out == "demo");
  CHECK(render(with_field("password"), creds_body, 200, answer_shape::plain).out == password);
  CHECK(render(with_field("endpoint"), v1_body).out == "https://x");
  // Not a string: compact JSON, as a script would want to read it back.
  CHECK(render(with_field("port"), v1_body).out == "5432");
  CHECK(render(with_field("tls"), v1_body).out == "true");
  CHECK(render(with_field("nothing"), v1_body).out == "null");
  CHECK(render(with_field("list"), v1_body).out == R"([1,"a"])");
}

TEST_CASE("render_answer: a missing field is exit 2, naming the fields but no value", "[app]") {
  const auto outcome = render(with_field("pasword"), v2_body);
  CHECK(outcome.exit_code == app::exit_code::missing);
  CHECK(outcome.out.empty());
  CHECK(outcome.err ==
        "vault-sidecar get: kv-demo/sample: no field \"pasword\" (fields: password, username)\n");
  // A v2 answer's envelope fields are not the secret's.
  CHECK(render(with_field("metadata"), v2_body).exit_code == app::exit_code::missing);
  CHECK(render(with_field("lease_id"), creds_body).exit_code == app::exit_code::missing);
  CHECK(render(with_field("x"), R"({"data":{}})").err.find("(fields: none)") != std::string::npos);
}

TEST_CASE("render_answer: json prints the data map indented, with a newline", "[app]") {
  const auto outcome = render({}, v2_body);
  CHECK(outcome.exit_code == 0);
  CHECK(outcome.out == "{\n  \"password\": \"kv-canary-pw-5150\",\n  \"username\": \"demo\"\n}\n");
  CHECK(outcome.err.empty());
  CHECK(render({}, creds_body).out ==
        "{\n  \"password\": \"kv-canary-pw-5150\",\n  \"username\": \"v-app-x1\"\n}\n");
}

TEST_CASE("render_answer: the shape decides which map is the data", "[app]") {
  // A v2 answer read as plain: its data map is {data, metadata}.
  CHECK(render({}, v2_body, 200, answer_shape::plain).out.find("\"metadata\"") !=
        std::string::npos);
  CHECK(render({}, v2_body, 200, answer_shape::kv_v2).out.find("\"metadata\"") ==
        std::string::npos);
  // Told KV v2 but not so: no data map.
  CHECK(render({}, creds_body, 200, answer_shape::kv_v2).exit_code == app::exit_code::failed);
  // A KV v1 secret that happens to hold a "data" field is still plain.
  CHECK(render(with_field("data"), R"({"data":{"data":{"a":1}}})").out == R"({"a":1})");
}

TEST_CASE("render_answer: env prints sorted NAME='value' lines", "[app]") {
  CHECK(render(with_format(get_format::env), creds_body).out ==
        "PASSWORD='kv-canary-pw-5150'\nUSERNAME='v-app-x1'\n");
  CHECK(render(with_format(get_format::env), v1_body).out ==
        "ENDPOINT='https://x'\nLIST='[1,\"a\"]'\nNOTHING='null'\nPORT='5432'\nTLS='true'\n"
        "TTL='1h'\n");
  CHECK(render(with_format(get_format::env), R"x({"data":{"db-user":"it's","9x":"$(id)"}})x").out ==
        "_9X='$(id)'\nDB_USER='it'\\''s'\n");
  CHECK(render(with_format(get_format::env), R"({"data":{}})") == app::get_outcome{0, "", ""});
}

TEST_CASE("render_answer: env refuses two fields of one name and a NUL byte", "[app]") {
  const auto clash = render(with_format(get_format::env),
                            R"({"data":{"db-user":"a","db_user":"kv-canary-pw-5150"}})");
  CHECK(clash.exit_code == app::exit_code::failed);
  CHECK(clash.out.empty());
  CHECK(clash.err ==
        "vault-sidecar get: kv-demo/sample: fields \"db-user\" and \"db_user\" both become "
        "DB_USER\n");
  const auto nul = render(with_format(get_format::env), R"({"data":{"k":"kv-canary\u0000pw"}})");
  CHECK(nul.exit_code == app::exit_code::failed);
  CHECK(nul.out.empty());
  CHECK(nul.err.find("field \"k\" holds a NUL byte") != std::string::npos);
  CHECK(nul.err.find("canary") == std::string::npos);
}

TEST_CASE("render_answer: raw prints the body exactly", "[app]") {
  CHECK(render(with_format(get_format::raw), v2_body) == app::get_outcome{0, v2_body, ""});
  CHECK(render(with_format(get_format::raw), "not json").out == "not json");
}

TEST_CASE("render_answer: a 200 without a data map is exit 1", "[app]") {
  for (const auto* body : {"not json", "", "[]", R"({"data":null})", R"({"data":"x"})",
                           R"({"errors":[]})", R"({"data":{"data":null,"metadata":{}}})"}) {
    INFO("body: " << body);
    const auto outcome = render({}, body, 200, answer_shape::kv_v2);
    CHECK(outcome.exit_code == app::exit_code::failed);
    CHECK(outcome.out.empty());
    CHECK(outcome.err == "vault-sidecar get: kv-demo/sample: the answer holds no data map\n");
  }
}

TEST_CASE("render_answer: 404 is exit 2, 403 exit 3, anything else exit 1", "[app]") {
  const auto missing = render({}, R"({"errors":[]})", 404);
  CHECK(missing ==
        app::get_outcome{2, "", "vault-sidecar get: kv-demo/sample: no such secret (404)\n"});
  const auto refused =
      render({}, R"({"errors":["permission denied: path is not in the allow list"]})", 403);
  CHECK(refused == app::get_outcome{3, "",
                                    "vault-sidecar get: kv-demo/sample: refused (403): "
                                    "permission denied: path is not in the allow list\n"});
  const auto down = render({}, R"({"errors":["upstream unreachable","x"]})", 502);
  CHECK(down == app::get_outcome{1, "",
                                 "vault-sidecar get: kv-demo/sample: the sidecar answered "
                                 "502: upstream unreachable; x\n"});
  for (const unsigned status : {204U, 301U, 400U, 405U, 412U, 429U, 500U, 503U, 504U}) {
    INFO("status " << status);
    CHECK(render(with_field("password"), "", status).exit_code == app::exit_code::failed);
  }
  // Whatever the format, a refusal prints nothing on stdout, even when the body has data.
  for (const auto format : {get_format::json, get_format::env, get_format::raw}) {
    CHECK(render(with_format(format), v2_body, 404).out.empty());
    CHECK(render(with_format(format), v2_body, 403).exit_code == app::exit_code::refused);
  }
}

TEST_CASE("render_answer: error text is made printable and cut, never a value", "[app]") {
  const auto hostile = render({}, R"({"errors":["a\u001b[2Jb\nc",3,null]})", 400);
  CHECK(hostile.err == "vault-sidecar get: kv-demo/sample: the sidecar answered 400: a?[2Jb?c\n");
  const auto long_text = render({}, R"({"errors":[")" + std::string(1000, 'e') + "\"]}", 500);
  CHECK(long_text.err.size() < 400);
  CHECK(long_text.err.find("...") != std::string::npos);
  // A deleted KV v2 version is a 404 that still carries data: none of it reaches stderr.
  CHECK(render({}, v2_body, 404).err.find(password) == std::string::npos);
  CHECK(render(with_field("nope"), v2_body).err.find(password) == std::string::npos);
}

TEST_CASE("transport_failure: unreachable is 69, not HTTP is 1", "[app]") {
  const auto refused = app::transport_failure(
      "127.0.0.1:8100", make_error_code(boost::system::errc::connection_refused), 5s);
  CHECK(refused.exit_code == app::exit_code::unavailable);
  CHECK(refused.err.starts_with("vault-sidecar get: 127.0.0.1:8100: "));
  CHECK(refused.out.empty());
  const auto no_socket = app::transport_failure(
      "unix:/run/x.sock", make_error_code(boost::system::errc::no_such_file_or_directory), 5s);
  CHECK(no_socket.exit_code == app::exit_code::unavailable);
  const auto late = app::transport_failure("127.0.0.1:8100", beast::error::timeout, 1500ms);
  CHECK(late ==
        app::get_outcome{69, "", "vault-sidecar get: 127.0.0.1:8100: no answer within 1500ms\n"});
  CHECK(app::transport_failure("x", http::error::end_of_stream, 5s).exit_code == 69);
  CHECK(app::transport_failure("x", http::error::partial_message, 5s).exit_code == 69);
  CHECK(app::transport_failure("x", make_error_code(boost::system::errc::connection_reset), 5s)
            .exit_code == 69);
  const auto garbage = app::transport_failure("x", http::error::bad_version, 5s);
  CHECK(garbage.exit_code == app::exit_code::failed);
  CHECK(garbage.err.starts_with("vault-sidecar get: x: not an HTTP answer: "));
  CHECK(app::transport_failure("x", http::error::body_limit, 5s).exit_code == 1);
}
