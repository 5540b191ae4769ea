"""Issues 18 and 17: Vault clients work unchanged through the sidecar.

The Vault CLI's request sequences, sent exactly as the CLI sends them (its headers included);
hvac, Debian's python3-hvac, the most used Python client, as an app runs it; the token
housekeeping that clients do, answered by the sidecar about the caller's own token over TCP and
the unix socket; and the query a KV read keeps (junk dropped, `list` decided on the decoded
query, versions cached apart, a write seen by the writer's next read). The double's request log
shows what reached Vault.
"""
import json
import os
import sys
import unittest

from harness import CleanExitTestCase, request

KV_PATH = "/v1/kv-demo/data/sample"
CANARY = "kv-canary-pw-5150"
PREFLIGHT = "/v1/sys/internal/ui/mounts/"
# What the Vault CLI (command/kv_helpers.go, api.Client) puts on every request: its token, the
# SSRF marker Vault Agent and Proxy may require, its User-Agent, and Go's default gzip offer.
CLI_HEADERS = {
    "X-Vault-Token": "hvs.app-has-no-real-token",
    "X-Vault-Request": "true",
    "User-Agent": "Vault/v1.17.0 (+https://www.vaultproject.io/; go1.22.5)",
    "Accept-Encoding": "gzip",
}


def import_hvac():
    """hvac from Debian's python3-hvac (scripts/install-deps.sh). CTest may run a Python other
    than /usr/bin/python3 (a pyenv one, say), which does not see Debian's dist-packages; hvac and
    requests are pure Python, so that directory is added for them."""
    try:
        import hvac  # noqa: F401
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
    import hvac
    return hvac


class ClientsBase(CleanExitTestCase):
    def start(self, sections=None):
        self.vault = self.start_double()
        self.socket_path = os.path.join(self.workdir, "sidecar.sock")
        listener = {"unix_socket": self.socket_path, "socket_mode": "0600"}
        merged = {"listener": listener}
        for section, keys in (sections or {}).items():
            merged.setdefault(section, {}).update(keys)
        self.sidecar = self.start_sidecar(f"http://127.0.0.1:{self.vault.port}", sections=merged)
        return self.sidecar

    def cli(self, path, method="GET", unix=False, headers=None, body=None):
        """One request as the Vault CLI sends it; (status, headers, parsed body or None)."""
        sent = dict(CLI_HEADERS)
        sent.update(headers or {})
        status, got, data = request(self.sidecar.port, path, method=method, headers=sent,
                                    body=body, unix_socket=self.socket_path if unix else None)
        return status, got, (json.loads(data) if data else None)

    def upstream(self, path, method="GET"):
        """The requests for exactly `path` that reached the double."""
        return [r for r in self.vault.requests() if r["path"] == path and r["method"] == method]

    def sidecar_tokens(self):
        return {r["token"] for r in self.vault.requests()
                if r["token"] and r["token"] != CLI_HEADERS["X-Vault-Token"]}


class VaultCliTest(ClientsBase):
    """`vault kv get | list | metadata get` (KV v2 and v1) and `vault read database/creds/...`,
    each step as the CLI takes it, starting with its KV preflight."""

    def preflight(self, path, unix=False):
        status, _, body = self.cli(PREFLIGHT + path, unix=unix)
        self.assertEqual(status, 200, body)
        return body["data"]

    def test_kv_get_on_a_v2_mount(self):
        self.start()
        for spelling in ("kv-demo/sample", "kv-demo"):  # `kv get kv-demo/sample`, `-mount=kv-demo`
            with self.subTest(preflight=spelling):
                mount = self.preflight(spelling)
                self.assertEqual(mount["path"], "kv-demo/")
                self.assertEqual(mount["type"], "kv")
                self.assertEqual(mount["options"]["version"], "2")
        status, _, body = self.cli(KV_PATH)
        self.assertEqual(status, 200)
        self.assertEqual(body["data"]["data"]["password"], CANARY)
        # The preflight went out with the sidecar's token, never the CLI's, and is cached.
        status, headers, _ = self.cli(PREFLIGHT + "kv-demo/sample", unix=True)
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("x-cache"), "HIT")
        forwarded = self.upstream(PREFLIGHT + "kv-demo/sample")
        self.assertEqual(len(forwarded), 1)
        self.assertNotEqual(forwarded[0]["token"], CLI_HEADERS["X-Vault-Token"])
        self.assertTrue(forwarded[0]["token"].startswith("hvs."))

    def test_kv_get_on_a_v1_mount(self):
        self.start()
        mount = self.preflight("kv-v1/config")
        self.assertEqual(mount["path"], "kv-v1/")
        self.assertEqual(mount["type"], "kv")
        self.assertEqual(mount["options"]["version"], "1")
        status, _, body = self.cli("/v1/kv-v1/config")
        self.assertEqual(status, 200)
        self.assertEqual(body["data"]["endpoint"], "https://x")

    def test_kv_list_and_metadata_get(self):
        self.start()
        # `vault kv list kv-demo/`: the path sanitised to "kv-demo" for the preflight, then
        # api.Logical().List, which sends GET with list=true on "kv-demo/metadata".
        self.assertEqual(self.preflight("kv-demo")["options"]["version"], "2")
        status, _, body = self.cli("/v1/kv-demo/metadata?list=true")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"]["keys"], ["sample"])
        # `vault kv metadata get kv-demo/sample`
        self.preflight("kv-demo/sample")
        status, _, body = self.cli("/v1/kv-demo/metadata/sample")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"]["current_version"], 1)
        self.assertIn("1", body["data"]["versions"])

    def test_read_database_creds(self):
        self.start()
        status, _, body = self.cli("/v1/database/creds/myapp-role")
        self.assertEqual(status, 200, body)
        self.assertTrue(body["data"]["username"])
        self.assertTrue(body["data"]["password"])
        self.assertTrue(body["lease_id"].startswith("database/creds/myapp-role/"))

    def test_preflights_outside_the_allow_list_are_refused_and_never_forwarded(self):
        self.start()
        for path in ("sys/internal/ui/mounts", "sys/internal/ui/mounts/", "secret/data/x",
                     "sys", "auth/token", "kv-demo/../secret/x", "cubbyhole/x"):
            for unix in (False, True):
                with self.subTest(path=path, unix=unix):
                    target = "/v1/" + path if path.startswith("sys/internal") else PREFLIGHT + path
                    status, _, body = self.cli(target, unix=unix)
                    self.assertEqual(status, 403, body)
                    self.assertIn("allow list", body["errors"][0])
        reached = [r for r in self.vault.requests() if r["path"].startswith("/v1/sys/internal")]
        self.assertEqual(reached, [])

    def test_a_client_gets_preflights_only_inside_its_own_allow_list(self):
        self.start({"client.app": {"users": "root", "allow": "/v1/kv-demo/*"}})
        self.assertEqual(self.preflight("kv-demo")["path"], "kv-demo/")
        for unix in (False, True):
            # kv-v1 is in [proxy] allow, but not in this client's.
            status, _, body = self.cli(PREFLIGHT + "kv-v1/config", unix=unix)
            self.assertEqual(status, 403, body)
            self.assertIn("client.app's allow list", body["errors"][0])
        self.assertEqual(self.upstream(PREFLIGHT + "kv-v1/config"), [])


class HvacTest(ClientsBase):
    """hvac as a Python app uses it, pointed at the sidecar with a token of the app's own, which
    the sidecar never checks or forwards."""

    def test_hvac_reads_through_the_sidecar(self):
        hvac = import_hvac()
        self.start()
        import requests
        session = requests.Session()
        session.trust_env = False  # straight to the sidecar, whatever *_proxy says
        # is_authenticated() needs some token set; the sidecar ignores its value.
        client = hvac.Client(url=f"http://127.0.0.1:{self.sidecar.port}", token="app-own-token",
                             session=session)
        self.assertTrue(client.is_authenticated())
        looked_up = client.auth.token.lookup_self()
        self.assertEqual(looked_up["data"]["id"], "app-own-token")
        self.assertEqual(looked_up["data"]["ttl"], 0)
        self.assertFalse(looked_up["data"]["renewable"])

        v2 = client.secrets.kv.v2.read_secret_version(path="sample", mount_point="kv-demo")
        self.assertEqual(v2["data"]["data"]["password"], CANARY)
        self.assertEqual(v2["data"]["metadata"]["version"], 1)
        v1 = client.secrets.kv.v1.read_secret(path="config", mount_point="kv-v1")
        self.assertEqual(v1["data"]["endpoint"], "https://x")
        creds = client.secrets.database.generate_credentials(name="myapp-role")
        self.assertTrue(creds["data"]["username"])
        self.assertTrue(creds["lease_id"].startswith("database/creds/myapp-role/"))
        health = client.sys.read_health_status(method="GET")
        self.assertTrue(health["initialized"])
        self.assertFalse(health["sealed"])
        with self.assertRaises(hvac.exceptions.Forbidden):
            client.sys.list_mounted_secrets_engines()
        self.assertEqual([r for r in self.vault.requests() if r["path"] == "/v1/sys/mounts"], [])
        self.assertEqual(self.upstream("/v1/auth/token/lookup-self"), [])


class TokenHousekeepingTest(ClientsBase):
    """lookup-self, renew-self and revoke-self, answered about the caller's token on both
    listeners: never forwarded, the sidecar's token in no answer, and still working after."""

    def test_self_calls_describe_the_callers_token_and_are_never_forwarded(self):
        self.start()
        self.assertEqual(self.cli(KV_PATH)[0], 200)  # the sidecar's token is in the log now
        tokens = self.sidecar_tokens()
        self.assertEqual(len(tokens), 1)
        answers = []
        for unix in (False, True):
            for caller in ("hvs.caller-one", ""):
                headers = {"X-Vault-Token": caller} if caller else {}
                for method in ("GET", "POST", "PUT"):
                    status, got, body = self.cli("/v1/auth/token/lookup-self", method=method,
                                                 unix=unix, headers=headers)
                    answers.append((status, got, body))
                    with self.subTest(unix=unix, caller=caller, method=method):
                        self.assertEqual(status, 200)
                        self.assertEqual(got.get("cache-control"), "no-store")
                        data = body["data"]
                        self.assertEqual(data["id"], caller or CLI_HEADERS["X-Vault-Token"])
                        self.assertEqual(data["ttl"], 0)
                        self.assertIsNone(data["expire_time"])
                        self.assertFalse(data["renewable"])
                        self.assertEqual(data["policies"], [])
                status, got, body = self.cli("/v1/auth/token/renew-self", method="POST",
                                             unix=unix, headers=headers,
                                             body=json.dumps({"increment": "1h"}))
                answers.append((status, got, body))
                self.assertEqual(status, 200)
                self.assertEqual(body["auth"]["client_token"],
                                 caller or CLI_HEADERS["X-Vault-Token"])
                self.assertEqual(body["auth"]["lease_duration"], 0)
                self.assertFalse(body["auth"]["renewable"])
                status, got, body = self.cli("/v1/auth/token/revoke-self", method="POST",
                                             unix=unix, headers=headers)
                answers.append((status, got, body))
                self.assertEqual(status, 204)
                self.assertIsNone(body)
        # A caller with no token at all (the CLI's header left out): the id is empty.
        status, _, data = request(self.sidecar.port, "/v1/auth/token/lookup-self")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(data)["data"]["id"], "")
        for status, got, body in answers:
            text = json.dumps(got) + json.dumps(body)
            for token in tokens:
                self.assertNotIn(token, text)
                self.assertNotIn(token[-16:], text)
        token_calls = [r for r in self.vault.requests() if r["path"].startswith("/v1/auth/token/")]
        self.assertEqual(token_calls, [])
        # The revoke-selfs revoked nothing: the sidecar's token still reads a cold path.
        status, _, body = self.cli("/v1/kv-demo/data/after-revoke")
        self.assertEqual(status, 404)  # Vault's answer for a missing secret, not 403
        self.assertEqual(self.cli("/v1/kv-v1/config")[0], 200)

    def test_other_token_paths_stay_refused(self):
        self.start()
        for method, path in (("POST", "/v1/auth/token/create"), ("POST", "/v1/auth/token/lookup"),
                             ("GET", "/v1/auth/token/lookup-accessor"),
                             ("POST", "/v1/auth/approle/login"),
                             ("GET", "/v1/auth/token/renew-self"),
                             ("DELETE", "/v1/auth/token/lookup-self")):
            for unix in (False, True):
                with self.subTest(method=method, path=path, unix=unix):
                    status, _, body = self.cli(path, method=method, unix=unix, body="{}")
                    self.assertIn(status, (403, 405), body)
        self.assertEqual([r for r in self.vault.requests() if r["path"].startswith("/v1/auth/")
                          and r["path"] != "/v1/auth/approle/login"], [])
        self.assertEqual(len(self.upstream("/v1/auth/approle/login", "POST")), 1)  # its own


class QueryTest(ClientsBase):
    """The cache key and the upstream query keep only what the route uses."""

    def test_junk_parameters_share_one_entry_and_one_upstream_read(self):
        self.start()
        for n in range(20):
            status, _, body = self.cli(f"{KV_PATH}?x={n}", unix=n % 2 == 1)
            self.assertEqual(status, 200)
            self.assertEqual(body["data"]["data"]["password"], CANARY)
        reads = self.upstream(KV_PATH)
        self.assertEqual(len(reads), 1)
        self.assertEqual(reads[0]["query"], "")

    def test_encoded_list_is_a_listing_and_never_cached(self):
        self.start()
        for query in ("list=%74rue", "%6cist=true", "list=%74rue", "%6cist=true&x=1"):
            with self.subTest(query=query):
                status, headers, body = self.cli(f"/v1/kv-demo/metadata/?{query}")
                self.assertEqual(status, 200, body)
                self.assertEqual(body["data"]["keys"], ["sample"])
                self.assertNotIn("x-cache", headers)
        listings = self.upstream("/v1/kv-demo/metadata/")
        self.assertEqual(len(listings), 4)
        self.assertTrue(all(r["query"] == "list=true" for r in listings), listings)
        status, _, body = self.cli("/v1/kv-demo/metadata/?list=yes")
        self.assertEqual(status, 400)
        self.assertEqual(len(self.upstream("/v1/kv-demo/metadata/")), 4)

    def test_versions_are_cached_apart(self):
        self.start()
        self.vault.control("kv", {"mount": "kv-demo", "path": "sample",
                                  "data": {"password": "second-version-pw"}})
        expected = {"1": CANARY, "2": "second-version-pw"}
        for _ in range(3):
            for version, password in expected.items():
                status, _, body = self.cli(f"{KV_PATH}?version={version}&x=junk")
                self.assertEqual(status, 200)
                self.assertEqual(body["data"]["data"]["password"], password)
                self.assertEqual(body["data"]["metadata"]["version"], int(version))
        reads = self.upstream(KV_PATH)
        self.assertEqual(sorted(r["query"] for r in reads), ["version=1", "version=2"])
        status, _, _ = self.cli(f"{KV_PATH}?version=01")
        self.assertEqual(status, 400)
        self.assertEqual(len(self.upstream(KV_PATH)), 2)

    def test_a_forwarded_write_is_seen_by_the_next_read(self):
        self.start({"proxy": {"forward_writes": "true"}})
        for target in (KV_PATH, f"{KV_PATH}?version=1", "/v1/kv-demo/metadata/sample"):
            self.assertEqual(self.cli(target)[0], 200)
            self.assertEqual(self.cli(target)[1].get("x-cache"), "HIT")
        status, _, body = self.cli(KV_PATH, method="POST",
                                   body=json.dumps({"data": {"password": "written-pw"}}),
                                   headers={"Content-Type": "application/json"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"]["version"], 2)
        status, headers, body = self.cli(KV_PATH)
        self.assertEqual(headers.get("x-cache"), "MISS")
        self.assertEqual(body["data"]["data"]["password"], "written-pw")
        status, headers, body = self.cli("/v1/kv-demo/metadata/sample")
        self.assertEqual(headers.get("x-cache"), "MISS")
        self.assertEqual(body["data"]["current_version"], 2)
        # Every version's entry went: version 1 is read again, and is still version 1.
        status, headers, body = self.cli(f"{KV_PATH}?version=1")
        self.assertEqual(headers.get("x-cache"), "MISS")
        self.assertEqual(body["data"]["data"]["password"], CANARY)
        self.assertEqual(len([r for r in self.upstream(KV_PATH) if r["query"] == "version=1"]), 2)


if __name__ == "__main__":
    unittest.main()
