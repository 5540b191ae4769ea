#include "exposition_parser.hpp"

#include <catch2/catch.hpp>

using namespace sidecar::metrics::testing;

TEST_CASE("exposition_parser: reads samples, labels and metadata", "[metrics]") {
  const auto parsed = parse_exposition(
      "# HELP a_total Things.\n"
      "# TYPE a_total counter\n"
      "a_total{x=\"1\",y=\"two\"} 5\n"
      "a_total{x=\"2\"} 1.5e3 1700000000000\n"
      "\n"
      "# a free comment\n"
      "b NaN\n");
  CHECK(parsed.families.at("a_total").type == "counter");
  CHECK(parsed.families.at("a_total").help == "Things.");
  CHECK(parsed.value("a_total", {{"x", "1"}, {"y", "two"}}) == 5.0);
  CHECK(parsed.value("a_total", {{"x", "2"}}) == 1500.0);
  CHECK(parsed.sum("a_total") == 1505.0);
  CHECK(parsed.sum("a_total", {{"x", "1"}}) == 5.0);
  CHECK_FALSE(parsed.value("a_total").has_value());
  CHECK(parsed.samples.size() == 3);
}

TEST_CASE("exposition_parser: rejects what a scraper would reject", "[metrics]") {
  CHECK_THROWS_AS(parse_exposition("a 1"), parse_error);               // no final newline
  CHECK_THROWS_AS(parse_exposition("a{x=\"1} 1\n"), parse_error);      // unterminated value
  CHECK_THROWS_AS(parse_exposition("a{x=\"\\t\"} 1\n"), parse_error);  // bad escape
  CHECK_THROWS_AS(parse_exposition("a{x=1} 1\n"), parse_error);        // unquoted value
  CHECK_THROWS_AS(parse_exposition("a one\n"), parse_error);           // not a number
  CHECK_THROWS_AS(parse_exposition("a 1 2 3\n"), parse_error);         // trailing text
  CHECK_THROWS_AS(parse_exposition("a{x=\"1\",x=\"2\"} 1\n"), parse_error);
  CHECK_THROWS_AS(parse_exposition("# TYPE a kind\n"), parse_error);
  CHECK_THROWS_AS(parse_exposition("a 1\n# TYPE a gauge\n"), parse_error);
  CHECK_THROWS_AS(parse_exposition("# TYPE a gauge\n# TYPE a gauge\n"), parse_error);
  CHECK_THROWS_AS(parse_exposition("1a 1\n"), parse_error);
}
