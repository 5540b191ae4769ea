"""Issue 18, part 5: `vault-sidecar get`, the curl-and-jq-free read for scripts, against the real
sidecar and the double, over TCP and the unix socket.

Every run is a real process of the sidecar binary (under ASan in CI, so a leak or a memory error
fails the run). Each format, each exit code (0, 2, 3, 69, 1, 64), a missing field, a 403 that
reached no Vault, an unreachable sidecar, database creds through `--format env` and `eval`, and
the canary secret and token never on stderr.
"""
import json
import os
import signal
import subprocess

from harness import (CleanExitTestCase, DB_CREDS, SIDECAR_BIN, free_port, request)

CANARY = "kv-canary-pw-5150"
TOKEN_CANARY = "s.token-canary-8086"
KV_PATH = "/v1/kv-demo/data/sample"


class GetCase(CleanExitTestCase):
    """A double and a sidecar with TCP and a unix socket; `get()` runs the command."""

    def start(self, sections=None):
        self.vault = self.start_double()
        self.socket_path = os.path.join(self.workdir, "sidecar.sock")
        merged = {"listener": {"unix_socket": self.socket_path, "socket_mode": "0600"}}
        for section, keys in (sections or {}).items():
            merged.setdefault(section, {}).update(keys)
        self.sidecar = self.start_sidecar(f"http://127.0.0.1:{self.vault.port}", sections=merged)
        self.address = f"http://127.0.0.1:{self.sidecar.port}"

    def get(self, *arguments, env=None):
        """`vault-sidecar get ARGUMENTS`: the finished process (stdout and stderr as text)."""
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "VAULT_TOKEN": TOKEN_CANARY}
        for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if name in os.environ:
                full_env[name] = os.environ[name]
        full_env.update(env or {})
        done = subprocess.run([SIDECAR_BIN, "get", *arguments], capture_output=True, text=True,
                              env=full_env, timeout=60)
        # Never a secret or the caller's token on stderr, whatever happened.
        self.assertNotIn(CANARY, done.stderr)
        self.assertNotIn(TOKEN_CANARY, done.stderr)
        self.assertNotIn("Sanitizer", done.stderr)
        return done

    def assert_ok(self, done, stdout):
        self.assertEqual((done.returncode, done.stderr), (0, ""))
        self.assertEqual(done.stdout, stdout)


class GetFormatsTest(GetCase):
    def test_field_over_tcp_the_unix_socket_vault_addr_and_config(self):
        self.start()
        for listener in (["--address", self.address], ["--unix-socket", self.socket_path],
                         ["--config", self.sidecar.config_path]):
            with self.subTest(listener=listener):
                # No newline or anything else after the value.
                self.assert_ok(self.get(*listener, "--field", "password", "kv-demo/sample"),
                               CANARY)
        self.assert_ok(self.get("--field=username", "kv-demo/sample",
                                env={"VAULT_ADDR": self.address}), "demo")
        self.assert_ok(self.get("--field", "password", "kv-demo/sample",
                                env={"VAULT_ADDR": "unix://" + self.socket_path}), CANARY)

    def test_json_is_the_data_map_for_every_spelling(self):
        self.start()
        expected = {"username": "demo", "password": CANARY}
        for spelling in ("kv-demo/sample", "kv-demo/data/sample", "/v1/kv-demo/data/sample",
                         "/kv-demo/sample"):
            with self.subTest(spelling=spelling):
                done = self.get("--address", self.address, spelling)
                self.assertEqual((done.returncode, done.stderr), (0, ""))
                self.assertEqual(json.loads(done.stdout), expected)
                self.assertTrue(done.stdout.endswith("}\n"))
        # A KV v1 mount: its data map is `data`, read at the path itself.
        done = self.get("--unix-socket", self.socket_path, "--format", "json", "kv-v1/config")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(json.loads(done.stdout), {"endpoint": "https://x", "ttl": "1h"})

    def test_raw_is_the_answer_body_as_the_sidecar_wrote_it(self):
        self.start()
        _, _, body = self.sidecar.get(KV_PATH)
        done = self.get("--address", self.address, "--format", "raw", "kv-demo/sample")
        self.assertEqual((done.returncode, done.stderr), (0, ""))
        self.assertEqual(done.stdout, body.decode())
        self.assertEqual(json.loads(done.stdout)["data"]["data"]["password"], CANARY)

    def test_env_for_database_creds_is_safe_to_eval(self):
        self.start()
        done = self.get("--unix-socket", self.socket_path, "--format", "env",
                        "database/creds/myapp-role")
        self.assertEqual((done.returncode, done.stderr), (0, ""))
        lines = done.stdout.splitlines()
        self.assertEqual([line.split("=", 1)[0] for line in lines], ["PASSWORD", "USERNAME"])
        shell = subprocess.run(["sh", "-c", 'eval "$1"; printf "%s\\n%s" "$USERNAME" "$PASSWORD"',
                                "sh", done.stdout], capture_output=True, text=True, timeout=10)
        self.assertEqual(shell.returncode, 0, shell.stderr)
        username, password = shell.stdout.split("\n")
        # The creds the sidecar holds for every local caller.
        status, _, body = self.sidecar.get(DB_CREDS)
        self.assertEqual(status, 200)
        held = json.loads(body)["data"]
        self.assertEqual((username, password), (held["username"], held["password"]))

    def test_env_quotes_what_a_shell_would_run(self):
        self.start()
        hostile = "it's $(touch pwned) `touch pwned` ; exit 9\nnext line"
        self.vault.control("kv", {"mount": "kv-demo", "path": "hostile",
                                  "data": {"db-user": hostile, "9lives": "x"}})
        done = self.get("--address", self.address, "--format", "env", "kv-demo/hostile")
        self.assertEqual((done.returncode, done.stderr), (0, ""))
        shell = subprocess.run(["sh", "-c", 'eval "$1"; printf "%s|%s" "$DB_USER" "$_9LIVES"',
                                "sh", done.stdout], capture_output=True, text=True, timeout=10,
                               cwd=self.workdir)
        self.assertEqual((shell.returncode, shell.stdout), (0, hostile + "|x"))
        self.assertFalse(os.path.exists(os.path.join(self.workdir, "pwned")))


class GetExitCodesTest(GetCase):
    def test_missing_secret_and_missing_field_are_2(self):
        self.start()
        for listener in (["--address", self.address], ["--unix-socket", self.socket_path]):
            with self.subTest(listener=listener):
                done = self.get(*listener, "kv-demo/no-such-secret")
                self.assertEqual((done.returncode, done.stdout), (2, ""))
                self.assertIn("kv-demo/no-such-secret: no such secret (404)", done.stderr)
                done = self.get(*listener, "--field", "pasword", "kv-demo/sample")
                self.assertEqual((done.returncode, done.stdout), (2, ""))
                self.assertIn('no field "pasword" (fields: password, username)', done.stderr)

    def test_a_path_outside_the_allow_list_is_3_and_reaches_no_vault(self):
        self.start({"proxy": {"allow": "/v1/kv-demo/*, /v1/database/creds/*"}})
        for listener in (["--address", self.address], ["--unix-socket", self.socket_path]):
            for spelling in ("kv-v1/config", "/v1/kv-v1/config", "sys/mounts"):
                with self.subTest(listener=listener, spelling=spelling):
                    done = self.get(*listener, spelling)
                    self.assertEqual((done.returncode, done.stdout), (3, ""))
                    self.assertIn("refused (403)", done.stderr)
        forwarded = [r["path"] for r in self.vault.requests()]
        self.assertFalse([p for p in forwarded if "kv-v1" in p or "sys/mounts" in p], forwarded)

    def test_an_unreachable_sidecar_is_69(self):
        nobody = f"http://127.0.0.1:{free_port()}"
        done = self.get("--address", nobody, "--field", "password", "kv-demo/sample")
        self.assertEqual((done.returncode, done.stdout), (69, ""))
        self.assertTrue(done.stderr.startswith(f"vault-sidecar get: {nobody[7:]}: "), done.stderr)
        missing_socket = os.path.join(self.workdir, "none.sock")
        done = self.get("--unix-socket", missing_socket, "kv-demo/sample")
        self.assertEqual(done.returncode, 69)
        self.assertIn(f"unix:{missing_socket}: ", done.stderr)
        done = self.get("kv-demo/sample", env={"VAULT_ADDR": nobody})
        self.assertEqual(done.returncode, 69)

    def test_a_listener_that_does_not_answer_is_69_at_the_deadline(self):
        self.start()
        self.sidecar.process.signal(signal.SIGSTOP)  # connections queue, nothing answers
        try:
            done = self.get("--timeout", "500ms", "--address", self.address, "kv-demo/sample")
        finally:
            self.sidecar.process.signal(signal.SIGCONT)
        self.assertEqual(done.returncode, 69)
        self.assertTrue(done.stderr.endswith("no answer within 500ms\n"), done.stderr)

    def test_vault_failing_is_1_and_bad_usage_64(self):
        self.start()
        self.vault.control("fail", {"prefix": "/v1/kv-demo/data/cold", "count": 20,
                                    "status": 500, "message": "storage backend failed"})
        done = self.get("--address", self.address, "/v1/kv-demo/data/cold")
        self.assertEqual((done.returncode, done.stdout), (1, ""))
        self.assertIn("/v1/kv-demo/data/cold: the sidecar answered ", done.stderr)
        for arguments in (["kv-demo"], ["--format", "yaml", "kv-demo/sample"],
                          ["--field", "a", "--format", "env", "kv-demo/sample"], []):
            with self.subTest(arguments=arguments):
                self.assertEqual(self.get("--address", self.address, *arguments).returncode, 64)
        done = self.get("kv-demo/sample", env={"VAULT_ADDR": "https://vault.example.com:8200"})
        self.assertEqual(done.returncode, 1)
        self.assertIn("plain HTTP on loopback", done.stderr)

    def test_nothing_secret_on_stderr_in_any_failure(self):
        self.start()
        runs = [self.get("--address", self.address, "--field", "nope", "kv-demo/sample"),
                self.get("--address", self.address, "--format", "raw", "kv-demo/nope"),
                self.get("--address", f"http://127.0.0.1:{free_port()}", "kv-demo/sample"),
                self.get("--address", self.address, "--field", "password", "kv-demo")]
        self.assertEqual([done.returncode for done in runs], [2, 2, 69, 64])
        for done in runs:
            self.assertEqual(done.stdout, "")
            self.assertTrue(done.stderr.startswith("vault-sidecar get: "), done.stderr)
        # The caller's VAULT_TOKEN went to the sidecar, which dropped it: Vault never saw it.
        self.assertFalse(any(r.get("token") == TOKEN_CANARY for r in self.vault.requests()))
