"""Issue 9: `listener.threads = 2` under load from several clients at once.

Cached reads, misses over fresh paths, database creds, metrics and cache clears run concurrently
against one sidecar with two io threads. Every answer must be right, and the sidecar must stop
cleanly afterwards; built with ThreadSanitizer (the tsan preset, TSAN_OPTIONS=halt_on_error=1 in
scripts/test.sh) a data race ends the process and fails the test, under ASan a memory error does.
"""
import http.client
import json
import threading
import time

from harness import DB_CREDS, CleanExitTestCase, default_seed

HOT = [f"/v1/kv-demo/data/hot{i}" for i in range(4)]
DURATION = 4.0  # seconds of load: long enough to interleave, short on a loaded machine


def hammer_seed():
    seed = default_seed(db_ttl=3600, db_max_ttl=7200)
    secrets = seed["kv_mounts"]["kv-demo"]["secrets"]
    for i in range(4):
        secrets[f"hot{i}"] = {"value": f"hot-{i}"}
    for i in range(400):
        secrets[f"cold{i}"] = {"value": f"cold-{i}"}
    return seed


class ThreadedHammerTest(CleanExitTestCase):
    def test_concurrent_hits_misses_creds_and_clears_with_two_threads(self):
        vault = self.start_double(hammer_seed())
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"listener": {"threads": "2"},
                                               "log": {"level": "info"}})
        deadline = time.monotonic() + DURATION
        problems = []
        counts = {}
        lock = threading.Lock()
        cold = iter(range(400))

        def note(kind, problem=None):
            with lock:
                counts[kind] = counts.get(kind, 0) + 1
                if problem:
                    problems.append(f"{kind}: {problem}")

        def client(kind, next_request):
            # One keep-alive connection per client, like an application's HTTP pool.
            conn = http.client.HTTPConnection("127.0.0.1", sidecar.port, timeout=30)
            try:
                while time.monotonic() < deadline:
                    job = next_request()
                    if job is None:
                        break
                    method, path, body, check = job
                    conn.request(method, path, body=body,
                                 headers={"Content-Type": "application/json"} if body else {})
                    answer = conn.getresponse()
                    data = answer.read()
                    note(kind, check(answer.status, answer, data))
            except (OSError, http.client.HTTPException) as e:
                note(kind, repr(e))
            finally:
                conn.close()

        def kv_check(expected):
            def check(status, answer, data):
                if status != 200:
                    return f"status {status} {data[:200]!r}"
                if json.loads(data)["data"]["data"] != {"value": expected}:
                    return f"wrong secret {data[:200]!r}"
                if answer.getheader("X-Cache") not in ("HIT", "MISS"):
                    return f"X-Cache {answer.getheader('X-Cache')}"
                return None
            return check

        def hot(i):
            return lambda: ("GET", HOT[i % 4], None, kv_check(f"hot-{i % 4}"))

        def miss():
            n = next(cold, None)
            return None if n is None else ("GET", f"/v1/kv-demo/data/cold{n}", None,
                                           kv_check(f"cold-{n}"))

        def creds():
            def check(status, _, data):
                if status != 200 or not json.loads(data)["data"]["username"]:
                    return f"status {status} {data[:200]!r}"
                return None
            return ("GET", DB_CREDS, None, check)

        def clear():
            time.sleep(0.05)
            body = json.dumps({"type": "all"} if time.monotonic() % 1 < 0.5 else
                              {"type": "request_path", "value": "/v1/kv-demo/data/hot"})
            return ("POST", "/sidecar/v1/cache-clear", body,
                    lambda status, _, data: None if status == 200 else f"{status} {data!r}")

        def metrics():
            time.sleep(0.02)
            return ("GET", "/sidecar/v1/metrics", None,
                    lambda status, _, data: None if status == 200 else f"status {status}")

        jobs = [("hot", hot(i)) for i in range(6)] + [("miss", miss), ("miss", miss),
                                                       ("creds", creds), ("clear", clear),
                                                       ("metrics", metrics)]
        threads = [threading.Thread(target=client, args=job) for job in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(problems, [])
        for kind in ("hot", "miss", "creds", "clear", "metrics"):
            self.assertGreater(counts.get(kind, 0), 0, counts)
        # The clears really emptied the cache: a hot path was read from Vault more than once.
        self.assertGreater(vault.count("GET", "/v1/kv-demo/data/hot"), 4)
        status, _ = sidecar.health()
        self.assertEqual(status, 200)
