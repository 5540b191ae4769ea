#include <sidecar/core/mustache_tags.hpp>

#include <catch2/catch.hpp>

#include <string_view>
#include <vector>

using sidecar::core::mustache_tag_problem;
using sidecar::core::mustache_variables;
using names = std::vector<std::string_view>;
using kind = mustache_tag_problem::kind;

namespace {

mustache_tag_problem problem_of(std::string_view text) {
  auto scanned = mustache_variables(text);
  REQUIRE_FALSE(scanned.has_value());
  return scanned.error();
}

}  // namespace

TEST_CASE("mustache_variables: the three ways to write a variable name it alike", "[core]") {
  CHECK(*mustache_variables("{{a.b}} {{{a.b}}} {{& a.b}}") == names{"a.b", "a.b", "a.b"});
  CHECK(*mustache_variables("{{ \t a.b \n}}") == names{"a.b"});
  CHECK(*mustache_variables("{{{ a.b }}}") == names{"a.b"});
  CHECK(*mustache_variables("no tags, a lone { and }}") == names{});
}

TEST_CASE("mustache_variables: comments are skipped, even with braces inside", "[core]") {
  CHECK(*mustache_variables("{{! a {comment} }}x{{db.password}}") == names{"db.password"});
  CHECK(*mustache_variables("{{!}}") == names{});
}

TEST_CASE("mustache_variables: sections, partials and delimiter changes are refused", "[core]") {
  for (const std::string_view text :
       {"{{#db}}", "{{^db}}", "{{/db}}", "{{> other}}", "{{=<% %>=}}", "{{ #db }}"}) {
    INFO(text);
    CHECK(problem_of(text).what == kind::unsupported);
  }
  const auto section = problem_of("x {{#db}}{{/db}}");
  CHECK(section.offset == 2);
  CHECK(section.tag == "{{#db}}");
}

TEST_CASE("mustache_variables: a triple-brace name is taken as written, sigils included",
          "[core]") {
  CHECK(*mustache_variables("{{{#db}}}") == names{"#db"});
  CHECK(*mustache_variables("{{{& a}}}") == names{"& a"});
}

TEST_CASE("mustache_variables: unclosed and empty tags, with where they start", "[core]") {
  CHECK(problem_of("ab{{db.password").what == kind::unclosed);
  CHECK(problem_of("ab{{db.password").offset == 2);
  CHECK(problem_of("{{{db.password}}").what == kind::unclosed);
  CHECK(problem_of("{{ok}}{{x}").offset == 6);
  for (const std::string_view text : {"{{}}", "{{ \t }}", "{{&}}", "{{& }}", "{{{}}}", "{{{ }}}"}) {
    INFO(text);
    CHECK(problem_of(text).what == kind::empty);
  }
  CHECK(problem_of("a {{ }} b").tag == "{{ }}");
}
