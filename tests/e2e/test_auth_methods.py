"""Issue 20 end to end: auth methods other than a plain AppRole secret_id, against the double.

token_file; Kubernetes and JWT logins against roles with accepted JWTs (the double stands in
for the TokenReview API or the signature check), with the credential rotated on disk and the
token driven to its max TTL; a response-wrapped AppRole secret_id; and what the configuration
refuses before anything is sent. Every sidecar logs at trace level, and no JWT, token or
secret_id may appear in its log or the double's."""

import json
import os
import threading
import time
import unittest

from harness import (DB_CREDS, ROLE_ID, SECRET_ID, E2ETestCase, default_seed, fetch_creds,
                     lookup_lease, request, root_token, wait_until, write_file)

KV = "/v1/kv-demo/data/sample"


class TokenFileTest(E2ETestCase):
    def token_file_sidecar(self, vault, ttl, renewable=True):
        token = vault.control("token", {"policies": ["app"], "ttl": ttl,
                                        "renewable": renewable})["token"]
        token_path = write_file(os.path.join(self.workdir, "secrets", "vault-token"), token + "\n")
        sidecar = self.start_sidecar(
            f"http://127.0.0.1:{vault.port}",
            {"auth": {"method": "token_file", "token_file": token_path},
             "log": {"level": "trace"}},
            write_credentials=False)
        return token, sidecar

    def test_no_login_renew_self_and_no_revoke_at_shutdown(self):
        vault = self.start_double()
        token, sidecar = self.token_file_sidecar(vault, ttl=3)
        status, _, _ = sidecar.get(KV)
        self.assertEqual(status, 200)
        self.assertEqual(vault.count("GET", "/v1/auth/token/lookup-self"), 1)
        # Renewed at 4/5 of the 3 s TTL (2.4 s), then again: the token stays alive.
        wait_until(lambda: vault.count("POST", "/v1/auth/token/renew-self") >= 2, 10,
                   what="two renew-self calls")
        status, _, _ = sidecar.get(KV)
        self.assertEqual(status, 200)
        _, health = sidecar.health()
        self.assertEqual(health["token"]["method"], "token_file")
        self.assertEqual(health["token"]["logins"], 0)
        self.assertEqual(sidecar.stop(), 0)
        for request in vault.requests():
            self.assertNotIn("/login", request["path"])
        self.assertEqual(vault.count("POST", "/v1/auth/token/revoke-self"), 0)
        log = sidecar.log()
        self.assertIn("using the token from", log)
        self.assertNotIn(token, log)

    def test_a_non_renewable_token_is_used_until_it_ends_then_the_policy_applies(self):
        vault = self.start_double()
        _, sidecar = self.token_file_sidecar(vault, ttl=2, renewable=False)
        self.assertEqual(sidecar.get(KV)[0], 200)
        self.assertEqual(sidecar.wait_exit(10), 75)  # on_renew_failure = exit
        self.assertEqual(vault.count("POST", "/v1/auth/token/renew-self"), 0)
        self.assertIn("is not renewable", sidecar.log())

    def test_a_missing_token_file_is_a_config_error_naming_it(self):
        vault = self.start_double()
        path = os.path.join(self.workdir, "absent-token")
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     {"auth": {"method": "token_file", "token_file": path}},
                                     wait_ready=False, write_credentials=False)
        self.assertEqual(sidecar.wait_exit(15), 78)
        self.assertIn(f"cannot open token file {path}", sidecar.log())
        self.assertEqual(vault.requests(), [])

    def test_a_revoked_token_is_a_refused_login(self):
        vault = self.start_double()
        token_path = write_file(os.path.join(self.workdir, "vault-token"), "hvs.not-a-token\n")
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     {"auth": {"method": "token_file", "token_file": token_path}},
                                     wait_ready=False, write_credentials=False)
        self.assertEqual(sidecar.wait_exit(15), 77)
        self.assertIn("permission denied", sidecar.log())


class PlatformLoginTest(E2ETestCase):
    JWT = "eyJhbGciOiJSUzI1NiJ9.JWT-CANARY-e2e.c2lnbmF0dXJl"

    def test_a_refused_kubernetes_login_exits_77_with_vaults_reason_and_no_jwt_logged(self):
        vault = self.start_double()
        jwt_path = write_file(os.path.join(self.workdir, "sa", "token"), self.JWT + "\n")
        sidecar = self.start_sidecar(
            f"http://127.0.0.1:{vault.port}",
            {"auth": {"method": "kubernetes", "role": "app", "jwt_file": jwt_path},
             "log": {"level": "trace"}},
            wait_ready=False, write_credentials=False)
        self.assertEqual(sidecar.wait_exit(15), 77)
        logins = [r for r in vault.requests() if r["path"] == "/v1/auth/kubernetes/login"]
        self.assertEqual(len(logins), 1)
        log = sidecar.log()
        self.assertIn("login refused by Vault", log)
        self.assertNotIn("JWT-CANARY", log)

    def test_a_missing_jwt_file_is_a_config_error_naming_it(self):
        vault = self.start_double()
        path = os.path.join(self.workdir, "no-such-token")
        sidecar = self.start_sidecar(
            f"http://127.0.0.1:{vault.port}",
            {"auth": {"method": "jwt", "role": "ci", "jwt_file": path}},
            wait_ready=False, write_credentials=False)
        self.assertEqual(sidecar.wait_exit(15), 78)
        self.assertIn(f"cannot open JWT file {path}", sidecar.log())
        self.assertEqual(vault.requests(), [])

    def test_relogin_on_expiry_with_approle_is_refused_citing_the_rule(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     {"auth": {"relogin": "on_expiry"}}, wait_ready=False)
        self.assertEqual(sidecar.wait_exit(15), 78)
        self.assertIn("never log in again after a failed renewal", sidecar.log())
        self.assertEqual(vault.requests(), [])


# --- Kubernetes and JWT logins (issue 20 parts 1, 2 and 4) ---

JWT_ONE = "eyJhbGciOiJSUzI1NiJ9.JWT-ONE-CANARY-7d1f.c2ln"
JWT_TWO = "eyJhbGciOiJSUzI1NiJ9.JWT-TWO-CANARY-9b3c.c2ln"
CANARIES = ("JWT-ONE-CANARY", "JWT-TWO-CANARY", SECRET_ID, ROLE_ID)


def platform_seed(mount, role, token_ttl=3600, token_max_ttl=0):
    seed = default_seed(token_ttl=token_ttl, token_max_ttl=token_max_ttl)
    seed["jwt_roles"] = [{"mount": mount, "name": role, "policies": ["app"],
                          "token_ttl": token_ttl, "token_max_ttl": token_max_ttl,
                          "jwts": [{"jwt": JWT_ONE, "subject": "sa-one"}]}]
    return seed


class ReaderThread(threading.Thread):
    """Reads a KV secret and the creds through the sidecar every 100 ms until stopped, and
    keeps every answer that was not a 200: a caller must never see the token change hands."""

    def __init__(self, sidecar):
        super().__init__(daemon=True)
        self.sidecar, self.failures, self.reads = sidecar, [], 0
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            for path in (KV, DB_CREDS):
                status, _, body = self.sidecar.get(path)
                self.reads += 1
                if status != 200:
                    self.failures.append((path, status, body[:200]))
            time.sleep(0.1)

    def stop(self):
        self._halt.set()
        self.join(10)


class PlatformMethodCase:
    """Shared by the Kubernetes and JWT suites (a mixin, so it never runs on its own): the same
    request shape, another mount and role."""

    METHOD = MOUNT = ROLE = None

    def platform_sidecar(self, vault, extra_auth=None):
        self.jwt_path = write_file(os.path.join(self.workdir, "sa", "token"), JWT_ONE + "\n")
        auth = {"method": self.METHOD, "role": self.ROLE, "jwt_file": self.jwt_path}
        auth.update(extra_auth or {})
        return self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                  {"auth": auth, "log": {"level": "trace"}},
                                  write_credentials=False)

    def logins(self, vault):
        return [l for l in vault.control("logins", method="GET") if l["mount"] == self.MOUNT]

    def assert_nothing_secret_logged(self, vault, sidecar):
        tokens = {r["token"] for r in vault.requests() if r["token"]}
        self.assertTrue(tokens, "the sidecar used no token at all")
        for log in (sidecar.log(), vault.process.log()):
            for canary in CANARIES:
                self.assertNotIn(canary, log)
            for token in tokens:
                self.assertNotIn(token, log)

    def test_login_reads_and_renewal_at_four_fifths(self):
        vault = self.start_double(platform_seed(self.MOUNT, self.ROLE, token_ttl=3))
        sidecar = self.platform_sidecar(vault)
        self.assertEqual(sidecar.get(KV)[0], 200)
        self.assertEqual(fetch_creds(sidecar).status, 200)
        wait_until(lambda: vault.count("POST", "/v1/auth/token/renew-self") >= 1, 10,
                   what="a renew-self")
        requests = vault.requests()
        login = next(r for r in requests if r["path"] == f"/v1/auth/{self.MOUNT}/login")
        renewal = next(r for r in requests if r["path"] == "/v1/auth/token/renew-self")
        self.assertEqual(login["status"], 200)
        # 4/5 of the 3 s TTL: 2.4 s after the login (the double stamps answers, not requests).
        self.assertGreaterEqual(renewal["at_ms"] - login["at_ms"], 2200)
        self.assertLessEqual(renewal["at_ms"] - login["at_ms"], 2900)
        self.assertEqual(renewal["token"], next(r["token"] for r in requests if r["token"]))
        self.assertEqual(len(self.logins(vault)), 1)
        _, health = sidecar.health()
        self.assertEqual(health["token"]["method"], self.METHOD)
        self.assertEqual(health["token"]["logins"], 1)
        self.assertEqual(sidecar.stop(), 0)
        self.assert_nothing_secret_logged(vault, sidecar)

    def test_a_rotated_jwt_and_the_max_ttl_mean_one_new_login_with_the_new_jwt(self):
        # TTL 3 s, max 5 s: renewed at 2.4 s (capped at the max), so the token cannot live past
        # 5 s; a new login comes at 4/5 of what the capped renewal granted.
        vault = self.start_double(platform_seed(self.MOUNT, self.ROLE, token_ttl=3,
                                                token_max_ttl=5))
        sidecar = self.platform_sidecar(vault)
        first_creds = fetch_creds(sidecar)
        self.assertEqual(first_creds.status, 200)
        reader = ReaderThread(sidecar)
        reader.start()
        # The platform rotates the service-account token on disk; the new one is the one the
        # role accepts from now on (the old one expires with the minute).
        vault.control("jwt", {"mount": self.MOUNT, "role": self.ROLE, "jwt": JWT_TWO,
                              "subject": "sa-two"})
        write_file(self.jwt_path, JWT_TWO + "\n")
        try:
            wait_until(lambda: len(self.logins(vault)) >= 2, 15, what="a second login")
            # The first token has ended: leases it held are gone in Vault too, so the creds
            # served now must be a new lease, alive in Vault.
            time.sleep(1.5)
        finally:
            reader.stop()
        logins = self.logins(vault)
        self.assertEqual([(l["subject"], l["status"]) for l in logins],
                         [("sa-one", 200), ("sa-two", 200)])
        self.assertEqual(reader.failures, [])
        self.assertGreater(reader.reads, 20)
        creds = fetch_creds(sidecar)
        self.assertEqual(creds.status, 200)
        self.assertNotEqual(creds.lease_id, first_creds.lease_id)
        self.assertEqual(lookup_lease(vault, root_token(vault), creds.lease_id)[0], 200)
        self.assertEqual(lookup_lease(vault, root_token(vault), first_creds.lease_id)[0], 400)
        creds_reads = [r for r in vault.requests() if r["path"] == DB_CREDS]
        self.assertEqual(len(creds_reads), 2)
        self.assertNotEqual(creds_reads[0]["token"], creds_reads[1]["token"])
        # Which of the two a run sees depends on where the whole seconds of Vault's max-TTL
        # arithmetic fall: a capped renewal, then a new login at 4/5 of what it granted; or a
        # renewal refused as past the max TTL, then a new login at once.
        self.assertRegex(sidecar.log(), "the token cannot be renewed any more|past the max TTL")
        self.assert_nothing_secret_logged(vault, sidecar)

    def test_a_revoked_token_means_one_new_login(self):
        vault = self.start_double(platform_seed(self.MOUNT, self.ROLE, token_ttl=3))
        sidecar = self.platform_sidecar(vault)
        self.assertEqual(sidecar.get(KV)[0], 200)
        vault.control("revoke-all")
        # The renewal at 2.4 s is refused (invalid token): relogin = on_expiry logs in again.
        wait_until(lambda: len(self.logins(vault)) >= 2, 10, what="a second login")
        time.sleep(1)
        self.assertEqual(len(self.logins(vault)), 2)
        self.assertEqual(sidecar.get(KV)[0], 200)
        self.assertEqual(fetch_creds(sidecar).status, 200)
        _, health = sidecar.health()
        self.assertEqual(health["token"]["status"], "ok")
        self.assertIn("Vault refused the token", sidecar.log())
        self.assert_nothing_secret_logged(vault, sidecar)

    def test_an_expired_jwt_is_a_refused_login_with_vaults_reason(self):
        vault = self.start_double(platform_seed(self.MOUNT, self.ROLE))
        vault.control("jwt", {"mount": self.MOUNT, "role": self.ROLE, "jwt": JWT_TWO,
                              "subject": "sa-two", "ttl": 1})
        time.sleep(1.2)
        jwt_path = write_file(os.path.join(self.workdir, "sa", "token"), JWT_TWO + "\n")
        sidecar = self.start_sidecar(
            f"http://127.0.0.1:{vault.port}",
            {"auth": {"method": self.METHOD, "role": self.ROLE, "jwt_file": jwt_path},
             "log": {"level": "trace"}},
            wait_ready=False, write_credentials=False)
        self.assertEqual(sidecar.wait_exit(15), 77)
        self.assertIn("token is expired", sidecar.log())
        self.assertEqual(len(self.logins(vault)), 1)
        for canary in CANARIES:
            self.assertNotIn(canary, sidecar.log())


class KubernetesLoginTest(PlatformMethodCase, E2ETestCase):
    METHOD = MOUNT = "kubernetes"
    ROLE = "app"


class JwtLoginTest(PlatformMethodCase, E2ETestCase):
    METHOD = MOUNT = "jwt"
    ROLE = "ci"


class CertLoginTest(E2ETestCase):
    """cert: the client certificate of the TLS connection is the credential; the double asks
    for one as Vault's listener does and maps it to the role whose certificate vouches for it."""

    def cert_setup(self, trusted="ca.pem", token_ttl=3):
        tls_dir = os.path.join(self.workdir, "tls")
        seed = default_seed(token_ttl=token_ttl)
        seed["cert_roles"] = [{"name": "web", "certificate_file": os.path.join(tls_dir, trusted),
                               "policies": ["app"], "token_ttl": token_ttl}]
        vault = self.start_double(seed, extra_args=("--tls-self-signed", tls_dir,
                                                    "--tls-request-client-cert"))
        sections = {"vault": {"ca_cert": f"{tls_dir}/ca.pem",
                              "client_cert": f"{tls_dir}/client.pem",
                              "client_key": f"{tls_dir}/client-key.pem"},
                    "auth": {"method": "cert", "role": "web"},
                    "log": {"level": "trace"}}
        return vault, f"https://127.0.0.1:{vault.port}", sections

    def cert_logins(self, vault):
        return [l for l in vault.control("logins", method="GET") if l["mount"] == "cert"]

    def test_login_reads_and_renewal_at_four_fifths(self):
        vault, address, sections = self.cert_setup()
        sidecar = self.start_sidecar(address, sections, write_credentials=False)
        self.assertEqual(sidecar.get(KV)[0], 200)
        self.assertEqual(fetch_creds(sidecar).status, 200)
        wait_until(lambda: vault.count("POST", "/v1/auth/token/renew-self") >= 1, 10,
                   what="a renew-self")
        requests = vault.requests()
        login = next(r for r in requests if r["path"] == "/v1/auth/cert/login")
        renewal = next(r for r in requests if r["path"] == "/v1/auth/token/renew-self")
        self.assertGreaterEqual(renewal["at_ms"] - login["at_ms"], 2200)
        self.assertLessEqual(renewal["at_ms"] - login["at_ms"], 2900)
        self.assertEqual(self.cert_logins(vault),
                         [{"mount": "cert", "role": "web", "subject": "vault-sidecar client",
                           "status": 200}])
        _, health = sidecar.health()
        self.assertEqual(health["token"]["method"], "cert")
        self.assertEqual(sidecar.stop(), 0)
        for token in {r["token"] for r in vault.requests() if r["token"]}:
            self.assertNotIn(token, sidecar.log())

    def test_a_revoked_token_means_one_new_login(self):
        vault, address, sections = self.cert_setup()
        sidecar = self.start_sidecar(address, sections, write_credentials=False)
        self.assertEqual(sidecar.get(KV)[0], 200)
        vault.control("revoke-all")
        wait_until(lambda: len(self.cert_logins(vault)) >= 2, 10, what="a second login")
        time.sleep(1)
        self.assertEqual(len(self.cert_logins(vault)), 2)
        self.assertEqual(sidecar.get(KV)[0], 200)
        self.assertEqual(fetch_creds(sidecar).status, 200)

    def test_a_certificate_no_role_trusts_is_a_refused_login(self):
        vault, address, sections = self.cert_setup(trusted="server.pem")
        sidecar = self.start_sidecar(address, sections, wait_ready=False,
                                     write_credentials=False)
        self.assertEqual(sidecar.wait_exit(15), 77)
        self.assertIn("invalid certificate or no client certificate supplied", sidecar.log())
        self.assertEqual(self.cert_logins(vault)[0]["status"], 400)


class AppRoleMaxTtlTest(E2ETestCase):
    def test_approle_at_its_max_ttl_never_logs_in_again(self):
        vault = self.start_double(default_seed(token_ttl=3, token_max_ttl=5))
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     {"log": {"level": "trace"}})
        self.assertEqual(sidecar.get(KV)[0], 200)
        self.assertEqual(sidecar.wait_exit(15), 75)  # on_renew_failure = exit, at the max TTL
        self.assertEqual(vault.count("POST", "/v1/auth/approle/login"), 1)
        self.assertGreaterEqual(vault.count("POST", "/v1/auth/token/renew-self"), 1)
        self.assertIn("max TTL", sidecar.log())


# --- A response-wrapped secret_id (issue 20 part 3) ---

WRAPPED_FROM = "auth/approle/role/app/secret-id"


def wrap_secret_id(vault, path="/v1/" + WRAPPED_FROM, body=None):
    """What a trusted orchestrator does: asks Vault for a wrapped answer; the wrapping token."""
    status, _, data = request(vault.port, path, method="POST",
                              headers={"X-Vault-Token": root_token(vault),
                                       "X-Vault-Wrap-TTL": "60s"},
                              body=json.dumps(body) if body is not None else None)
    if status != 200:
        raise AssertionError(f"wrapping {path}: {status} {data!r}")
    info = json.loads(data)["wrap_info"]
    return info["token"]


class WrappedSecretIdTest(E2ETestCase):
    def wrapped_sidecar(self, vault, wrapping_token, subdir, wait_ready=True):
        secret_path = write_file(os.path.join(self.workdir, subdir + "-in", "secret_id"),
                                 wrapping_token + "\n")
        role_path = write_file(os.path.join(self.workdir, subdir + "-in", "role_id"),
                               ROLE_ID + "\n")
        sidecar = self.start_sidecar(
            f"http://127.0.0.1:{vault.port}",
            {"auth": {"role_id_file": role_path, "secret_id_file": secret_path,
                      "secret_id_response_wrapping_path": WRAPPED_FROM,
                      "remove_secret_id_file_after_reading": "true"},
             "log": {"level": "trace"}},
            subdir=subdir, wait_ready=wait_ready, write_credentials=False)
        return sidecar, secret_path

    def assert_no_secrets(self, vault, logs, wrapping_token):
        tokens = {r["token"] for r in vault.requests() if r["token"]}
        for log in logs + [vault.process.log()]:
            self.assertNotIn(wrapping_token, log)
            for token in tokens:
                self.assertNotIn(token, log)

    def test_a_good_wrapping_token_works_once(self):
        vault = self.start_double()
        wrapping_token = wrap_secret_id(vault)
        sidecar, secret_path = self.wrapped_sidecar(vault, wrapping_token, "first")
        self.assertEqual(sidecar.get(KV)[0], 200)
        self.assertEqual(fetch_creds(sidecar).status, 200)
        self.assertFalse(os.path.exists(secret_path))  # removed after the unwrap
        self.assertEqual(vault.count("POST", "/v1/sys/wrapping/lookup"), 1)
        self.assertEqual(vault.count("POST", "/v1/sys/wrapping/unwrap"), 1)
        self.assertEqual(vault.count("POST", "/v1/auth/approle/login"), 1)
        self.assertIn("unwrapped the secret_id", sidecar.log())

        # The same token a second time (replayed, or intercepted and used): refused, nothing
        # unwrapped, and the file stays for whoever investigates.
        second, second_path = self.wrapped_sidecar(vault, wrapping_token, "second",
                                                   wait_ready=False)
        self.assertEqual(second.wait_exit(15), 77)
        self.assertIn("wrapping token is not valid or does not exist", second.log())
        self.assertEqual(vault.count("POST", "/v1/sys/wrapping/unwrap"), 1)
        self.assertEqual(vault.count("POST", "/v1/auth/approle/login"), 1)
        self.assertTrue(os.path.exists(second_path))
        self.assertEqual(sidecar.stop(), 0)
        self.assert_no_secrets(vault, [sidecar.log(), second.log()], wrapping_token)

    def test_a_token_wrapped_for_another_path_is_refused_without_unwrapping_it(self):
        vault = self.start_double()
        # Someone wrapped a secret_id of their choosing: sys/wrapping/wrap, not the role's path.
        wrapping_token = wrap_secret_id(vault, "/v1/sys/wrapping/wrap", {"secret_id": SECRET_ID})
        sidecar, secret_path = self.wrapped_sidecar(vault, wrapping_token, "sidecar",
                                                    wait_ready=False)
        self.assertEqual(sidecar.wait_exit(15), 77)
        log = sidecar.log()
        self.assertIn("the wrapping token was created by sys/wrapping/wrap", log)
        self.assertEqual(vault.count("POST", "/v1/sys/wrapping/lookup"), 1)
        self.assertEqual(vault.count("POST", "/v1/sys/wrapping/unwrap"), 0)
        self.assertEqual(vault.count("POST", "/v1/auth/approle/login"), 0)
        self.assertTrue(os.path.exists(secret_path))
        self.assert_no_secrets(vault, [log], wrapping_token)
        self.assertNotIn(SECRET_ID, log)


if __name__ == "__main__":
    unittest.main()
