#include <sidecar/vault/failing_status.hpp>

#include <catch2/catch.hpp>

using sidecar::vault::is_failing_status;

TEST_CASE("is_failing_status: 412, 429 and every 5xx but 501 are Vault failing", "[vault]") {
  for (unsigned status = 100; status <= 599; ++status) {
    INFO("status " << status);
    const bool expected = status == 412 || status == 429 || (status >= 500 && status != 501);
    CHECK(is_failing_status(status) == expected);
  }
}

TEST_CASE("is_failing_status: 403, 404 and 501 are authoritative answers", "[vault]") {
  CHECK_FALSE(is_failing_status(403));
  CHECK_FALSE(is_failing_status(404));
  CHECK_FALSE(is_failing_status(400));
  CHECK_FALSE(is_failing_status(501));
  CHECK_FALSE(is_failing_status(200));
  CHECK_FALSE(is_failing_status(600));  // not HTTP's: Vault does not send it
  CHECK_FALSE(is_failing_status(0));
}
