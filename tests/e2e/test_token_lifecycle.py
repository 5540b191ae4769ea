"""Issue 3 end to end: AppRole login, renewal at 4/5 of the TTL, no second login, policies."""
import os
import signal
import time
import unittest

from harness import (ROLE_ID, SECRET_ID, E2ETestCase, default_seed, free_port, wait_until)


class LoginTest(E2ETestCase):
    def test_login_once_and_stop_cleanly_on_sigterm(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        self.assertEqual(vault.count("POST", "/v1/auth/approle/login"), 1)
        sidecar.process.signal(signal.SIGTERM)
        self.assertEqual(sidecar.wait_exit(15), 0)
        self.assertIn("vault-sidecar stopped (exit code 0)", sidecar.log())

    def test_refused_login_exits_77_after_one_request(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", wait_ready=False,
                                     write_credentials=False,
                                     env={"VAULT_ROLE_ID": ROLE_ID, "VAULT_SECRET_ID": "wrong"})
        self.assertEqual(sidecar.wait_exit(20), 77)
        self.assertEqual(vault.count("POST", "/v1/auth/approle/login"), 1)
        self.assertIn("invalid role or secret ID", sidecar.log())

    def test_unreachable_vault_exits_69_at_login_timeout(self):
        port = free_port()  # nothing listens there
        started = time.monotonic()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{port}", wait_ready=False,
                                     sections={"auth": {"login_timeout": "3s"}})
        self.assertEqual(sidecar.wait_exit(30), 69)
        elapsed = time.monotonic() - started
        self.assertGreaterEqual(elapsed, 2.5)
        self.assertLess(elapsed, 20)

    def test_vault_back_before_the_deadline_logs_in(self):
        vault = self.start_double()
        vault.control("down")
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", wait_ready=False,
                                     sections={"auth": {"login_timeout": "30s"}})
        time.sleep(2.5)
        self.assertIsNone(sidecar.process.proc.poll())
        self.assertEqual(sidecar.health()[0], 503)  # listening, not logged in yet
        vault.control("up")
        sidecar.wait_ready(30)
        self.assertEqual(vault.count("POST", "/v1/auth/approle/login"), 1)


class RenewalTest(E2ETestCase):
    def renew_times(self, vault, seconds):
        """Polls the double's request log; returns the monotonic times renew-self calls appeared."""
        seen, times = 0, []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            count = vault.count("POST", "/v1/auth/token/renew-self")
            now = time.monotonic()
            times.extend([now] * (count - seen))
            seen = count
            time.sleep(0.1)
        return times

    def test_renews_at_four_fifths_of_a_6s_ttl_and_never_logs_in_again(self):
        vault = self.start_double(default_seed(token_ttl=6))
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        issued = time.monotonic()
        times = self.renew_times(vault, 20)
        self.assertGreaterEqual(len(times), 3, sidecar.log())
        previous = issued
        for t in times[:3]:
            self.assertAlmostEqual(t - previous, 4.8, delta=1.0)
            previous = t
        self.assertEqual(vault.count("POST", "/v1/auth/approle/login"), 1)
        status, health = sidecar.health()
        self.assertEqual(status, 200)
        self.assertEqual(health["token"]["status"], "ok")

    def test_capped_at_max_ttl_warns_then_exits_75_without_a_second_login(self):
        vault = self.start_double(default_seed(token_ttl=4, token_max_ttl=7))
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        self.assertEqual(sidecar.wait_exit(25), 75, sidecar.log())
        log = sidecar.log()
        self.assertIn("max", log.lower())
        self.assertEqual(vault.count("POST", "/v1/auth/approle/login"), 1)

    def test_revoked_token_exits_75_with_policy_exit(self):
        vault = self.start_double(default_seed(token_ttl=4))
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        vault.control("revoke-all")
        self.assertEqual(sidecar.wait_exit(15), 75, sidecar.log())
        self.assertEqual(vault.count("POST", "/v1/auth/approle/login"), 1)

    def test_revoked_token_with_serve_cached_keeps_running_degraded(self):
        vault = self.start_double(default_seed(token_ttl=4))
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"auth": {"on_renew_failure": "serve_cached"}})
        status, _, _ = sidecar.get("/v1/kv-demo/data/sample")
        self.assertEqual(status, 200)
        vault.control("revoke-all")
        wait_until(lambda: sidecar.health()[1]["status"] == "degraded", 15, what="degraded")
        self.assertIsNone(sidecar.process.proc.poll())
        status, headers, _ = sidecar.get("/v1/kv-demo/data/sample")
        self.assertEqual(status, 200)  # still served from the cache
        self.assertEqual(vault.count("POST", "/v1/auth/approle/login"), 1)

    def test_503_burst_at_the_renewal_point_is_retried_and_recovers(self):
        # 15 s TTL: renewal due at 12 s; two 503s are retried at the 1 s checks before expiry.
        vault = self.start_double(default_seed(token_ttl=15))
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        vault.control("fail", {"prefix": "/v1/auth/token/renew-self", "count": 2, "status": 503})
        wait_until(lambda: vault.count("POST", "/v1/auth/token/renew-self") >= 3, 25,
                   what="three renew-self attempts")
        time.sleep(1)
        status, health = sidecar.health()
        self.assertEqual(status, 200, sidecar.log())
        self.assertEqual(health["token"]["status"], "ok")
        self.assertGreaterEqual(health["token"]["renewals"], 1)
        self.assertIsNone(sidecar.process.proc.poll())


class SecretsNeverLoggedTest(E2ETestCase):
    def test_trace_log_holds_no_token_role_id_or_secret_id(self):
        vault = self.start_double(default_seed(token_ttl=3))
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"log": {"level": "trace"}})
        self.assertEqual(sidecar.get("/v1/kv-demo/data/sample")[0], 200)
        wait_until(lambda: vault.count("POST", "/v1/auth/token/renew-self") >= 2, 15,
                   what="two renewals")
        tokens = {r["token"] for r in vault.requests() if r["token"]}
        self.assertTrue(tokens)
        sidecar.stop()
        log = sidecar.log()
        for canary in [ROLE_ID, SECRET_ID, "kv-canary-pw-5150", *tokens]:
            self.assertNotIn(canary, log)


class TlsTest(E2ETestCase):
    def start_tls_double(self, extra=()):
        tls_dir = os.path.join(self.workdir, "tls")
        vault = self.start_double(extra_args=("--tls-self-signed", tls_dir, *extra))
        return vault, tls_dir

    def test_works_with_the_right_ca(self):
        vault, tls_dir = self.start_tls_double()
        sidecar = self.start_sidecar(f"https://127.0.0.1:{vault.port}",
                                     sections={"vault": {"ca_cert": f"{tls_dir}/ca.pem"}})
        self.assertEqual(sidecar.get("/v1/kv-demo/data/sample")[0], 200)

    def test_another_ca_fails_naming_certificate_verification(self):
        vault, _ = self.start_tls_double()
        other = self.start_double(extra_args=("--tls-self-signed",
                                              os.path.join(self.workdir, "other-tls")),
                                  subdir="other")
        sidecar = self.start_sidecar(
            f"https://127.0.0.1:{vault.port}", wait_ready=False,
            sections={"vault": {"ca_cert": f"{self.workdir}/other-tls/ca.pem"},
                      "auth": {"login_timeout": "2s"}})
        self.assertEqual(sidecar.wait_exit(30), 69)
        self.assertIn("certificate verify failed", sidecar.log())
        del other

    def test_mtls_works_with_client_cert_and_fails_without(self):
        vault, tls_dir = self.start_tls_double(extra=("--require-client-cert",))
        good = self.start_sidecar(
            f"https://127.0.0.1:{vault.port}", subdir="good",
            sections={"vault": {"ca_cert": f"{tls_dir}/ca.pem",
                                "client_cert": f"{tls_dir}/client.pem",
                                "client_key": f"{tls_dir}/client-key.pem"}})
        self.assertEqual(good.get("/v1/kv-demo/data/sample")[0], 200)
        bad = self.start_sidecar(
            f"https://127.0.0.1:{vault.port}", subdir="bad", wait_ready=False,
            sections={"vault": {"ca_cert": f"{tls_dir}/ca.pem"}, "auth": {"login_timeout": "2s"}})
        self.assertEqual(bad.wait_exit(30), 69)


if __name__ == "__main__":
    unittest.main()
