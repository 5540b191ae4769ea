"""Issue 19: the sidecar shields Vault from the fleet and from noisy callers.

Counts come from the double's request log (`Double.requests()`): each sidecar logs in once and
sends its own token, so requests are told apart by sidecar; `at_ms` says when Vault answered.
"""
import json
import re
import threading
import time
import unittest

from harness import E2ETestCase, default_seed, request, wait_until

PATHS = [f"kv-demo/data/p{i}" for i in range(3)]


def seed_with_paths():
    seed = default_seed()
    secrets = seed["kv_mounts"]["kv-demo"]["secrets"]
    for i in range(3):
        secrets[f"p{i}"] = {"value": f"protected-{i}"}
    return seed


def kv_reads(double, status=None):
    """The double's KV reads, optionally only those it answered `status`."""
    return [r for r in double.requests()
            if r["method"] == "GET" and r["path"].startswith("/v1/kv-demo/")
            and (status is None or r["status"] == status)]


def errors_of(body):
    errors = json.loads(body)["errors"]
    assert isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors), body
    return errors


def most_in_any_window(times_ms, window_ms):
    """The most timestamps that fall in any window of `window_ms` (sliding)."""
    times = sorted(times_ms)
    most, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= window_ms:
            first += 1
        most = max(most, last - first + 1)
    return most


class RetryAfterTest(E2ETestCase):
    """20 sidecars x 3 warmed paths under 6 s of 429 + Retry-After: 6 (a rate-limit quota)."""

    SIDECARS = 20
    WINDOW_S = 6

    def start_fleet(self, double):
        sections = {
            "cache": {"ttl": "2s", "refresh_interval": "2s", "max_stale": "5m"},
            "secrets": {f"p{i}": path for i, path in enumerate(PATHS)},
            "log": {"level": "info"},
        }
        fleet = [self.start_sidecar(f"http://127.0.0.1:{double.port}", sections,
                                    subdir=f"sidecar{i}", wait_ready=False)
                 for i in range(self.SIDECARS)]
        for sidecar in fleet:
            sidecar.wait_ready(timeout=60)
        return fleet

    def test_fleet_serves_every_read_and_sends_at_most_two_reads_per_path(self):
        vault = self.start_double(seed_with_paths())
        fleet = self.start_fleet(vault)
        for sidecar in fleet:
            for path in PATHS:
                status, _, body = sidecar.get("/v1/" + path)
                self.assertEqual(status, 200, body)

        vault.control("fail-window", {
            "prefix": "/v1/kv-demo/", "seconds": self.WINDOW_S, "status": 429,
            "message": 'request path "kv-demo/data/p0": rate limit quota exceeded',
            "headers": {"Retry-After": str(self.WINDOW_S)}})
        started = time.monotonic()
        states = set()
        reads = 0
        miss_checked = False
        paused_seen = False
        while time.monotonic() - started < self.WINDOW_S - 0.5:
            for sidecar in fleet:
                for path in PATHS:
                    status, headers, body = sidecar.get("/v1/" + path)
                    self.assertEqual(status, 200, body)  # every local read is answered
                    self.assertEqual(json.loads(body)["data"]["data"]["value"],
                                     f"protected-{path[-1]}")
                    states.add(headers["x-cache"])
                    reads += 1
            if not miss_checked and time.monotonic() - started > 2.5:
                # Nothing held for this path: the sidecar's own 429 in Vault's error shape.
                status, headers, body = fleet[0].get("/v1/kv-demo/data/never-read")
                if status == 429 and "retry-after" in headers:
                    miss_checked = True
                    self.assertGreaterEqual(int(headers["retry-after"]), 1)
                    self.assertLessEqual(int(headers["retry-after"]), self.WINDOW_S)
                    errors_of(body)
                _, health = fleet[0].health()
                paused_seen |= health["upstream"]["state"] == "paused"
            time.sleep(0.2)
        self.assertIn("STALE", states)
        self.assertTrue(miss_checked, "a miss during the pause was not answered 429 + Retry-After")
        self.assertTrue(paused_seen, "health never said paused")
        metrics = fleet[0].get("/sidecar/v1/metrics")[2].decode()
        pauses = re.search(r"^vault_sidecar_upstream_retry_after_pauses_total (\d+)", metrics, re.M)
        self.assertIsNotNone(pauses, metrics)
        self.assertGreaterEqual(int(pauses.group(1)), 1)

        # In the window Vault saw at most 2 reads per path per sidecar (one per token).
        per_sidecar_path = {}
        for r in kv_reads(vault, status=429):
            key = (r["token"], r["path"])
            per_sidecar_path[key] = per_sidecar_path.get(key, 0) + 1
        self.assertTrue(per_sidecar_path, "no read reached the quota window")
        self.assertLessEqual(max(per_sidecar_path.values()), 2, per_sidecar_path)

        # Fresh again within refresh_interval + 4 s of the window's end.
        window_end = started + self.WINDOW_S

        def all_fresh():
            for sidecar in fleet:
                for path in PATHS:
                    status, headers, _ = sidecar.get("/v1/" + path)
                    if status != 200 or headers["x-cache"] == "STALE" or "warning" in headers:
                        return False
            return True
        wait_until(all_fresh, timeout=max(1.0, window_end + 2 + 4 - time.monotonic()),
                   what="every path fresh again")
        for sidecar in fleet:
            self.assertEqual(sidecar.health()[1]["upstream"]["state"], "ok")


class RateLimitTest(E2ETestCase):
    """vault.rate_limit = 20: 300 distinct missing paths fired 30 at a time."""

    def test_at_most_40_upstream_requests_in_any_second_and_every_request_answered(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", {
            # 30 at a time at 20/s: each batch after the first needs 1.5 s, longer than
            # request_timeout, so some reads must get the budget refusal.
            "vault": {"rate_limit": "20", "request_timeout": "1s"},
            "cache": {"negative_ttl": "0"},
            "log": {"level": "info"}})
        answers = []
        lock = threading.Lock()

        def read(index):
            started = time.monotonic()
            status, headers, body = sidecar.get(f"/v1/kv-demo/data/missing-{index}", timeout=10)
            with lock:
                answers.append((status, time.monotonic() - started, headers, body))

        for batch in range(10):
            threads = [threading.Thread(target=read, args=(batch * 30 + i,)) for i in range(30)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        self.assertEqual(len(answers), 300)
        for status, took, headers, body in answers:
            self.assertIn(status, (404, 429), body)
            self.assertLess(took, 1 + 1.5, "answered later than request_timeout")
            if status == 429:
                self.assertEqual(headers.get("retry-after"), "1")
                errors_of(body)
        self.assertGreater(sum(1 for a in answers if a[0] == 429), 0,
                           "300 reads at 20/s never ran out of budget")
        times = [r["at_ms"] for r in kv_reads(vault)]
        self.assertLessEqual(most_in_any_window(times, 1000), 40)
        self.assertEqual(len(times), sum(1 for a in answers if a[0] == 404))
        metrics = sidecar.get("/sidecar/v1/metrics")[2].decode()
        self.assertRegex(metrics, r"(?m)^vault_sidecar_upstream_budget_refusals_total [1-9]")


class NegativeCacheTest(E2ETestCase):
    """cache.negative_ttl = 5s: a missing path polled in a loop."""

    def test_100_reads_of_a_missing_path_cost_at_most_2_upstream_reads(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", {
            "cache": {"negative_ttl": "5s"}, "proxy": {"forward_writes": "true"},
            "log": {"level": "info"}})
        path = "/v1/kv-demo/data/not-there"
        first = sidecar.get(path)
        self.assertEqual(first[0], 404)
        for _ in range(99):
            status, headers, body = sidecar.get(path)
            self.assertEqual(status, 404)
            self.assertEqual(body, first[2])  # as Vault gave it
            self.assertEqual(headers["x-cache"], "HIT")
        self.assertLessEqual(vault.count("GET", "/v1/kv-demo/data/not-there"), 2)
        metrics = sidecar.get("/sidecar/v1/metrics")[2].decode()
        self.assertRegex(metrics, r"(?m)^vault_sidecar_cache_negative_hits_total 99$")

        # A forwarded write to the path drops the kept 404.
        status, _, body = sidecar.get(path, method="POST",
                                      body=json.dumps({"data": {"now": "here"}}),
                                      headers={"Content-Type": "application/json"})
        self.assertEqual(status, 200, body)
        status, headers, body = sidecar.get(path)
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["x-cache"], "MISS")

        # cache-clear drops one too.
        other = "/v1/kv-demo/data/also-missing"
        self.assertEqual(sidecar.get(other)[0], 404)
        self.assertEqual(sidecar.get(other)[1]["x-cache"], "HIT")
        status, _, _ = sidecar.get("/sidecar/v1/cache-clear", method="POST",
                                   body=json.dumps({"type": "all"}))
        self.assertEqual(status, 200)
        self.assertEqual(sidecar.get(other)[1]["x-cache"], "MISS")


class RetryStormTest(E2ETestCase):
    """Vault answering 500 to everything: a read never becomes more than 1 + max_retries."""

    def test_a_5xx_storm_is_bounded_by_the_retry_budget(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", {
            "vault": {"max_retries": "3"}, "log": {"level": "info"}})
        vault.control("fail-window", {"prefix": "/v1/kv-demo/", "seconds": 60, "status": 500,
                                      "message": "internal error"})
        # Each read backs off 0.25 + 0.5 + 1 s (less jitter) between its four attempts.
        for i in range(5):
            status, _, body = sidecar.get(f"/v1/kv-demo/data/storm-{i}")
            self.assertEqual(status, 500, body)
        per_path = {}
        for r in kv_reads(vault):
            per_path[r["path"]] = per_path.get(r["path"], 0) + 1
        self.assertEqual(len(per_path), 5)
        self.assertLessEqual(max(per_path.values()), 4, per_path)
        _, health = sidecar.health()
        self.assertEqual(health["upstream"]["state"], "failing")
        self.assertIn("failing_since", health["upstream"])


if __name__ == "__main__":
    unittest.main()
