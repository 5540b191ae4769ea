#include <sidecar/core/secret_string.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sstream>

using sidecar::core::secret_string;

TEST_CASE("secret_string: formats as *** through fmt and iostreams", "[core]") {
  const secret_string token{std::string{"hvs.very-secret-token"}};
  CHECK(fmt::format("token={}", token) == "token=***");
  std::ostringstream out;
  out << token;
  CHECK(out.str() == "***");
  CHECK(token.reveal() == "hvs.very-secret-token");
}

TEST_CASE("secret_string: moved-from and cleared values are empty", "[core]") {
  secret_string a{std::string{"short"}};
  secret_string b{std::move(a)};
  CHECK(b.reveal() == "short");
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the contract under test
  b.clear();
  CHECK(b.empty());
}

TEST_CASE("secret_string: copy and assignment keep the value", "[core]") {
  const secret_string a{std::string{"a-long-secret-that-is-not-small-string-optimised"}};
  secret_string b;
  b = a;
  CHECK(b == a);
  secret_string c{std::string{"other"}};
  c = std::move(b);
  CHECK(c == a);
}

TEST_CASE("cleanse: overwrites the whole buffer, not only the size", "[core]") {
  std::string buffer(64, 'x');
  buffer.resize(3);  // capacity keeps the old 'x' bytes
  const char* data = buffer.data();
  sidecar::core::cleanse(buffer);
  CHECK(buffer.empty());
  for (std::size_t i = 0; i < 64; ++i) CHECK(data[i] != 'x');
}
