#include <sidecar/metrics/registry.hpp>

#include <catch2/catch.hpp>

#include "exposition_parser.hpp"
#include <cmath>
#include <stdexcept>
#include <thread>

using namespace sidecar::metrics;

TEST_CASE("registry: renders the golden exposition text", "[metrics]") {
  registry r;
  auto& ok = r.make_counter("requests_total", "Requests answered.",
                            {{"route", "kv_read"}, {"code", "200"}});
  auto& denied =
      r.make_counter("requests_total", "Requests answered.", {{"route", "deny"}, {"code", "403"}});
  auto& open = r.make_gauge("open_connections", "Connections open now.");
  auto& latency = r.make_histogram("request_duration_seconds", "Request latency.", {0.1, 1.0},
                                   {{"route", "kv_read"}});
  ok.inc(3);
  denied.inc();
  open.set(2);
  latency.observe(0.05);
  latency.observe(0.1);  // on a bound: counted in that bucket (le is inclusive)
  latency.observe(0.5);
  latency.observe(7.0);

  CHECK(r.render() ==
        "# HELP vault_sidecar_requests_total Requests answered.\n"
        "# TYPE vault_sidecar_requests_total counter\n"
        "vault_sidecar_requests_total{route=\"kv_read\",code=\"200\"} 3\n"
        "vault_sidecar_requests_total{route=\"deny\",code=\"403\"} 1\n"
        "# HELP vault_sidecar_open_connections Connections open now.\n"
        "# TYPE vault_sidecar_open_connections gauge\n"
        "vault_sidecar_open_connections 2\n"
        "# HELP vault_sidecar_request_duration_seconds Request latency.\n"
        "# TYPE vault_sidecar_request_duration_seconds histogram\n"
        "vault_sidecar_request_duration_seconds_bucket{route=\"kv_read\",le=\"0.1\"} 2\n"
        "vault_sidecar_request_duration_seconds_bucket{route=\"kv_read\",le=\"1\"} 3\n"
        "vault_sidecar_request_duration_seconds_bucket{route=\"kv_read\",le=\"+Inf\"} 4\n"
        "vault_sidecar_request_duration_seconds_sum{route=\"kv_read\"} 7.65\n"
        "vault_sidecar_request_duration_seconds_count{route=\"kv_read\"} 4\n");
}

TEST_CASE("registry: escapes label values and help text", "[metrics]") {
  registry r;
  r.make_counter("escapes_total", "A \\ backslash\nand a \"quote\".",
                 {{"path", "C:\\dir\n\"quoted\""}})
      .inc();
  const auto text = r.render();
  CHECK(text ==
        "# HELP vault_sidecar_escapes_total A \\\\ backslash\\nand a \"quote\".\n"
        "# TYPE vault_sidecar_escapes_total counter\n"
        "vault_sidecar_escapes_total{path=\"C:\\\\dir\\n\\\"quoted\\\"\"} 1\n");
  // What a scraper reads back is the original text.
  const auto parsed = testing::parse_exposition(text);
  CHECK(parsed.families.at("vault_sidecar_escapes_total").help ==
        "A \\ backslash\nand a \"quote\".");
  CHECK(parsed.value("vault_sidecar_escapes_total", {{"path", "C:\\dir\n\"quoted\""}}) == 1.0);
}

TEST_CASE("registry: the same name and labels return the same metric", "[metrics]") {
  registry r;
  auto& a = r.make_counter("hits_total", "Hits.", {{"k", "v"}});
  auto& b = r.make_counter("hits_total", "Hits.", {{"k", "v"}});
  auto& c = r.make_counter("hits_total", "Hits.", {{"k", "w"}});
  CHECK(&a == &b);
  CHECK(&a != &c);
}

TEST_CASE("registry: invalid names and conflicting registrations throw", "[metrics]") {
  registry r;
  CHECK_THROWS_AS(r.make_counter("bad-name", "x"), std::invalid_argument);
  CHECK_THROWS_AS(r.make_counter("1starts_with_digit", "x"), std::invalid_argument);
  CHECK_THROWS_AS(r.make_counter("ok", "x", {{"bad label", "v"}}), std::invalid_argument);
  CHECK_THROWS_AS(r.make_counter("ok", "x", {{"__reserved", "v"}}), std::invalid_argument);
  CHECK_THROWS_AS(r.make_counter("ok", "x", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
  CHECK_THROWS_AS(r.make_histogram("h", "x", {1.0}, {{"le", "1"}}), std::invalid_argument);
  CHECK_THROWS_AS(r.make_histogram("h2", "x", {1.0, 0.5}), std::invalid_argument);
  r.make_counter("taken", "x");
  CHECK_THROWS_AS(r.make_gauge("taken", "x"), std::invalid_argument);
  CHECK_THROWS_AS(r.make_counter("taken", "other help"), std::invalid_argument);
}

TEST_CASE("registry: gauges go up and down and render special values", "[metrics]") {
  registry r;
  auto& g = r.make_gauge("level", "Level.");
  g.inc();
  g.inc();
  g.dec();
  g.add(0.5);
  CHECK(g.value() == 1.5);
  auto parsed = testing::parse_exposition(r.render());
  CHECK(parsed.value("vault_sidecar_level") == 1.5);
  g.set(-HUGE_VAL);
  parsed = testing::parse_exposition(r.render());
  CHECK(parsed.value("vault_sidecar_level") == -HUGE_VAL);
}

TEST_CASE("registry: histogram series share the family's bounds", "[metrics]") {
  registry r;
  auto& a = r.make_histogram("d_seconds", "D.", {1.0, 2.0}, {{"x", "a"}});
  auto& b = r.make_histogram("d_seconds", "D.", {5.0}, {{"x", "b"}});
  CHECK(std::vector<double>(b.upper_bounds().begin(), b.upper_bounds().end()) ==
        std::vector<double>{1.0, 2.0});
  a.observe(1.5);
  b.observe(3.0);
  const auto parsed = testing::parse_exposition(r.render());
  CHECK(parsed.value("vault_sidecar_d_seconds_bucket", {{"x", "a"}, {"le", "2"}}) == 1.0);
  CHECK(parsed.value("vault_sidecar_d_seconds_bucket", {{"x", "b"}, {"le", "2"}}) == 0.0);
  CHECK(parsed.value("vault_sidecar_d_seconds_bucket", {{"x", "b"}, {"le", "+Inf"}}) == 1.0);
}

TEST_CASE("registry: concurrent increments from two threads are all counted", "[metrics]") {
  registry r;
  auto& c = r.make_counter("concurrent_total", "C.");
  auto& h = r.make_histogram("concurrent_seconds", "H.", histogram::latency_buckets());
  auto& g = r.make_gauge("concurrent_gauge", "G.");
  constexpr int per_thread = 100000;
  auto work = [&] {
    for (int i = 0; i < per_thread; ++i) {
      c.inc();
      h.observe(0.001);
      g.inc();
      if (i % 1000 == 0) (void)r.render();  // scrapes while updating must be safe
    }
  };
  std::thread first{work};
  std::thread second{work};
  first.join();
  second.join();
  CHECK(c.value() == 2 * per_thread);
  CHECK(g.value() == 2.0 * per_thread);
  const auto parsed = testing::parse_exposition(r.render());
  CHECK(parsed.value("vault_sidecar_concurrent_seconds_count") == 2.0 * per_thread);
  CHECK(parsed.value("vault_sidecar_concurrent_seconds_bucket", {{"le", "0.001"}}) ==
        2.0 * per_thread);
  CHECK(parsed.value("vault_sidecar_concurrent_seconds_sum").value() ==
        Approx(2.0 * per_thread * 0.001));
}
