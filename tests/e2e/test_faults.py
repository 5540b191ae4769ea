"""Issue 10 item 1: fault injection against the Vault double, through the real binaries.

Already covered elsewhere and not repeated here: a revoked token under both on_renew_failure
policies (test_token_lifecycle.RenewalTest: exit 75 / degraded, one login), a wrong CA at start
(test_token_lifecycle.TlsTest), stale answers up to max_stale then 502 (test_kv_cache.StaleTest),
a delay past request_timeout for one request (test_proxy.UpstreamErrorTest).
"""
import json
import os
import re
import shutil
import subprocess
import threading
import time
import unittest

from harness import CleanExitTestCase, default_seed, request, wait_until

KV_PATH = "/v1/kv-demo/data/sample"
WRK_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrk", "count_answers.lua")
# vault::client_limits::max_connections: the sidecar's bound on connections to Vault.
UPSTREAM_CONNECTION_BOUND = 32


def logins(vault):
    return vault.count("POST", "/v1/auth/approle/login")


def counters(vault):
    return vault.control("counters", method="GET")


def secret_data(body):
    return json.loads(body)["data"]["data"]


def cache_states_while_reading(test, sidecar, seconds, interval, expected_body):
    """Reads KV_PATH every `interval` for `seconds`, asserting each read is 200 with
    `expected_body`; returns the X-Cache values seen."""
    states = set()
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        status, headers, body = sidecar.get(KV_PATH)
        test.assertEqual(status, 200, body)
        test.assertEqual(body, expected_body)
        states.add(headers["x-cache"])
        time.sleep(interval)
    return states


def errors_of(body):
    errors = json.loads(body)["errors"]
    assert isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors), body
    return errors


class OutageUnderLoadTest(CleanExitTestCase):
    """Vault down for 30 s while wrk reads one cached secret as fast as it can."""

    OUTAGE_S = 30

    def run_wrk(self, port, seconds):
        wrk = subprocess.run(
            ["wrk", "-t", "2", "-c", "16", "-d", f"{seconds}s", "--timeout", "5s",
             "-s", WRK_SCRIPT, f"http://127.0.0.1:{port}{KV_PATH}"],
            capture_output=True, text=True, timeout=seconds + 60)
        self.assertEqual(wrk.returncode, 0, wrk.stderr)
        out = wrk.stdout
        counts = json.loads(re.search(r"^wrk-counts: (\{.*\})$", out, re.M).group(1))
        total = int(re.search(r"(\d+) requests in", out).group(1))
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                                  r"timeout (\d+)", out)
        non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        return {"out": out, "counts": counts, "total": total, "rate": rate,
                "socket_errors": [int(g) for g in socket_errors.groups()] if socket_errors
                else [0, 0, 0, 0],
                "non_2xx": int(non_2xx.group(1)) if non_2xx else 0}

    @unittest.skipUnless(shutil.which("wrk"), "wrk is not installed (scripts/install-deps.sh)")
    def test_30s_outage_at_over_1000_rps_fails_nothing_and_recovers_with_one_login(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(
            f"http://127.0.0.1:{vault.port}",
            sections={"cache": {"ttl": "2s", "refresh_interval": "1s", "max_stale": "60s"},
                      "log": {"level": "info"}})
        status, _, fresh_body = sidecar.get(KV_PATH)
        self.assertEqual(status, 200)

        vault.control("down", {"seconds": self.OUTAGE_S + 1})
        down_at = time.monotonic()
        result = self.run_wrk(sidecar.port, self.OUTAGE_S)
        self.assertLess(time.monotonic() - down_at, self.OUTAGE_S + 10)
        print(f"\noutage under load: {result['total']} requests in {self.OUTAGE_S} s of Vault "
              f"down, {result['rate']:.0f} req/s, answers {result['counts']}")
        self.assertEqual(result["non_2xx"], 0, result["out"])
        self.assertEqual(result["socket_errors"], [0, 0, 0, 0], result["out"])
        self.assertGreaterEqual(result["rate"], 1000, result["out"])
        self.assertEqual(sum(result["counts"].values()), result["total"])
        self.assertGreater(result["counts"].get("200 STALE", 0), 0, result["counts"])
        status, headers, body = sidecar.get(KV_PATH)
        self.assertEqual(status, 200)
        self.assertEqual(body, fresh_body)

        def fresh_again():
            status, headers, body = sidecar.get(KV_PATH, timeout=10)
            return status == 200 and headers["x-cache"] in ("HIT", "MISS") and (headers, body)
        headers, body = wait_until(fresh_again, 20, interval=0.2, what="a fresh answer after up")
        self.assertNotIn("warning", headers)
        self.assertLessEqual(int(headers["age"]), 2)
        self.assertEqual(secret_data(body), secret_data(fresh_body))
        self.assertEqual(logins(vault), 1)
        self.assertEqual(sidecar.health()[1]["status"], "ok")


class SlowVaultTest(CleanExitTestCase):
    def test_delay_past_request_timeout_is_504_in_time_with_bounded_upstream_concurrency(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"vault": {"request_timeout": "2s",
                                                         "max_retries": "0"}})
        vault.control("delay", {"prefix": "/v1/kv-demo/", "ms": 8000})
        clients = 100
        results = [None] * clients

        def read(i):
            started = time.monotonic()
            try:
                status, _, body = sidecar.get(f"/v1/kv-demo/data/slow-{i}", timeout=30)
            except OSError as e:
                status, body = None, repr(e).encode()
            results[i] = (status, time.monotonic() - started, body)

        threads = [threading.Thread(target=read, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = [r[0] for r in results]
        self.assertEqual(statuses, [504] * clients, [r for r in results if r[0] != 504][:3])
        for _, took, body in results:
            self.assertLess(took, 2 + 3.5)  # request_timeout plus a loaded machine's margin
            errors_of(body)
        peak = counters(vault)["peak_in_flight"]
        print(f"\nslow Vault: {clients} concurrent reads, peak upstream concurrency {peak}")
        self.assertLessEqual(peak, UPSTREAM_CONNECTION_BOUND)
        self.assertGreater(peak, 1)  # the reads did go out side by side
        # No pile-up: the sidecar hung up on every timed-out request, long before the 8 s delay.
        wait_until(lambda: counters(vault)["in_flight"] == 0, 4, what="no request left in Vault")
        vault.control("clear")
        self.assertEqual(sidecar.get(KV_PATH)[0], 200)
        self.assertEqual(logins(vault), 1)


class CorruptAnswerTest(CleanExitTestCase):
    # mode -> (status through the sidecar for a miss, an error text it must contain)
    EXPECTED = {
        "malformed-json": (502, "malformed"),
        "truncated-body": (502, "malformed"),
        "short-content-length": (502, "malformed"),
        "long-content-length": (504, "request_timeout"),
        "huge-content-length": (502, "size limit"),
        "reset-mid-body": (502, "unreachable"),
    }

    def test_each_corrupt_answer_to_a_miss_is_a_clear_error_then_the_next_read_works(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"vault": {"request_timeout": "2s",
                                                         "max_retries": "0"}})
        seen = {}
        for mode, (expected, text) in self.EXPECTED.items():
            with self.subTest(mode=mode):
                vault.control("corrupt", {"prefix": KV_PATH, "count": 1, "mode": mode})
                started = time.monotonic()
                status, headers, body = sidecar.get(KV_PATH, timeout=30)
                took = time.monotonic() - started
                seen[mode] = (status, body[:200])
                self.assertEqual(status, expected, body)
                self.assertLess(took, 2 + 3.5)
                self.assertTrue(headers["content-type"].startswith("application/json"))
                self.assertIn(text, " ".join(errors_of(body)).lower())
                status, headers, body = sidecar.get(KV_PATH, timeout=30)
                self.assertEqual(status, 200, body)
                self.assertEqual(secret_data(body)["username"], "demo")
                cleared = request(sidecar.port, "/sidecar/v1/cache-clear", method="POST",
                                  body=json.dumps({"type": "all"}))
                self.assertLess(cleared[0], 300)  # the next mode meets a miss again
        print(f"\ncorrupt answers: {seen}")
        self.assertIsNone(sidecar.process.proc.poll())

    def test_http10_answer_without_length_is_read_to_the_close(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        vault.control("corrupt", {"prefix": KV_PATH, "count": 1, "mode": "http10-no-length"})
        status, headers, body = sidecar.get(KV_PATH)
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["x-cache"], "MISS")
        self.assertEqual(secret_data(body)["password"], "kv-canary-pw-5150")
        before = counters(vault)["connections_accepted"]
        self.assertEqual(sidecar.get("/v1/kv-demo/data/other")[0], 404)
        self.assertEqual(counters(vault)["connections_accepted"], before + 1)  # not reused

    def test_reset_mid_body_on_a_read_is_retried(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"vault": {"max_retries": "1"}})
        vault.control("corrupt", {"prefix": KV_PATH, "count": 1, "mode": "reset-mid-body"})
        status, _, body = sidecar.get(KV_PATH)
        self.assertEqual(status, 200, body)
        self.assertEqual(vault.count("GET", KV_PATH), 2)

    def test_corrupt_refresh_serves_stale_then_recovers(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(
            f"http://127.0.0.1:{vault.port}",
            sections={"vault": {"max_retries": "0", "request_timeout": "2s"},
                      "cache": {"ttl": "1s", "refresh_interval": "1h", "max_stale": "60s"}})
        status, _, fresh_body = sidecar.get(KV_PATH)
        self.assertEqual(status, 200)
        time.sleep(1.2)
        for mode in ("malformed-json", "truncated-body", "huge-content-length",
                     "reset-mid-body", "short-content-length"):
            with self.subTest(mode=mode):
                # Past the 1 s a failure is taken as the answer, so this read asks Vault.
                time.sleep(1.1)
                vault.control("corrupt", {"prefix": KV_PATH, "count": 1, "mode": mode})
                asked = vault.count("GET", KV_PATH)
                status, headers, body = sidecar.get(KV_PATH, timeout=30)
                self.assertEqual(vault.count("GET", KV_PATH), asked + 1)
                self.assertEqual(status, 200, body)
                self.assertEqual(headers["x-cache"], "STALE")
                self.assertEqual(headers["warning"], '110 - "Response is Stale"')
                self.assertEqual(body, fresh_body)
        time.sleep(1.1)
        status, headers, body = sidecar.get(KV_PATH)
        self.assertEqual((status, headers["x-cache"]), (200, "MISS"), body)
        self.assertEqual(secret_data(body), secret_data(fresh_body))


class SealedDuringRefreshTest(CleanExitTestCase):
    def test_sealed_vault_serves_stale_then_refresh_recovers_after_unseal(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(
            f"http://127.0.0.1:{vault.port}",
            sections={"cache": {"ttl": "2s", "refresh_interval": "1s", "max_stale": "60s"}})
        status, _, fresh_body = sidecar.get(KV_PATH)
        self.assertEqual(status, 200)
        vault.control("seal")
        sealed_at = time.monotonic()
        wait_until(lambda: any(r["status"] == 503 and r["path"] == KV_PATH
                               for r in vault.requests()), 10, what="a refresh meeting the seal")
        states = cache_states_while_reading(self, sidecar, 5 - (time.monotonic() - sealed_at), 0.2,
                                            fresh_body)
        self.assertIn("STALE", states)
        self.assertEqual(sidecar.health()[0], 200)
        vault.control("kv", {"mount": "kv-demo", "path": "sample",
                             "data": {"username": "demo", "password": "after-unseal"}})
        vault.control("unseal")

        def refreshed():
            status, headers, body = sidecar.get(KV_PATH)
            return (status == 200 and headers["x-cache"] != "STALE"
                    and secret_data(body)["password"] == "after-unseal")
        wait_until(refreshed, 10, interval=0.2, what="the refreshed secret after unseal")
        self.assertEqual(logins(vault), 1)


class RevokedTokenTest(CleanExitTestCase):
    """What test_token_lifecycle.RenewalTest does not cover: after a server-side revocation
    under serve_cached, cached entries keep being served past their TTL, nothing new is asked
    of Vault with the dead token, and there is no second login."""

    def test_serve_cached_keeps_cached_answers_asks_vault_nothing_and_never_logs_in_again(self):
        # A 4 s token: the renewal at 3.2 s finds the revocation at the latest.
        vault = self.start_double(default_seed(token_ttl=4))
        sidecar = self.start_sidecar(
            f"http://127.0.0.1:{vault.port}",
            sections={"auth": {"on_renew_failure": "serve_cached"},
                      "cache": {"ttl": "2s", "refresh_interval": "1s", "max_stale": "60s"}})
        status, _, fresh_body = sidecar.get(KV_PATH)
        self.assertEqual(status, 200)
        vault.control("revoke-all")
        status, _, body = sidecar.get("/v1/kv-demo/data/uncached")
        self.assertIn(status, (403, 503), body)

        def degraded():
            # An app keeps reading meanwhile: an entry nobody reads is dropped after its TTL.
            status, _, body = sidecar.get(KV_PATH)
            self.assertEqual(status, 200, body)
            return sidecar.health()[1]["status"] == "degraded"
        wait_until(degraded, 15, interval=0.3, what="degraded")
        asked = len(vault.requests())
        # An app keeps reading (an unread entry is dropped after its TTL): past the 2 s TTL the
        # held answer is served stale.
        states = cache_states_while_reading(self, sidecar, 3, 0.3, fresh_body)
        self.assertIn("STALE", states)
        status, _, body = sidecar.get("/v1/kv-demo/data/another")
        self.assertEqual(status, 503, body)
        errors_of(body)
        self.assertEqual(len(vault.requests()), asked)
        self.assertEqual(logins(vault), 1)
        self.assertIsNone(sidecar.process.proc.poll())


class RevokedLongLivedTokenTest(CleanExitTestCase):
    """A 1 h token revoked server-side: the renewal is 48 min away, so the sidecar learns of it
    from a read that Vault refuses with `invalid token`, checks the token at once, and applies
    the policy within check_interval (1 s here) - never logging in again."""

    def revoke_and_read(self, policy):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"auth": {"on_renew_failure": policy}})
        self.assertEqual(sidecar.get(KV_PATH)[0], 200)
        vault.control("revoke-all")
        revoked_at = time.monotonic()
        status, _, body = sidecar.get("/v1/kv-demo/data/uncached")
        self.assertEqual(status, 403, body)  # Vault's own answer, passed through
        return vault, sidecar, revoked_at

    def test_policy_exit_exits_75_right_after_a_refused_read(self):
        vault, sidecar, revoked_at = self.revoke_and_read("exit")
        self.assertEqual(sidecar.wait_exit(15), 75, sidecar.log())
        self.assertLess(time.monotonic() - revoked_at, 1 + 5)  # check_interval + margin
        self.assertIn("Vault called the token invalid", sidecar.log())
        self.assertEqual(vault.count("POST", "/v1/auth/token/renew-self"), 1)
        self.assertEqual(logins(vault), 1)

    def test_policy_serve_cached_degrades_right_after_a_refused_read(self):
        vault, sidecar, _ = self.revoke_and_read("serve_cached")
        wait_until(lambda: sidecar.health()[1]["status"] == "degraded", 6, what="degraded")
        status, headers, _ = sidecar.get(KV_PATH)
        self.assertEqual(status, 200)  # still held, still fresh
        self.assertEqual(logins(vault), 1)


def make_certificates(directory):
    """Two CAs with the openssl CLI: ca1 signs server-a and server-b, ca2 signs server-c; every
    server certificate is for 127.0.0.1."""
    os.makedirs(directory, exist_ok=True)

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory,
                       timeout=30)
    with open(os.path.join(directory, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for ca in ("ca1", "ca2"):
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{ca}-key.pem", "-out", f"{ca}.pem", "-days", "2", "-subj", f"/CN={ca}")
    for server, ca in (("server-a", "ca1"), ("server-b", "ca1"), ("server-c", "ca2")):
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{server}-key.pem", "-out", f"{server}.csr", "-subj", "/CN=127.0.0.1")
        run("x509", "-req", "-in", f"{server}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}-key.pem",
            "-CAcreateserial", "-out", f"{server}.pem", "-days", "2", "-extfile", "san.ext")
    return {name: os.path.join(directory, name) for name in os.listdir(directory)}


class CertificateChangeTest(CleanExitTestCase):
    def test_new_cert_same_ca_keeps_working_other_ca_fails_clearly_with_stale_served(self):
        certs = make_certificates(os.path.join(self.workdir, "certs"))
        vault = self.start_double(extra_args=("--tls-cert", certs["server-a.pem"],
                                              "--tls-key", certs["server-a-key.pem"]))
        sidecar = self.start_sidecar(
            f"https://127.0.0.1:{vault.port}",
            sections={"vault": {"ca_cert": certs["ca1.pem"], "max_retries": "0"},
                      "cache": {"ttl": "1s", "refresh_interval": "1h", "max_stale": "60s"}})
        status, _, fresh_body = sidecar.get(KV_PATH)
        self.assertEqual(status, 200)

        # Same CA: the open connections are cut, new ones verify.
        vault.control("tls", {"cert_file": certs["server-b.pem"],
                              "key_file": certs["server-b-key.pem"]})
        before = counters(vault)["connections_accepted"]
        status, headers, body = sidecar.get("/v1/kv-demo/data/sample?version=1")
        self.assertEqual((status, headers["x-cache"]), (200, "MISS"), body)
        self.assertGreater(counters(vault)["connections_accepted"], before)

        # Another CA: every new connection fails verification.
        vault.control("tls", {"cert_file": certs["server-c.pem"],
                              "key_file": certs["server-c-key.pem"]})
        status, _, body = sidecar.get("/v1/kv-demo/data/uncached", timeout=30)
        self.assertEqual(status, 502, body)
        self.assertTrue(any("tls" in e.lower() or "certificate" in e.lower()
                            for e in errors_of(body)), body)
        time.sleep(1.2)
        status, headers, body = sidecar.get(KV_PATH, timeout=30)
        self.assertEqual((status, headers["x-cache"]), (200, "STALE"), body)
        self.assertEqual(body, fresh_body)
        self.assertIn("certificate verify failed", sidecar.log())
        self.assertIsNone(sidecar.process.proc.poll())

        vault.control("tls", {"cert_file": certs["server-a.pem"],
                              "key_file": certs["server-a-key.pem"]})
        status, headers, body = sidecar.get("/v1/kv-demo/data/uncached", timeout=30)
        self.assertEqual(status, 404, body)  # Vault's own answer again: the secret does not exist
        self.assertEqual(logins(vault), 1)


if __name__ == "__main__":
    unittest.main()
