"""Issue 10 item 4 end to end: canary secrets pushed through every feature at `trace` level never
show up where they do not belong.

The canaries: the KV secret value of the seed, a value written through the proxy, the database
passwords the double issues, every token the double saw, the role_id and the secret_id. After
login, renewals (short TTL), KV hits, misses and stale answers, a write, database creds and
their rotation, cache clears, health, metrics and error answers (refused paths, 404s, a Vault
500), each canary must be absent from: the sidecar's output (text and json formats), every HTTP
answer but the ones that asked for that secret, /proc/<pid>/environ and cmdline of the sidecar,
and every file under its runtime directory (where its unix socket lives) and its TMPDIR, except
configured template destinations. Every check has a positive control where one is possible (the
canary is found where it belongs), so a search that cannot see it would fail.
Dumpability as seen by another user is HygieneTest's (test_operations.py); here the core limit
of each sidecar is checked.
"""
import json
import os
import re
import socket
import unittest

from harness import (ROLE_ID, SECRET_ID, CleanExitTestCase, default_seed, read_lines, read_text,
                     wait_until, write_file)
from test_exec_mode import child_script

KV_PATH = "/v1/kv-demo/data/sample"
KV_CANARY = "kv-canary-pw-5150"  # default_seed's kv-demo/sample password
WRITE_CANARY = "write-canary-9c1e77d2"
DB_PATH = "/v1/database/creds/myapp-role"


def leak_seed():
    return default_seed(token_ttl=4, db_ttl=4, db_max_ttl=120)


def http_exchange(sidecar_port, method, path, body=None, unix_socket=None, headers=()):
    """One request with Connection: close; returns the whole answer (status line, headers and
    body) as bytes, everything a client could read."""
    data = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".encode()
    for header in headers:
        data += header.encode() + b"\r\n"
    if body is not None:
        data += f"Content-Length: {len(body)}\r\nContent-Type: application/json\r\n".encode()
    data += b"\r\n" + (body or b"")
    if unix_socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(15)
        sock.connect(unix_socket)
    else:
        sock = socket.create_connection(("127.0.0.1", sidecar_port), timeout=15)
    answer = b""
    with sock:
        sock.sendall(data)
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer


def status_of(answer):
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    return int(match.group(1)) if match else None


def body_json(answer):
    return json.loads(answer.partition(b"\r\n\r\n")[2])


def proc_bytes(pid, name):
    with open(f"/proc/{pid}/{name}", "rb") as f:
        return f.read()


def files_under(*roots):
    """Every regular file below `roots`, with its content."""
    found = {}
    for root in roots:
        for directory, _, names in os.walk(root):
            for name in names:
                path = os.path.join(directory, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    with open(path, "rb") as f:
                        found[path] = f.read()
    return found


def core_limit(pid):
    match = re.search(r"^Max core file size\s+(\S+)\s+(\S+)", read_text(f"/proc/{pid}/limits"),
                      re.M)
    return match.groups()


class LeakCase(CleanExitTestCase):
    """The canary bookkeeping shared by the suites."""

    def setUp(self):
        super().setUp()
        self.runtime_dir = os.path.join(self.workdir, "run")
        self.temp_dir = os.path.join(self.workdir, "tmp")
        os.makedirs(self.runtime_dir)
        os.makedirs(self.temp_dir)
        self.answers = []  # (what, canaries it may hold, the bytes)

    def ask(self, sidecar, what, method, path, allowed=(), expect=None, **kwargs):
        answer = http_exchange(sidecar.port, method, path, **kwargs)
        if expect is not None:
            self.assertEqual(status_of(answer), expect, f"{what}: {answer[:400]!r}")
        self.answers.append((what, set(allowed), answer))
        return answer

    def tokens(self, vault):
        tokens = {r["token"] for r in vault.requests() if r["token"]}
        self.assertTrue(tokens)
        return tokens

    def assert_absent(self, canaries, where, text):
        data = text if isinstance(text, bytes) else text.encode()
        for canary in canaries:
            self.assertNotIn(canary.encode(), data, f"{canary!r} found in {where}")

    def assert_process_clean(self, pid, canaries):
        self.assert_absent(canaries, f"/proc/{pid}/environ", proc_bytes(pid, "environ"))
        self.assert_absent(canaries, f"/proc/{pid}/cmdline", proc_bytes(pid, "cmdline"))
        self.assertEqual(core_limit(pid), ("0", "0"))

    def assert_files_clean(self, canaries, except_paths=()):
        files = files_under(self.runtime_dir, self.temp_dir)
        for path, content in files.items():
            if path not in except_paths:
                self.assert_absent(canaries, path, content)
        return files

    def assert_log_clean(self, sidecar, canaries, log_format):
        log = sidecar.log()
        lines = [line for line in log.splitlines() if line.strip()]
        if log_format == "json":
            levels = {json.loads(line)["level"] for line in lines}
        else:  # "<timestamp> <level> <component>: <message>"
            levels = {line.split(" ")[1] for line in lines if line[:2] == "20"}
        # Nothing logs below debug today; `trace` lets everything through, and debug lines
        # showing up proves the most verbose output was searched.
        self.assertIn("debug", levels, log[:2000])
        self.assert_absent(canaries, "the sidecar's output", log)


class ProxyLeakTest(LeakCase):
    """Every proxy feature at trace level, then the sweep; once per log format."""

    def run_features(self, log_format, credentials_in_env):
        vault = self.start_double(leak_seed())
        socket_path = os.path.join(self.runtime_dir, "sidecar.sock")
        sections = {
            "log": {"level": "trace", "format": log_format},
            "listener": {"unix_socket": socket_path},
            "proxy": {"forward_writes": "true"},
            "cache": {"ttl": "2s", "refresh_interval": "1s", "max_stale": "1h"},
            "database": {"renew_at": "0.5"},
        }
        env = {"TMPDIR": self.temp_dir}
        if credentials_in_env:
            env.update({"VAULT_ROLE_ID": ROLE_ID, "VAULT_SECRET_ID": SECRET_ID})
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", sections=sections, env=env,
                                     write_credentials=not credentials_in_env)
        pid = sidecar.process.proc.pid

        # KV: a miss, a hit, over TCP and the unix socket; a write and its read-back.
        for what in ("kv miss", "kv hit"):
            self.ask(sidecar, what, "GET", KV_PATH, allowed={KV_CANARY}, expect=200)
        self.ask(sidecar, "kv over unix socket", "GET", KV_PATH, allowed={KV_CANARY}, expect=200,
                 unix_socket=socket_path)
        written = json.dumps({"data": {"secret": WRITE_CANARY}}).encode()
        self.ask(sidecar, "kv write", "PUT", "/v1/kv-demo/data/written", allowed={WRITE_CANARY},
                 body=written, expect=200)
        self.ask(sidecar, "kv write read back", "GET", "/v1/kv-demo/data/written",
                 allowed={WRITE_CANARY}, expect=200)

        # Database creds, then again after a rotation (renew_at 0.5 of a 4 s lease).
        passwords = set()
        first = self.ask(sidecar, "db creds", "GET", DB_PATH, expect=200)
        passwords.add(body_json(first)["data"]["password"])
        wait_until(lambda: vault.count("GET", DB_PATH) >= 2, 20, what="a rotation")
        second = self.ask(sidecar, "db creds rotated", "GET", DB_PATH, expect=200)
        passwords.add(body_json(second)["data"]["password"])
        self.assertEqual(len(passwords), 2)
        self.answers[-2][1].add(body_json(first)["data"]["password"])
        self.answers[-1][1].add(body_json(second)["data"]["password"])

        # Vault failing: the cached entry is served stale; an uncached read gets Vault's 500.
        # The entry is read again first (the refresh drops entries unread for a TTL), then read
        # every 0.3 s until its 2 s TTL has passed.
        self.ask(sidecar, "kv before the failure", "GET", KV_PATH, allowed={KV_CANARY},
                 expect=200)
        vault.control("fail", {"prefix": "/v1/kv-demo", "count": 1000, "status": 500})

        def stale():
            answer = http_exchange(sidecar.port, "GET", KV_PATH)
            return b"X-Cache: STALE" in answer and answer
        self.answers.append(("kv stale", {KV_CANARY},
                             wait_until(stale, 10, interval=0.3, what="a stale answer")))
        self.ask(sidecar, "vault 500", "GET", "/v1/kv-demo/data/uncached", expect=500)
        vault.control("clear")

        # Refused and unknown paths, methods and targets; the local endpoints.
        self.ask(sidecar, "refused path", "GET", "/v1/sys/mounts", expect=403)
        self.ask(sidecar, "token create refused", "POST", "/v1/auth/token/create", expect=403)
        # Answered locally about the caller's token: the sidecar's own never in it.
        self.ask(sidecar, "token lookup-self", "GET", "/v1/auth/token/lookup-self", expect=200)
        self.ask(sidecar, "kv 404", "GET", "/v1/kv-demo/data/missing", expect=404)
        self.ask(sidecar, "local 404", "GET", "/sidecar/v1/nothing", expect=404)
        self.ask(sidecar, "trace 405", "TRACE", KV_PATH, expect=405)
        self.ask(sidecar, "bad target", "GET", "/v1/kv-demo/%00", expect=400)
        self.ask(sidecar, "bad cache-clear", "POST", "/sidecar/v1/cache-clear", body=b"{nope",
                 expect=400)
        for clear in ({"type": "request_path", "value": KV_PATH}, {"type": "all"}):
            self.ask(sidecar, f"cache-clear {clear['type']}", "POST", "/sidecar/v1/cache-clear",
                     body=json.dumps(clear).encode())
        self.ask(sidecar, "kv miss after clear", "GET", KV_PATH, allowed={KV_CANARY}, expect=200)

        wait_until(lambda: vault.count("POST", "/v1/auth/token/renew-self") >= 2, 20,
                   what="two renewals")
        self.ask(sidecar, "health", "GET", "/sidecar/v1/health", expect=200)
        self.ask(sidecar, "metrics", "GET", "/sidecar/v1/metrics", expect=200)
        self.ask(sidecar, "proxy metrics", "GET", "/proxy/v1/metrics", expect=200)

        canaries = {KV_CANARY, WRITE_CANARY, ROLE_ID, SECRET_ID, *passwords, *self.tokens(vault)}
        # Positive controls: the answers that asked hold their secret, the search sees it.
        self.assertIn(KV_CANARY.encode(), self.answers[0][2])
        self.assertIn(WRITE_CANARY.encode(), self.answers[4][2])
        for what, allowed, answer in self.answers:
            self.assert_absent(canaries - allowed, f"the answer to {what}", answer)
        self.assert_process_clean(pid, canaries)
        self.assert_files_clean(canaries)

        self.assertEqual(sidecar.stop(), 0)
        self.assert_log_clean(sidecar, canaries, log_format)
        self.assert_files_clean(canaries)

    def test_text_log_credentials_from_files(self):
        self.run_features("text", credentials_in_env=False)

    def test_json_log_credentials_from_the_environment(self):
        self.run_features("json", credentials_in_env=True)


class ExecLeakTest(LeakCase):
    """Pattern 3: the child's environment and the template destination carry the secrets (that
    is their job); the sidecar itself, its log and its other files do not."""

    def test_env_and_template_hold_the_secrets_the_sidecar_does_not(self):
        vault = self.start_double(leak_seed())
        app_dir = os.path.join(self.workdir, "app")
        app = write_file(os.path.join(app_dir, "app.sh"), child_script(), 0o755)
        source = write_file(os.path.join(self.workdir, "templates", "app.tmpl"),
                            "kv = {{app.password}}\ndb = {{db.password}}\n")
        destination = os.path.join(self.runtime_dir, "app.ini")
        sidecar = self.start_sidecar(
            f"http://127.0.0.1:{vault.port}", write_credentials=False,
            env={"VAULT_ROLE_ID": ROLE_ID, "VAULT_SECRET_ID": SECRET_ID,
                 "TMPDIR": self.temp_dir},
            sections={
                "log": {"level": "trace"},
                "listener": {"unix_socket": os.path.join(self.runtime_dir, "sidecar.sock")},
                "exec": {"command": f"/bin/sh {app}", "restart_on_secret_changes": "never"},
                "secrets": {"app": "kv-demo/data/sample", "db": "database/creds/myapp-role"},
                "env": {"APP_PASSWORD": "{{app.password}}", "DB_PASSWORD": "{{db.password}}"},
                "template.app": {"source": source, "destination": destination},
                "database": {"renew_at": "0.5"},
            })
        wait_until(lambda: read_lines(os.path.join(app_dir, "starts")), 30, what="the app")
        child = int(read_lines(os.path.join(app_dir, "starts"))[0].split()[0])
        child_env = proc_bytes(child, "environ")
        match = re.search(rb"(?:^|\0)DB_PASSWORD=([^\0]+)", child_env)
        self.assertIsNotNone(match, child_env)
        first_password = match.group(1).decode()
        self.assertIn(b"APP_PASSWORD=" + KV_CANARY.encode(), child_env)  # where it belongs
        # A rotation rewrites the template with the next password (no restart: `never`).
        wait_until(lambda: first_password not in read_text(destination), 20,
                   what="the template rewritten after a rotation")
        rendered = read_text(destination)
        second_password = re.search(r"^db = (.+)$", rendered, re.M).group(1)
        self.assertIn(KV_CANARY, rendered)
        wait_until(lambda: vault.count("POST", "/v1/auth/token/renew-self") >= 2, 20,
                   what="two renewals")

        canaries = {KV_CANARY, ROLE_ID, SECRET_ID, first_password, second_password,
                    *self.tokens(vault)}
        pid = sidecar.process.proc.pid
        self.assert_process_clean(pid, canaries)
        files = self.assert_files_clean(canaries, except_paths={destination})
        self.assertIn(destination, files)  # the walk saw the destination it exempted
        self.assertEqual(sidecar.stop(), 0)
        self.assert_log_clean(sidecar, canaries, "text")
        self.assert_files_clean(canaries, except_paths={destination})


if __name__ == "__main__":
    unittest.main()
