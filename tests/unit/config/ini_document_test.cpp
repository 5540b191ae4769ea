#include <sidecar/config/ini_document.hpp>

#include <catch2/catch.hpp>

using namespace sidecar;
using config::parse_ini;

TEST_CASE("parse_ini: sections, entries, comments and blank lines", "[config]") {
  const auto doc = parse_ini(
      "; leading comment\n"
      "# another\n"
      "\n"
      "[vault]\n"
      "address = https://vault:8200   ; inline comment\n"
      "  namespace=team-a\t# hash comment\n"
      "ca_cert =\n"
      "\t\n"
      "[template.app-config]   ; a comment after a header\n"
      "source = /etc/a;b#c\n",
      "f.ini");
  CHECK(doc.problems.empty());
  REQUIRE(doc.sections.size() == 2);
  const auto& vault = doc.sections[0];
  CHECK(vault.name == "vault");
  CHECK(vault.line == 4);
  REQUIRE(vault.entries.size() == 3);
  CHECK(vault.entries[0].key == "address");
  CHECK(vault.entries[0].value == "https://vault:8200");
  CHECK(vault.entries[0].line == 5);
  CHECK(vault.entries[1].key == "namespace");
  CHECK(vault.entries[1].value == "team-a");
  CHECK(vault.entries[2].value.empty());
  CHECK(doc.sections[1].name == "template.app-config");
  REQUIRE(doc.sections[1].entries.size() == 1);
  // ';' and '#' start a comment only after a blank.
  CHECK(doc.sections[1].entries[0].value == "/etc/a;b#c");
}

TEST_CASE("parse_ini: a comment marker inside matched quotes is kept", "[config]") {
  const auto doc = parse_ini(
      "[exec]\n"
      "command = sh -c 'a ; b' \"c # d\" ; real comment\n"
      "other = it's ; gone\n",
      "f.ini");
  REQUIRE(doc.sections.size() == 1);
  REQUIRE(doc.sections[0].entries.size() == 2);
  CHECK(doc.sections[0].entries[0].value == "sh -c 'a ; b' \"c # d\"");
  CHECK(doc.sections[0].entries[1].value == "it's");
}

TEST_CASE("parse_ini: CRLF line ends and a value holding =", "[config]") {
  const auto doc = parse_ini("[env]\r\nX = a=b\r\n", "f.ini");
  REQUIRE(doc.sections.size() == 1);
  REQUIRE(doc.sections[0].entries.size() == 1);
  CHECK(doc.sections[0].entries[0].value == "a=b");
}

TEST_CASE("parse_ini: every syntax problem with its line", "[config]") {
  const auto doc = parse_ini(
      "orphan = 1\n"      // 1
      "[vault]\n"         // 2
      "just words\n"      // 3
      "= value\n"         // 4
      "address = a\n"     // 5
      "address = b\n"     // 6
      "two words = x\n"   // 7
      "[cache\n"          // 8
      "ttl = 1s\n"        // 9: under a broken header, not read
      "[]\n"              // 10
      "[vault]\n"         // 11
      "namespace = x\n",  // 12: under a repeated header, not read
      "f.ini");
  std::vector<std::string> lines;
  for (const auto& p : doc.problems) lines.push_back(p.to_string());
  CHECK(lines ==
        std::vector<std::string>{
            "f.ini:1: orphan: key outside any [section]",
            "f.ini:3: vault: expected \"key = value\" or \"[section]\", got \"just words\"",
            "f.ini:4: vault: missing key before =",
            "f.ini:6: vault.address: duplicate key (first set at line 5)",
            "f.ini:7: vault.two words: a key cannot contain blanks",
            "f.ini:8: vault: section header must end with ]",
            "f.ini:10: invalid section name []",
            "f.ini:11: vault: section [vault] appears twice (first at line 2)",
        });
  REQUIRE(doc.sections.size() == 1);
  REQUIRE(doc.sections[0].entries.size() == 1);
  CHECK(doc.sections[0].entries[0].value == "a");
}

TEST_CASE("parse_ini: the same key in two sections is not a duplicate", "[config]") {
  const auto doc = parse_ini("[auth]\nrenew_at = 0.8\n[database]\nrenew_at = 0.8\n", "f.ini");
  CHECK(doc.problems.empty());
  CHECK(doc.sections.size() == 2);
}
