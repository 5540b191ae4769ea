#include <sidecar/config/values.hpp>

#include <catch2/catch.hpp>

#include <csignal>
#include <limits>

using namespace sidecar;
using namespace std::chrono_literals;
using config::parse_duration;

TEST_CASE("parse_duration: units and plain seconds", "[config]") {
  struct row {
    std::string_view text;
    core::duration expected;
  };
  const row rows[] = {
      {"500ms", 500ms}, {"10s", 10s}, {"5m", 5min}, {"1h", 1h},   {"30", 30s},
      {"0", 0s},        {"0ms", 0ms}, {"1ms", 1ms}, {"90s", 90s}, {"2562047h", 2562047h},
      {"007s", 7s},     {"120m", 2h},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    const auto parsed = parse_duration(r.text);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == r.expected);
  }
}

TEST_CASE("parse_duration: garbage, negatives, fractions and overflow are refused", "[config]") {
  for (const std::string_view text :
       {"", "5 minutes", "5min", "1.5s", "-5s", "-1", "s", "ms", "10 s", " 10s", "10S", "1d", "+5s",
        "0x10", "1e3", "99999999999999999999", "2562048h", "9223372037s"}) {
    INFO(text);
    CHECK_FALSE(parse_duration(text).has_value());
  }
}

TEST_CASE("parse_duration: the reason quotes the text and shows the accepted forms", "[config]") {
  CHECK(parse_duration("5 minutes").error() ==
        "invalid duration \"5 minutes\" (use 500ms, 10s, 5m, 1h or seconds)");
  CHECK(parse_duration("-5s").error() == "invalid duration \"-5s\" (must not be negative)");
  CHECK(parse_duration("99999999999h").error() == "invalid duration \"99999999999h\" (too large)");
}

TEST_CASE("format_duration: shortest unit that reads back the same", "[config]") {
  CHECK(config::format_duration(0s) == "0s");
  CHECK(config::format_duration(1h) == "1h");
  CHECK(config::format_duration(5min) == "5m");
  CHECK(config::format_duration(90s) == "90s");
  CHECK(config::format_duration(1500ms) == "1500ms");
  CHECK(config::format_duration(std::chrono::nanoseconds{1500}) == "1500ns");
  for (const core::duration d : {core::duration{1h}, core::duration{90s}, core::duration{10ms}}) {
    CHECK(*parse_duration(config::format_duration(d)) == d);
  }
}

TEST_CASE("parse_fraction: strictly between 0 and 1", "[config]") {
  CHECK(*config::parse_fraction("0.8") == 0.8);
  CHECK(*config::parse_fraction("0.001") == 0.001);
  CHECK(*config::parse_fraction(".5") == 0.5);
  for (const std::string_view text :
       {"0", "1", "1.0", "1.5", "-0.5", "0.0", "", "nan", "inf", "0.8x", " 0.8", "4/5", "80%"}) {
    INFO(text);
    CHECK_FALSE(config::parse_fraction(text).has_value());
  }
  CHECK(config::parse_fraction("1.5").error() ==
        "must be a fraction between 0 and 1, exclusive (e.g. 0.8), not \"1.5\"");
}

TEST_CASE("parse_bool: only true and false in the file", "[config]") {
  CHECK(*config::parse_bool("true") == true);
  CHECK(*config::parse_bool("false") == false);
  for (const std::string_view text : {"yes", "no", "1", "0", "True", "TRUE", "on", ""}) {
    INFO(text);
    CHECK_FALSE(config::parse_bool(text).has_value());
  }
  CHECK(config::parse_bool("yes").error() == "expected true or false, not \"yes\"");
}

TEST_CASE("parse_env_bool: the spellings Vault's CLI accepts", "[config]") {
  for (const std::string_view text : {"1", "t", "T", "TRUE", "true", "True"}) {
    CHECK(*config::parse_env_bool(text) == true);
  }
  for (const std::string_view text : {"0", "f", "F", "FALSE", "false", "False"}) {
    CHECK(*config::parse_env_bool(text) == false);
  }
  for (const std::string_view text : {"yes", "tRUE", "2", ""}) {
    CHECK_FALSE(config::parse_env_bool(text).has_value());
  }
}

TEST_CASE("parse_whole: bounds are inclusive and signs refused", "[config]") {
  CHECK(*config::parse_whole("0", 0, 10) == 0);
  CHECK(*config::parse_whole("10", 0, 10) == 10);
  CHECK_FALSE(config::parse_whole("11", 0, 10).has_value());
  CHECK_FALSE(config::parse_whole("-1", 0, 10).has_value());
  CHECK_FALSE(config::parse_whole("+1", 0, 10).has_value());
  CHECK_FALSE(config::parse_whole("1.0", 0, 10).has_value());
  CHECK_FALSE(config::parse_whole("", 0, 10).has_value());
  CHECK_FALSE(config::parse_whole("99999999999999999999999", 0, 10).has_value());
  CHECK(config::parse_whole("11", 0, 10).error() ==
        "expected a whole number from 0 to 10, not \"11\"");
  const auto unbounded = std::numeric_limits<std::uint64_t>::max();
  CHECK(config::parse_whole("0", 1, unbounded).error() ==
        "expected a whole number of at least 1, not \"0\"");
}

TEST_CASE("parse_mode: octal up to 0777", "[config]") {
  CHECK(*config::parse_mode("0660") == 0660u);
  CHECK(*config::parse_mode("660") == 0660u);
  CHECK(*config::parse_mode("0777") == 0777u);
  CHECK(*config::parse_mode("0") == 0u);
  for (const std::string_view text : {"0999", "1777", "07777", "", "rw-rw----", "0x1b4", "-0660"}) {
    INFO(text);
    CHECK_FALSE(config::parse_mode(text).has_value());
  }
}

TEST_CASE("parse_signal: the supported names map to their numbers", "[config]") {
  CHECK(*config::parse_signal("SIGTERM") == SIGTERM);
  CHECK(*config::parse_signal("SIGINT") == SIGINT);
  CHECK(*config::parse_signal("SIGHUP") == SIGHUP);
  CHECK(*config::parse_signal("SIGQUIT") == SIGQUIT);
  CHECK(*config::parse_signal("SIGUSR1") == SIGUSR1);
  CHECK(*config::parse_signal("SIGUSR2") == SIGUSR2);
  CHECK(*config::parse_signal("SIGKILL") == SIGKILL);
  for (const std::string_view text : {"TERM", "sigterm", "15", "SIGSTOP", ""}) {
    CHECK_FALSE(config::parse_signal(text).has_value());
  }
  CHECK(config::signal_name(SIGTERM) == "SIGTERM");
  CHECK(config::signal_name(SIGSTOP) == std::to_string(SIGSTOP));
}

TEST_CASE("parse_list: comma separated and trimmed", "[config]") {
  using list = std::vector<std::string>;
  CHECK(*config::parse_list("/v1/kv-*, /v1/database/creds/*") ==
        list{"/v1/kv-*", "/v1/database/creds/*"});
  CHECK(*config::parse_list("a") == list{"a"});
  const auto empty = config::parse_list("");
  REQUIRE(empty.has_value());
  CHECK(empty->empty());
  CHECK_FALSE(config::parse_list("a,,b").has_value());
  CHECK_FALSE(config::parse_list("a,").has_value());
  CHECK_FALSE(config::parse_list(", a").has_value());
}

TEST_CASE("split_command: splits like a shell, without one", "[config]") {
  using list = std::vector<std::string>;
  struct row {
    std::string_view text;
    list expected;
  };
  const row rows[] = {
      {"/usr/local/bin/my-app --flag", {"/usr/local/bin/my-app", "--flag"}},
      {"  a   b\tc ", {"a", "b", "c"}},
      {"sh -c 'echo $HOME; exit 1'", {"sh", "-c", "echo $HOME; exit 1"}},
      {R"(echo "a b" 'c d')", {"echo", "a b", "c d"}},
      {R"(echo "say \"hi\"" "\$x" "\\" "\n")", {"echo", "say \"hi\"", "$x", "\\", "\\n"}},
      {R"(echo a\ b \' \")", {"echo", "a b", "'", "\""}},
      {R"(echo 'it'\''s')", {"echo", "it's"}},
      {R"(echo "" '')", {"echo", "", ""}},
      {R"(x"y"'z')", {"xyz"}},
      {"echo *.txt ~ $PATH", {"echo", "*.txt", "~", "$PATH"}},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    const auto split = config::split_command(r.text);
    REQUIRE(split.has_value());
    CHECK(*split == r.expected);
  }
}

TEST_CASE("split_command: unbalanced quotes, trailing backslash and emptiness", "[config]") {
  CHECK(config::split_command("echo 'a").error() == "unterminated ' in the command");
  CHECK(config::split_command("echo \"a").error() == "unterminated \" in the command");
  CHECK(config::split_command(R"(echo "a\")").error() == "unterminated \" in the command");
  CHECK(config::split_command("echo a\\").error() == "trailing backslash in the command");
  CHECK(config::split_command("").error() == "empty command");
  CHECK(config::split_command("   ").error() == "empty command");
}

TEST_CASE("join_command: quotes only what needs it and splits back the same", "[config]") {
  const std::vector<std::string> arguments{"/bin/app", "--flag=1", "a b", "it's", "", "$HOME"};
  const auto line = config::join_command(arguments);
  CHECK(line == R"(/bin/app --flag=1 'a b' 'it'\''s' '' '$HOME')");
  CHECK(*config::split_command(line) == arguments);
}

TEST_CASE("check_listener_address: loopback host:port only", "[config]") {
  for (const std::string_view ok :
       {"127.0.0.1:8100", "127.1.2.3:1", "localhost:65535", "[::1]:8100", "[0:0:0:0:0:0:0:1]:80"}) {
    INFO(ok);
    CHECK_FALSE(config::check_listener_address(ok).has_value());
  }
  for (const std::string_view bad :
       {"0.0.0.0:8100", "10.0.0.1:8100", "[::]:8100", "[::ffff:127.0.0.1]:80", "example.com:80",
        "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:http", "::1:8100",
        "[::1]", "[::1]8100", "[127.0.0.1]:80", "localhost", ":8100", "127.1:8100"}) {
    INFO(bad);
    CHECK(config::check_listener_address(bad).has_value());
  }
  CHECK(*config::check_listener_address("0.0.0.0:8100") ==
        "\"0.0.0.0\" is not a loopback address; secrets are served without authentication, so "
        "only 127.0.0.0/8, [::1] or localhost are allowed");
  CHECK(*config::check_listener_address("::1:8100") ==
        "an IPv6 address needs brackets (e.g. [::1]:8100), not \"::1:8100\"");
}

TEST_CASE("check_vault_address: http or https URL with a host", "[config]") {
  for (const std::string_view ok :
       {"https://127.0.0.1:8200", "http://vault:8200", "https://vault.example.com",
        "https://vault.example.com/", "https://[::1]:8200"}) {
    INFO(ok);
    CHECK_FALSE(config::check_vault_address(ok).has_value());
  }
  for (const std::string_view bad :
       {"", "vault:8200", "127.0.0.1:8200", "ftp://vault:21", "https://", "https://:8200",
        "https://user:pw@vault:8200", "https://vault:0", "https://vault:99999",
        "https://vault:8200/v1", "https://vault:8200?x=1", "https://vault:8200#x",
        "https://vau lt:8200"}) {
    INFO(bad);
    CHECK(config::check_vault_address(bad).has_value());
  }
}

TEST_CASE("template_references: secret names in mustache tags", "[config]") {
  using list = std::vector<std::string>;
  CHECK(*config::template_references("{{db.username}}") == list{"db"});
  CHECK(*config::template_references("user={{ db.username }}:{{{app.pw}}}") == list{"db", "app"});
  CHECK(*config::template_references("{{& app.x}}{{!c}}{{\tdb.y }}") == list{"app", "db"});
  CHECK(*config::template_references("{{! a comment }}plain") == list{});
  CHECK(*config::template_references("no tags at all") == list{});
  CHECK_FALSE(config::template_references("{{db.username").has_value());
  CHECK_FALSE(config::template_references("{{ }}").has_value());
  CHECK_FALSE(config::template_references("{{.key}}").has_value());
}

TEST_CASE("template_references: what the renderer refuses is refused", "[config]") {
  CHECK(config::template_references("{{#app}}{{/app}}").error() ==
        "{{#app}} is not supported in \"{{#app}}{{/app}}\": only {{secret.key}} tags and "
        "{{! comments}}");
  CHECK_FALSE(config::template_references("{{^db}}{{/db}}").has_value());
  CHECK_FALSE(config::template_references("{{> other}}").has_value());
  CHECK_FALSE(config::template_references("{{=<% %>=}}").has_value());
  CHECK(config::template_references("{{{app.pw}}").error() == "unterminated {{ in \"{{{app.pw}}\"");
  CHECK_FALSE(config::template_references("{{{ }}}").has_value());
}
