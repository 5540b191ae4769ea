"""Issue 5 end to end: the KV cache behind the proxy, through the real binaries."""
import json
import os
import threading
import time
import unittest

from harness import CleanExitTestCase, default_seed, request, wait_until

KV_PATH = "/v1/kv-demo/data/sample"


def cache_seed():
    """The default seed plus three small secrets for the LRU test."""
    seed = default_seed()
    secrets = seed["kv_mounts"]["kv-demo"]["secrets"]
    for name in ("a", "b", "c"):
        secrets[name] = {"name": name}
    return seed


def upstream_gets(vault, path, query=None):
    """GETs of exactly `path` in the double's log (and of `query`, when given)."""
    return sum(1 for r in vault.requests()
               if r["method"] == "GET" and r["path"] == path
               and (query is None or r["query"] == query))


def secret_data(body):
    return json.loads(body)["data"]["data"]


class CacheHitTest(CleanExitTestCase):
    def test_second_read_is_a_hit_with_age_and_no_upstream_get(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        status, headers, first = sidecar.get(KV_PATH)
        self.assertEqual(status, 200)
        self.assertEqual(headers["x-cache"], "MISS")
        self.assertEqual(upstream_gets(vault, KV_PATH), 1)
        time.sleep(1.2)
        status, headers, second = sidecar.get(KV_PATH)
        self.assertEqual(status, 200)
        self.assertEqual(headers["x-cache"], "HIT")
        self.assertGreaterEqual(int(headers["age"]), 1)
        self.assertEqual(second, first)
        self.assertEqual(upstream_gets(vault, KV_PATH), 1)

    def test_new_version_is_served_within_refresh_interval_plus_1s(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"cache": {"refresh_interval": "2s"}})
        status, _, body = sidecar.get(KV_PATH)
        self.assertEqual(status, 200)
        self.assertEqual(secret_data(body)["password"], "kv-canary-pw-5150")
        vault.control("kv", {"mount": "kv-demo", "path": "sample",
                             "data": {"username": "demo", "password": "rotated-1"}})
        written = time.monotonic()

        def rotated():
            status, headers, body = sidecar.get(KV_PATH)
            return status == 200 and secret_data(body)["password"] == "rotated-1" and headers
        headers = wait_until(rotated, 3.0, interval=0.1, what="the new version")
        self.assertLessEqual(time.monotonic() - written, 3.5)
        self.assertEqual(headers["x-cache"], "HIT")  # the refresh brought it, not a miss
        self.assertEqual(json.loads(sidecar.get(KV_PATH)[2])["data"]["metadata"]["version"], 2)

    def test_500_concurrent_cold_reads_make_one_upstream_get(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"vault": {"request_timeout": "20s"}})
        # Vault answers slowly, so the readers pile up behind the single read in flight.
        vault.control("delay", {"prefix": KV_PATH, "ms": 3000})
        readers = 500
        barrier = threading.Barrier(readers)
        results = [None] * readers

        def read(index):
            try:
                barrier.wait(timeout=60)
                results[index] = request(sidecar.port, KV_PATH, timeout=60)
            except Exception as error:  # reported below, with the index
                results[index] = error

        threads = [threading.Thread(target=read, args=(i,)) for i in range(readers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        errors = [r for r in results if not isinstance(r, tuple)]
        self.assertEqual(errors, [])
        self.assertEqual({r[0] for r in results}, {200})
        bodies = {r[2] for r in results}
        self.assertEqual(len(bodies), 1)
        self.assertEqual(secret_data(bodies.pop())["username"], "demo")
        self.assertEqual(upstream_gets(vault, KV_PATH), 1)
        states = [r[1]["x-cache"] for r in results]
        if "H_E2E1_DEBUG" in os.environ:
            print(states.count("MISS"), states.count("HIT"))
        self.assertEqual(states.count("MISS") + states.count("HIT"), readers)
        self.assertGreater(states.count("MISS"), 1)  # several waited on the shared read


class StaleTest(CleanExitTestCase):
    def test_stale_while_vault_is_down_until_max_stale_then_502_then_fresh(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"cache": {"ttl": "2s", "refresh_interval": "1s",
                                                         "max_stale": "5s"}})
        status, _, fresh_body = sidecar.get(KV_PATH)
        self.assertEqual(status, 200)
        vault.control("down")
        down_at = time.monotonic()
        # The last good read was at most one refresh_interval before going down, so the entry
        # expires 1-2 s after down_at and may be served stale until 6-7 s after.
        timeline = []
        while time.monotonic() - down_at < 15:
            status, headers, body = sidecar.get(KV_PATH, timeout=10)
            timeline.append((time.monotonic() - down_at, status, headers, body))
            if status == 502:
                break
            time.sleep(0.2)
        stale = [t for t in timeline if t[1] == 200 and t[2]["x-cache"] == "STALE"]
        if "H_E2E1_DEBUG" in os.environ:
            print([(round(t[0], 2), t[1], t[2].get("x-cache")) for t in timeline])
        self.assertTrue(stale, [(t[0], t[1], t[2].get("x-cache")) for t in timeline])
        for _, _, headers, body in stale:
            self.assertEqual(headers["warning"], '110 - "Response is Stale"')
            self.assertIn("age", headers)
            self.assertEqual(body, fresh_body)
        for at, status, headers, _ in timeline:
            if status == 200 and headers["x-cache"] != "STALE":
                self.assertLess(at, 3.0)  # fresh only until the TTL (plus the read itself)
        first_502, status, headers, body = timeline[-1]
        self.assertEqual(status, 502, [(t[0], t[1]) for t in timeline])
        self.assertGreaterEqual(first_502, 5.0)  # not before max_stale past expiry
        self.assertIsInstance(json.loads(body)["errors"], list)
        self.assertEqual(sidecar.get(KV_PATH, timeout=10)[0], 502)

        vault.control("up")

        def fresh_again():
            status, headers, body = sidecar.get(KV_PATH, timeout=10)
            return status == 200 and headers["x-cache"] in ("MISS", "HIT") and (headers, body)
        headers, body = wait_until(fresh_again, 15, interval=0.2, what="a fresh answer")
        self.assertNotIn("warning", headers)
        self.assertEqual(secret_data(body), secret_data(fresh_body))


class WhatIsCachedTest(CleanExitTestCase):
    def test_403_and_404_are_never_cached(self):
        seed = default_seed()
        seed["kv_mounts"]["kv-secret"] = {"version": 2, "secrets": {"hidden": {"k": "v"}}}
        vault = self.start_double(seed)
        # negative_ttl 0: no 404 kept (test_protection.NegativeCacheTest covers the default).
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     {"cache": {"negative_ttl": "0"}})
        for path, expected in (("/v1/kv-secret/data/hidden", 403),
                               ("/v1/kv-demo/data/missing", 404)):
            for attempt in range(1, 4):
                status, headers, _ = sidecar.get(path)
                self.assertEqual(status, expected, path)
                self.assertNotEqual(headers.get("x-cache"), "HIT", path)
                self.assertEqual(upstream_gets(vault, path), attempt, path)

    def test_a_404_is_not_remembered_once_the_secret_exists(self):
        vault = self.start_double()
        # negative_ttl 0; with the default the 404 is kept 5 s (test_protection).
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     {"cache": {"negative_ttl": "0"}})
        path = "/v1/kv-demo/data/later"
        self.assertEqual(sidecar.get(path)[0], 404)
        vault.control("kv", {"mount": "kv-demo", "path": "later", "data": {"v": "1"}})
        status, headers, body = sidecar.get(path)
        self.assertEqual(status, 200)
        self.assertEqual(headers["x-cache"], "MISS")
        self.assertEqual(secret_data(body), {"v": "1"})

    def test_version_1_and_latest_are_separate_entries(self):
        vault = self.start_double()
        vault.control("kv", {"mount": "kv-demo", "path": "sample",
                             "data": {"username": "demo", "password": "version-2"}})
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        status, headers, latest = sidecar.get(KV_PATH)
        self.assertEqual((status, headers["x-cache"]), (200, "MISS"))
        self.assertEqual(secret_data(latest)["password"], "version-2")
        status, headers, first = sidecar.get(KV_PATH + "?version=1")
        self.assertEqual((status, headers["x-cache"]), (200, "MISS"))
        self.assertEqual(secret_data(first)["password"], "kv-canary-pw-5150")
        for target, expected in ((KV_PATH, "version-2"), (KV_PATH + "?version=1",
                                                          "kv-canary-pw-5150")):
            status, headers, body = sidecar.get(target)
            self.assertEqual((status, headers["x-cache"]), (200, "HIT"), target)
            self.assertEqual(secret_data(body)["password"], expected, target)
        self.assertEqual(upstream_gets(vault, KV_PATH, ""), 1)
        self.assertEqual(upstream_gets(vault, KV_PATH, "version=1"), 1)

    def test_lru_eviction_at_max_entries_2(self):
        vault = self.start_double(cache_seed())
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"cache": {"max_entries": "2"}})
        path = {name: f"/v1/kv-demo/data/{name}" for name in "abc"}

        def read(name):
            status, headers, body = sidecar.get(path[name])
            self.assertEqual(status, 200)
            self.assertEqual(secret_data(body), {"name": name})
            return headers["x-cache"]

        self.assertEqual(read("a"), "MISS")
        self.assertEqual(read("b"), "MISS")
        self.assertEqual(read("a"), "HIT")   # a is now the most recently read
        self.assertEqual(read("c"), "MISS")  # evicts b, the least recently read
        self.assertEqual(read("a"), "HIT")
        self.assertEqual(read("c"), "HIT")
        self.assertEqual(read("b"), "MISS")  # evicts a
        self.assertEqual(read("a"), "MISS")
        self.assertEqual({name: upstream_gets(vault, path[name]) for name in "abc"},
                         {"a": 2, "b": 2, "c": 1})


class CacheClearTest(CleanExitTestCase):
    def clear(self, sidecar, body, endpoint="/sidecar/v1/cache-clear"):
        return sidecar.get(endpoint, method="POST", body=body,
                           headers={"Content-Type": "application/json"})

    def test_all_request_path_and_refusals(self):
        vault = self.start_double(cache_seed())
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        a, b = "/v1/kv-demo/data/a", "/v1/kv-demo/data/b"

        def states():
            return sidecar.get(a)[1]["x-cache"], sidecar.get(b)[1]["x-cache"]

        self.assertEqual(states(), ("MISS", "MISS"))
        self.assertEqual(states(), ("HIT", "HIT"))

        status, _, _ = self.clear(sidecar, json.dumps({"type": "all"}))
        self.assertEqual(status, 200)
        self.assertEqual(states(), ("MISS", "MISS"))

        status, _, _ = self.clear(sidecar, json.dumps({"type": "request_path", "value": a}))
        self.assertEqual(status, 200)
        self.assertEqual(states(), ("MISS", "HIT"))

        # Vault Proxy's endpoint, and a prefix without /v1/.
        status, _, _ = self.clear(sidecar, json.dumps({"type": "request_path",
                                                       "value": "kv-demo/data/"}),
                                  endpoint="/proxy/v1/cache-clear")
        self.assertEqual(status, 200)
        self.assertEqual(states(), ("MISS", "MISS"))

        for body in ("{not json", "", json.dumps(["all"])):
            status, _, answer = self.clear(sidecar, body)
            self.assertEqual(status, 400, body)
            self.assertIsInstance(json.loads(answer)["errors"], list)
        status, _, answer = self.clear(sidecar, json.dumps({"type": "everything"}))
        self.assertEqual(status, 400)
        self.assertIn("everything", json.loads(answer)["errors"][0])
        status, _, _ = self.clear(sidecar, json.dumps({"type": "request_path"}))
        self.assertEqual(status, 400)
        self.assertEqual(states(), ("HIT", "HIT"))  # refusals cleared nothing
        self.assertEqual(upstream_gets(vault, a), 4)
        self.assertEqual(upstream_gets(vault, b), 3)


class WriteInvalidatesTest(CleanExitTestCase):
    def test_write_through_the_sidecar_invalidates_the_entry(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"proxy": {"forward_writes": "true"}})
        self.assertEqual(sidecar.get(KV_PATH)[1]["x-cache"], "MISS")
        self.assertEqual(sidecar.get(KV_PATH)[1]["x-cache"], "HIT")
        status, _, body = sidecar.get(KV_PATH, method="POST",
                                      headers={"Content-Type": "application/json"},
                                      body=json.dumps({"data": {"username": "demo",
                                                                "password": "written"}}))
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["data"]["version"], 2)
        status, headers, body = sidecar.get(KV_PATH)
        self.assertEqual((status, headers["x-cache"]), (200, "MISS"))
        self.assertEqual(secret_data(body)["password"], "written")
        self.assertEqual(sidecar.get(KV_PATH)[1]["x-cache"], "HIT")
        writes = [r for r in vault.requests() if r["method"] in ("POST", "PUT")
                  and r["path"] == KV_PATH]
        self.assertEqual(len(writes), 1)
        self.assertTrue(writes[0]["token"].startswith("hvs."))


if __name__ == "__main__":
    unittest.main()
