"""Issue 17: who may read. Browser guards (Host, Sec-Fetch-Site, Origin, OPTIONS), Cache-Control
on every answer, caller identity from the kernel and [client.*] allow lists, per-client
connection caps, reload of clients, loose credential files.

Every guard is attacked over TCP and over the unix socket (mode 0666, so the kernel's word is the
only gate), with cold caches: the double's request log shows that nothing refused was forwarded.
Other users are real processes: curl run through setpriv as nobody, daemon or an unnamed uid.
"""
import http.client
import json
import os
import pwd
import signal
import subprocess
import unittest

from harness import (CleanExitTestCase, DB_CREDS, E2ETestCase, ROLE_ID, SECRET_ID, SIDECAR_BIN,
                     default_seed, read_text, request, wait_until, write_file)

KV_PATH = "/v1/kv-demo/data/sample"
CANARY = "kv-canary-pw-5150"
WEB_PATH = "/v1/kv-web/data/app"
WEB_CANARY = "web-canary-7788"
OPS_PATH = "/v1/kv-ops/data/batch"
OPS_CANARY = "ops-canary-3141"


def seed():
    s = default_seed()
    s["kv_mounts"]["kv-web"] = {"version": 2, "secrets": {"app": {"password": WEB_CANARY}}}
    s["kv_mounts"]["kv-ops"] = {"version": 2, "secrets": {"batch": {"password": OPS_CANARY}}}
    s["policies"]["app"]["kv-web/*"] = ["read", "list"]
    s["policies"]["app"]["kv-ops/*"] = ["read", "list"]
    return s


def raw(port=None, unix_socket=None, method="GET", path=KV_PATH, headers=None, body=None):
    """One request with exactly these headers (Host included, when given); (status, headers, body).
    http.client adds no Host of its own when the headers name one."""
    return request(port, path, method=method, headers=headers, body=body, unix_socket=unix_socket)


def as_user(user, *command):
    """`command` run as `user` (a name or a uid) with its own primary group and no others."""
    if isinstance(user, int):
        uid, gid = user, user
    else:
        entry = pwd.getpwnam(user)
        uid, gid = entry.pw_uid, entry.pw_gid
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *command]


def curl_as(user, url, unix_socket=None):
    """(status, body) of a GET by curl running as `user`."""
    command = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "10"]
    if unix_socket:
        command += ["--unix-socket", unix_socket]
    done = subprocess.run(as_user(user, *command, url), capture_output=True, text=True,
                          timeout=30)
    body, _, code = done.stdout.rpartition("\n")
    return int(code or 0), body


class GuardedSidecar:
    """Starts the double and a sidecar with TCP and a 0666 unix socket in a directory every user
    can enter."""

    def start_guarded(self, sections=None):
        os.chmod(self.workdir, 0o755)
        self.vault = self.start_double(seed=seed())
        sockets = os.path.join(self.workdir, "run")
        os.makedirs(sockets, mode=0o755)
        self.socket_path = os.path.join(sockets, "sidecar.sock")
        merged = {"listener": {"unix_socket": self.socket_path, "socket_mode": "0666"},
                  "cache": {"refresh_interval": "1h"}}
        for section, keys in (sections or {}).items():
            merged.setdefault(section, {}).update(keys)
        self.sidecar = self.start_sidecar(f"http://127.0.0.1:{self.vault.port}", sections=merged)
        return self.sidecar

    def upstream_reads(self, prefix):
        return self.vault.count("GET", prefix)


class BrowserGuardTest(GuardedSidecar, CleanExitTestCase):
    """A web page cannot read a secret, clear the cache or preflight, on either listener."""

    ATTACKS_ANY_LISTENER = [
        ("cross-site fetch", "GET", {"Host": "localhost", "Sec-Fetch-Site": "cross-site"}, 403),
        ("same-site fetch", "GET", {"Host": "localhost", "Sec-Fetch-Site": "same-site"}, 403),
        ("foreign Origin", "GET", {"Host": "localhost", "Origin": "http://attacker.example"}, 403),
        ("null Origin", "GET", {"Host": "localhost", "Origin": "null"}, 403),
        ("https loopback Origin", "GET", {"Host": "localhost", "Origin": "https://localhost"}, 403),
        ("preflight from a page", "OPTIONS",
         {"Host": "localhost", "Origin": "http://attacker.example",
          "Access-Control-Request-Method": "GET"}, 403),
        ("bare OPTIONS", "OPTIONS", {"Host": "localhost"}, 405),
    ]

    def assert_refused(self, what, status, headers, body, expected):
        self.assertEqual(status, expected, (what, body))
        for secret in (CANARY.encode(), b"password", b"lease_id"):
            self.assertNotIn(secret, body, what)
        self.assertEqual(headers.get("cache-control"), "no-store", what)
        self.assertFalse([h for h in headers if h.startswith("access-control-")], (what, headers))
        self.assertIn("errors", json.loads(body), what)

    def test_every_guard_on_both_listeners_forwards_nothing(self):
        sidecar = self.start_guarded({"proxy": {"forward_writes": "true"}})
        port = sidecar.port
        rebinding = [("rebound Host", "GET", {"Host": f"attacker.example:{port}",
                                               "Sec-Fetch-Site": "cross-site"}, 403),
                     ("rebound Host, no fetch metadata", "GET",
                      {"Host": f"attacker.example:{port}"}, 403),
                     ("loopback IP other than 127.0.0.1", "GET", {"Host": "127.0.0.2"}, 403)]
        for transport in ("tcp", "unix"):
            target = {"unix_socket": self.socket_path} if transport == "unix" else {"port": port}
            attacks = self.ATTACKS_ANY_LISTENER + (rebinding if transport == "tcp" else [])
            for path in (KV_PATH, DB_CREDS, "/sidecar/v1/health"):
                for what, method, headers, expected in attacks:
                    with self.subTest(transport=transport, attack=what, path=path):
                        got = raw(method=method, path=path, headers=headers, **target)
                        self.assert_refused(what, *got, expected)
            # A plain cross-site text/plain POST needs no preflight: it must not clear the cache
            # nor be forwarded as a write.
            for path, body in (("/sidecar/v1/cache-clear", '{"type":"all"}'),
                               (KV_PATH, '{"data":{"password":"planted"}}')):
                with self.subTest(transport=transport, attack="cross-site POST", path=path):
                    got = raw(method="POST", path=path, body=body,
                              headers={"Host": "localhost", "Content-Type": "text/plain",
                                       "Origin": "http://attacker.example"}, **target)
                    self.assert_refused("cross-site POST", *got, 403)
        self.assertEqual(self.upstream_reads("/v1/kv-demo/"), 0)
        self.assertEqual(self.upstream_reads("/v1/database/"), 0)
        self.assertEqual(self.vault.count("POST", "/v1/kv-demo/"), 0)
        self.assertEqual(self.vault.count("PUT", "/v1/kv-demo/"), 0)
        # The rebound Host on the unix socket is accepted: no browser reaches a unix socket.
        status, _, body = raw(unix_socket=self.socket_path,
                              headers={"Host": "attacker.example"})
        self.assertEqual(status, 200)
        self.assertIn(CANARY.encode(), body)

    def test_loopback_hosts_and_origins_still_work(self):
        sidecar = self.start_guarded()
        port = sidecar.port
        for host in ("127.0.0.1", f"127.0.0.1:{port}", "localhost", f"LocalHost:{port}",
                     "[::1]", f"[::1]:{port}"):
            for extra in ({}, {"Sec-Fetch-Site": "none"}, {"Sec-Fetch-Site": "same-origin"},
                          {"Origin": f"http://{host}"}):
                with self.subTest(host=host, extra=extra):
                    status, headers, body = raw(port=port, headers={"Host": host, **extra})
                    self.assertEqual(status, 200, body)
                    self.assertIn(CANARY.encode(), body)
                    self.assertEqual(headers["cache-control"], "no-store")
        # Default clients: Python's and curl's own Host header.
        self.assertEqual(request(port, KV_PATH)[0], 200)
        done = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                               f"http://127.0.0.1:{port}{KV_PATH}"], capture_output=True,
                              text=True, timeout=30)
        self.assertEqual(done.stdout, "200")
        done = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                               f"http://localhost:{port}{KV_PATH}"], capture_output=True,
                              text=True, timeout=30)
        self.assertEqual(done.stdout, "200")

    def test_cache_control_no_store_on_every_kind_of_answer(self):
        sidecar = self.start_guarded({"listener": {"enable_quit": "false"}})
        port = sidecar.port
        kinds = [
            ("kv miss", "GET", KV_PATH, None, 200, "MISS"),
            ("kv hit", "GET", KV_PATH, None, 200, "HIT"),
            ("kv head", "HEAD", KV_PATH, None, 200, "HIT"),
            ("creds miss", "GET", DB_CREDS, None, 200, "MISS"),
            ("creds hit", "GET", DB_CREDS, None, 200, "HIT"),
            ("vault 404 relayed", "GET", "/v1/kv-demo/data/missing", None, 404, None),
            ("listing", "LIST", "/v1/kv-demo/metadata/", None, 200, None),
            ("outside allow", "GET", "/v1/secret/data/x", None, 403, None),
            ("write refused", "PUT", KV_PATH, "{}", 405, None),
            ("unknown local", "GET", "/sidecar/v1/nothing", None, 404, None),
            ("health", "GET", "/sidecar/v1/health", None, 200, None),
            ("metrics", "GET", "/sidecar/v1/metrics", None, 200, None),
            ("vault health", "GET", "/v1/sys/health", None, 200, None),
            ("cache clear", "POST", "/sidecar/v1/cache-clear", '{"type":"all"}', 200, None),
            ("cache clear bad body", "POST", "/sidecar/v1/cache-clear", "nope", 400, None),
            ("malformed target", "GET", "/v1/kv-demo/%zz", None, 400, None),
        ]
        for transport in ("tcp", "unix"):
            target = {"unix_socket": self.socket_path} if transport == "unix" else {"port": port}
            raw(method="POST", path="/sidecar/v1/cache-clear", body='{"type":"all"}', **target)
            for what, method, path, body, expected, cache in kinds:
                with self.subTest(transport=transport, kind=what):
                    status, headers, _ = raw(method=method, path=path, body=body,
                                             headers={"Host": "localhost"}, **target)
                    self.assertEqual(status, expected, what)
                    self.assertEqual(headers.get("cache-control"), "no-store", (what, headers))
                    # cache-clear empties the KV cache; held leases stay held.
                    if cache and not (transport == "unix" and path == DB_CREDS):
                        self.assertEqual(headers.get("x-cache"), cache, what)
                    self.assertFalse([h for h in headers if h.startswith("access-control-")])
        # A refusal before any parsing (an oversized header) is written by the listener too.
        status, headers, _ = raw(port=port, headers={"Host": "localhost", "X-Big": "y" * 20000})
        self.assertEqual(status, 431)
        self.assertEqual(headers.get("cache-control"), "no-store")


class ClientAccessTest(GuardedSidecar, CleanExitTestCase):
    """[client.*]: root, nobody and daemon each read only their own paths, on both listeners,
    as the kernel identifies them; a caller matching no client gets the probes only."""

    CLIENTS = {
        "client.ops": {"users": "root", "allow": "/v1/kv-demo/*, /v1/database/creds/*"},
        "client.web": {"users": "nobody", "allow": "/v1/kv-web/*"},
        "client.batch": {"groups": "daemon", "allow": "/v1/kv-ops/*"},
    }

    def url(self, transport, path):
        if transport == "unix":
            return f"http://localhost{path}", self.socket_path
        return f"http://127.0.0.1:{self.sidecar.port}{path}", None

    def test_each_user_reads_only_its_own_paths_and_refusals_reach_no_vault(self):
        self.start_guarded(dict(self.CLIENTS))
        own = {"root": (KV_PATH, CANARY), "nobody": (WEB_PATH, WEB_CANARY),
               "daemon": (OPS_PATH, OPS_CANARY)}
        # Cold: every cross read first, so any forwarded one would show in the double's log.
        for transport in ("tcp", "unix"):
            for user in own:
                for other, (path, canary) in own.items():
                    if other == user:
                        continue
                    with self.subTest(transport=transport, user=user, path=path):
                        status, body = curl_as(user, *self.url(transport, path))
                        self.assertEqual(status, 403, body)
                        self.assertNotIn(canary, body)
                        self.assertIn("allow list", body)
            status, body = curl_as(4242, *self.url(transport, KV_PATH))  # a uid without a name
            self.assertEqual(status, 403, body)
            self.assertIn("(uid 4242) matches no [client.*] section", body)
            self.assertNotIn(CANARY, body)
        for prefix in ("/v1/kv-demo/", "/v1/kv-web/", "/v1/kv-ops/"):
            self.assertEqual(self.upstream_reads(prefix), 0, prefix)
        status, body = curl_as("nobody", *self.url("tcp", DB_CREDS))
        self.assertEqual(status, 403)
        self.assertEqual(self.upstream_reads("/v1/database/"), 0)

        for transport in ("tcp", "unix"):
            for user, (path, canary) in own.items():
                with self.subTest(transport=transport, user=user, own=path):
                    status, body = curl_as(user, *self.url(transport, path))
                    self.assertEqual(status, 200, body)
                    self.assertIn(canary, body)
        # Probes stay open to everyone, a stranger included; nothing else does.
        for user in ("root", "nobody", "daemon", 4242):
            for transport in ("tcp", "unix"):
                with self.subTest(user=user, transport=transport, probe=True):
                    self.assertEqual(curl_as(user, *self.url(transport, "/sidecar/v1/health"))[0],
                                     200)
                    self.assertEqual(
                        curl_as(user, *self.url(transport, "/sidecar/v1/metrics"))[0], 200)
        done = subprocess.run(
            as_user(4242, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                    "--data", '{"type":"all"}',
                    f"http://127.0.0.1:{self.sidecar.port}/sidecar/v1/cache-clear"),
            capture_output=True, text=True, timeout=30)
        self.assertEqual(done.stdout, "403")
        # Counts per client, no more.
        _, _, metrics = request(self.sidecar.port, "/sidecar/v1/metrics")
        text = metrics.decode()
        self.assertRegex(text, r'client_requests_total\{client="web"\} [1-9]')
        self.assertRegex(text, r'client_refusals_total\{client="web"\} [1-9]')
        self.assertRegex(text, r'client_refusals_total\{client="-"\} [1-9]')
        _, _, health = request(self.sidecar.port, "/sidecar/v1/health")
        clients = json.loads(health)["clients"]
        self.assertEqual(sorted(clients), ["-", "batch", "ops", "web"])
        self.assertGreaterEqual(clients["web"]["requests"], 6)
        self.assertGreaterEqual(clients["web"]["refusals"], 4)
        self.assertGreaterEqual(clients["-"]["refusals"], 3)
        self.assertEqual(set(clients["ops"]), {"requests", "refusals"})  # counts only

    def test_first_matching_client_wins_in_file_order(self):
        # nobody's primary group is nogroup: the group client comes first and wins.
        self.start_guarded({"client.by-group": {"groups": "nogroup", "allow": "/v1/kv-ops/*"},
                            "client.by-user": {"users": "nobody", "allow": "/v1/kv-web/*"}})
        self.assertEqual(curl_as("nobody", *self.url("unix", OPS_PATH))[0], 200)
        self.assertEqual(curl_as("nobody", *self.url("tcp", WEB_PATH))[0], 403)


class ClientConnectionLimitTest(GuardedSidecar, CleanExitTestCase):
    """One client holding all of its max_connections locks out neither another client nor the
    other listener."""

    def test_a_client_at_its_cap_leaves_other_clients_working(self):
        sidecar = self.start_guarded({
            "client.web": {"users": "nobody", "allow": "/v1/kv-web/*"},
            "client.batch": {"users": "daemon", "allow": "/v1/kv-ops/*", "max_connections": "2"}})
        # daemon opens two keep-alive connections and holds them.
        holder = subprocess.Popen(as_user("daemon", "python3", "-c", f"""
import http.client, sys, time
conns = []
for _ in range(2):
    c = http.client.HTTPConnection("127.0.0.1", {sidecar.port}, timeout=10)
    c.request("GET", "{OPS_PATH}")
    r = c.getresponse(); r.read()
    conns.append(c)
    print(r.status, flush=True)
time.sleep(30)
"""), stdout=subprocess.PIPE, text=True)
        self.addCleanup(holder.stdout.close)
        self.addCleanup(holder.wait)
        self.addCleanup(holder.kill)
        self.assertEqual(holder.stdout.readline().strip(), "200")
        self.assertEqual(holder.stdout.readline().strip(), "200")
        # A third connection of daemon's is closed at once; nobody's are served.
        status, _ = curl_as("daemon", *self.url_tcp(OPS_PATH))
        self.assertEqual(status, 0)  # curl saw the connection closed without an answer
        for _ in range(3):
            status, body = curl_as("nobody", *self.url_tcp(WEB_PATH))
            self.assertEqual(status, 200, body)
        _, _, metrics = request(sidecar.port, "/sidecar/v1/metrics")
        self.assertRegex(metrics.decode(),
                         r'client_connections_refused_total\{client="batch"\} [1-9]')
        holder.kill()
        holder.wait()
        wait_until(lambda: curl_as("daemon", *self.url_tcp(OPS_PATH))[0] == 200, 10,
                   what="daemon served again once its connections closed")

    def url_tcp(self, path):
        return f"http://127.0.0.1:{self.sidecar.port}{path}", None


class ClientReloadTest(GuardedSidecar, E2ETestCase):
    """SIGHUP adds and removes clients without a restart; open connections are matched again."""

    def test_reload_adds_and_removes_a_client(self):
        sidecar = self.start_guarded({"client.ops": {"users": "root", "allow": "/v1/kv-demo/*"}})
        conn = http.client.HTTPConnection("127.0.0.1", sidecar.port, timeout=10)
        self.addCleanup(conn.close)

        def status(path):
            conn.request("GET", path)
            answer = conn.getresponse()
            answer.read()
            return answer.status

        self.assertEqual(status(KV_PATH), 200)
        self.assertEqual(curl_as("nobody", f"http://127.0.0.1:{sidecar.port}{WEB_PATH}")[0], 403)
        text = read_text(sidecar.config_path)
        text = text.replace("[client.ops]\nusers = root\nallow = /v1/kv-demo/*\n",
                            "[client.web]\nusers = nobody\nallow = /v1/kv-web/*\n")
        self.assertIn("[client.web]", text)
        with open(sidecar.config_path, "w") as f:
            f.write(text)
        sidecar.process.signal(signal.SIGHUP)
        wait_until(lambda: "SIGHUP: applied" in sidecar.log() and "client.web" in sidecar.log(),
                   20, what="the reload applied")
        # root's open connection now matches no client; nobody is served.
        self.assertEqual(status(KV_PATH), 403)
        self.assertEqual(status("/sidecar/v1/health"), 200)
        code, body = curl_as("nobody", f"http://127.0.0.1:{sidecar.port}{WEB_PATH}")
        self.assertEqual(code, 200, body)
        self.assertIn(WEB_CANARY, body)
        self.assertEqual(self.vault.count("POST", "/v1/auth/approle/login"), 1)
        self.assertIsNone(sidecar.process.proc.poll())


class AuditTest(GuardedSidecar, CleanExitTestCase):
    """[audit] destination: one JSON line per request, never a value; reopened on SIGHUP."""

    def test_hit_miss_and_refusals_with_their_fields_and_no_secret(self):
        path = os.path.join(self.workdir, "audit", "audit.json")
        os.makedirs(os.path.dirname(path))
        sidecar = self.start_guarded({"audit": {"destination": path},
                                      "client.ops": {"users": "root",
                                                     "allow": "/v1/kv-demo/*, /v1/database/creds/*"},
                                      "client.web": {"users": "nobody", "allow": "/v1/kv-web/*"}})
        port = sidecar.port
        self.assertEqual(request(port, KV_PATH + "?version=1")[0], 200)  # MISS
        self.assertEqual(request(port, KV_PATH)[0], 200)  # HIT (or MISS: the query differs)
        self.assertEqual(request(port, KV_PATH)[0], 200)  # HIT
        self.assertEqual(request(port, DB_CREDS)[0], 200)
        self.assertEqual(raw(port=port, headers={"Host": "attacker.example"})[0], 403)
        self.assertEqual(curl_as("nobody", f"http://localhost{KV_PATH}", self.socket_path)[0],
                         403)

        def lines():
            try:
                with open(path) as f:
                    return [json.loads(line) for line in f]
            except FileNotFoundError:
                return []
        wait_until(lambda: len([l for l in lines() if l["path"] != "/sidecar/v1/health"]) >= 6,
                   10, what="six audit lines")
        text = read_text(path)
        for secret in (CANARY, WEB_CANARY, SECRET_ID, ROLE_ID, "lease_id", "database/creds/myapp"
                       "-role/", "password", "version=1"):
            self.assertNotIn(secret, text)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        records = [l for l in lines() if l["path"] != "/sidecar/v1/health"]
        kv = [l for l in records if l["path"] == KV_PATH and l["status"] == 200]
        self.assertEqual(kv[-1]["cache"], "HIT")
        self.assertIn("MISS", [l["cache"] for l in kv])
        for line in kv:
            self.assertEqual(line["listener"], "tcp")
            self.assertEqual(line["uid"], 0)
            self.assertEqual(line["client"], "ops")
            self.assertEqual(line["method"], "GET")
            self.assertIn("upstream_ms", line)
            self.assertRegex(line["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        creds = [l for l in records if l["path"] == DB_CREDS]
        self.assertEqual(creds[0]["status"], 200)
        rebound = [l for l in records if l["status"] == 403 and l["listener"] == "tcp"]
        self.assertIn("Host", rebound[0]["reason"])
        self.assertEqual(rebound[0]["path"], "-")
        refused = [l for l in records if l["listener"] == "unix"]
        self.assertEqual(refused[0]["status"], 403)
        self.assertEqual(refused[0]["uid"], 65534)
        self.assertEqual(refused[0]["gid"], 65534)
        self.assertIn("pid", refused[0])
        self.assertEqual(refused[0]["client"], "web")
        self.assertIn("client.web's allow list", refused[0]["reason"])
        self.assertEqual(refused[0]["cache"], "-")

        # logrotate: move the file, SIGHUP, and the next line lands in a new file.
        os.rename(path, path + ".1")
        sidecar.process.signal(signal.SIGHUP)
        wait_until(lambda: "SIGHUP:" in sidecar.log(), 10, what="the reload")
        wait_until(lambda: request(port, KV_PATH)[0] == 200 and os.path.exists(path)
                   and any(l["path"] == KV_PATH for l in lines()), 10,
                   what="a line in the reopened file")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)


class CredentialFileTest(E2ETestCase):
    """A secret_id file others may write is refused at start, as ssh refuses a loose key."""

    def test_a_world_writable_secret_id_file_is_exit_78(self):
        vault = self.start_double()
        role = write_file(os.path.join(self.workdir, "creds", "role_id"), ROLE_ID + "\n", 0o600)
        secret = write_file(os.path.join(self.workdir, "creds", "secret_id"), SECRET_ID + "\n",
                            0o666)
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", write_credentials=False,
                                     wait_ready=False,
                                     sections={"auth": {"role_id_file": role,
                                                        "secret_id_file": secret}})
        self.assertEqual(sidecar.wait_exit(30), 78)
        log = sidecar.log()
        self.assertIn(f"auth.secret_id_file {secret} is writable by everyone", log)
        self.assertIn(f"chmod go-w {secret}", log)
        self.assertNotIn(SECRET_ID, log)
        self.assertEqual(vault.count("POST", "/v1/auth/approle/login"), 0)

    def test_a_file_owned_by_another_user_is_exit_78(self):
        vault = self.start_double()
        role = write_file(os.path.join(self.workdir, "creds", "role_id"), ROLE_ID + "\n", 0o644)
        os.chown(role, pwd.getpwnam("nobody").pw_uid, -1)
        secret = write_file(os.path.join(self.workdir, "creds", "secret_id"), SECRET_ID + "\n",
                            0o600)
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", write_credentials=False,
                                     wait_ready=False,
                                     sections={"auth": {"role_id_file": role,
                                                        "secret_id_file": secret}})
        self.assertEqual(sidecar.wait_exit(30), 78)
        self.assertIn(f"auth.role_id_file {role} is owned by uid 65534", sidecar.log())


class IdentityCheckTest(unittest.TestCase):
    """`check` shows the client table, warns without clients on TCP, and the listener default."""

    def check(self, text):
        import tempfile
        work = tempfile.mkdtemp(prefix="sidecar-check-")
        path = os.path.join(work, "x.ini")
        with open(path, "w") as f:
            f.write(text)
        done = subprocess.run([SIDECAR_BIN, "check", "--config", path], capture_output=True,
                              text=True, timeout=30, env={"PATH": os.environ["PATH"]})
        os.unlink(path)
        os.rmdir(work)
        return done

    def test_warns_without_clients_and_prints_the_table_with_them(self):
        done = self.check("[listener]\naddress = 127.0.0.1:8100\n")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("WARNING: no [client.*] section and a TCP listener is on", done.stdout)
        done = self.check("[client.web]\nusers = nobody\nallow = /v1/kv-web/*\n"
                          "[client.ops]\ngroups = daemon\nallow = /v1/kv-ops/*\n"
                          "max_connections = 4\n")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertNotIn("WARNING: no [client.*]", done.stdout)
        self.assertIn("[client.web]\nusers = nobody  ; uids 65534\n", done.stdout)
        self.assertIn("[client.ops]", done.stdout)
        self.assertIn("max_connections = 4", done.stdout)
        self.assertLess(done.stdout.index("[client.web]"), done.stdout.index("[client.ops]"))

    def test_bad_clients_are_exit_78_with_lines(self):
        done = self.check("[client.web]\nusers = no-such-user-17\nallow = /v1/secret/*\n")
        self.assertEqual(done.returncode, 78)
        self.assertIn("x.ini:2: client.web.users: unknown user \"no-such-user-17\"", done.stderr)
        self.assertIn("x.ini:3: client.web.allow: pattern \"/v1/secret/*\" is not inside [proxy] "
                      "allow", done.stderr)

    def test_a_unix_socket_alone_means_no_tcp(self):
        done = self.check("[listener]\nunix_socket = /run/x.sock\n")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("address =  ; no TCP listener", done.stdout)
        done = self.check("[listener]\nunix_socket = /run/x.sock\naddress = 127.0.0.1:8100\n")
        self.assertIn("address = 127.0.0.1:8100\n", done.stdout)

    def test_loose_template_perms_are_warned_about(self):
        done = self.check("[template.a]\nsource = /a\ndestination = /b\nperms = 0664\n")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("perms = 0664  ; WARNING", done.stdout)
        done = self.check("[template.a]\nsource = /a\ndestination = /b\nperms = 0640\n")
        self.assertNotIn("WARNING: group-writable", done.stdout)


if __name__ == "__main__":
    unittest.main()
