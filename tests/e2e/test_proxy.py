"""Issue 4 end to end: the local proxy (DESIGN.md "HTTP contract of the local listener")."""
import json
import os
import re
import select
import signal
import socket
import stat
import subprocess
import time
import unittest

from harness import CleanExitTestCase, default_seed, read_text, request, wait_until

KV_PATH = "/v1/kv-demo/data/sample"


def raw_request(port, data, timeout=15, unix_socket=None):
    """Sends raw bytes (http.client refuses NUL, bad methods, ...) and reads until the peer
    closes; returns (status or None, headers dict, body bytes)."""
    if unix_socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(unix_socket)
    else:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    answer = b""
    with sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused early: the answer may still be readable
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
    return parse_response(answer)


def parse_response(answer):
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", lines[0] + b" ")
    if not match:
        return None, {}, answer
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.decode().strip().lower()] = value.decode().strip()
    return int(match.group(1)), headers, body


def http_bytes(method, target, headers=(), body=b""):
    """A request with Connection: close, so the sidecar closes once it has answered."""
    method = method.encode() if isinstance(method, str) else method
    target = target.encode() if isinstance(target, str) else target
    out = method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    for header in headers:
        out += (header.encode() if isinstance(header, str) else header) + b"\r\n"
    if body:
        out += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    return out + b"\r\n" + body


_SAMPLE = r"[-+]?(?:[0-9.]+(?:[eE][-+]?[0-9]+)?|NaN|[+-]?Inf)"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"'
_SAMPLE_LINE = re.compile(rf"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{{(?:{_LABEL}(?:,{_LABEL})*)?\}})? "
                          rf"({_SAMPLE})$")
_TYPE_LINE = re.compile(r"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|"
                        r"untyped)$")


def parse_prometheus(text):
    """Prometheus text format 0.0.4, strictly: every non-comment line is `name{labels} value`,
    and a family's `# TYPE` line comes before its samples. Returns {(name, labels): value}."""
    typed = {}
    samples = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        if line.startswith("#"):
            match = _TYPE_LINE.match(line)
            if match:
                if match.group(1) in typed:
                    raise AssertionError(f"line {number}: second TYPE for {match.group(1)}")
                typed[match.group(1)] = match.group(2)
            elif not line.startswith("# HELP "):
                raise AssertionError(f"line {number}: unknown comment {line!r}")
            continue
        match = _SAMPLE_LINE.match(line)
        if not match:
            raise AssertionError(f"line {number}: not `name{{labels}} value`: {line!r}")
        name, labels, value = match.groups()
        family = name
        if name not in typed:
            for suffix in ("_bucket", "_sum", "_count"):
                if name.endswith(suffix) and name[:-len(suffix)] in typed:
                    family = name[:-len(suffix)]
        if family not in typed:
            raise AssertionError(f"line {number}: sample of {name} before its # TYPE line")
        pairs = tuple(sorted(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"',
                                        labels or "")))
        key = (name, pairs)
        if key in samples:
            raise AssertionError(f"line {number}: duplicate sample {line!r}")
        samples[key] = float(value)
    return samples


def requests_total(samples, route, code):
    return samples.get(("vault_sidecar_requests_total",
                        (("code", str(code)), ("route", route))), 0.0)


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def proxy_seed():
    """The default seed plus a KV mount the role may not read (for Vault's own 403)."""
    seed = default_seed()
    seed["kv_mounts"]["kv-secret"] = {"version": 2, "secrets": {"hidden": {"k": "v"}}}
    return seed


class TokenInjectionTest(CleanExitTestCase):
    def test_kv_read_matches_a_direct_read_and_carries_only_the_sidecar_token(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        direct_token = vault.control("token", {"policies": ["app"], "ttl": 3600})["token"]

        status, headers, body = sidecar.get(KV_PATH, headers={
            "X-Vault-Token": "bogus", "Authorization": "Bearer bogus"})
        direct_status, _, direct_body = request(vault.port, KV_PATH,
                                                headers={"X-Vault-Token": direct_token})
        self.assertEqual(status, 200)
        self.assertEqual(status, direct_status)
        ours, theirs = json.loads(body), json.loads(direct_body)
        for answer in (ours, theirs):
            answer.pop("request_id")  # Vault gives every answer its own
        self.assertEqual(ours, theirs)
        self.assertEqual(headers["x-cache"], "MISS")

        # A listing is forwarded, not cached: a second sidecar request with the client's token.
        list_status, _, _ = sidecar.get("/v1/kv-demo/metadata/?list=true",
                                        headers={"X-Vault-Token": "bogus"})
        self.assertEqual(list_status, 200)

        log = vault.requests()
        self.assertEqual(sum(1 for r in log if r["path"] == "/v1/auth/approle/login"), 1)
        from_sidecar = [r for r in log
                        if r["path"] != "/v1/auth/approle/login" and r["token"] != direct_token]
        self.assertEqual(len(from_sidecar), 2, log)
        tokens = {r["token"] for r in from_sidecar}
        self.assertEqual(len(tokens), 1, log)
        (sidecar_token,) = tokens
        self.assertTrue(sidecar_token.startswith("hvs."))
        self.assertNotIn("bogus", sidecar_token)
        # The token the sidecar injected is a real one: the one its single login created.
        check, _, info = request(vault.port, "/v1/auth/token/lookup-self",
                                 headers={"X-Vault-Token": sidecar_token})
        self.assertEqual(check, 200)
        self.assertEqual(json.loads(info)["data"]["path"], "auth/approle/login")
        self.assertEqual(json.loads(info)["data"]["meta"], {"role_name": "app"})

    def test_double_encoding_is_decoded_once_and_forwarded_as_it_was(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        status, _, _ = raw_request(sidecar.port,
                                   http_bytes("GET", "/v1/kv-demo/%252e%252e/data/sample"))
        self.assertEqual(status, 404)  # Vault's answer for that literal path
        paths = [r["path"] for r in vault.requests() if r["method"] == "GET"]
        self.assertEqual(paths, ["/v1/kv-demo/%252e%252e/data/sample"])


def hostile_corpus():
    """(description, raw request bytes): each must get a 4xx and never reach Vault."""
    long_segment = "a" * 5000
    cases = [
        # encoded and double-encoded dot segments
        ("dotdot", http_bytes("GET", "/v1/kv-demo/../sys/mounts")),
        ("dotdot to auth", http_bytes("GET",
                                      "/v1/kv-demo/data/../../../v1/auth/token/create")),
        ("encoded dotdot", http_bytes("GET", "/v1/kv-demo/%2e%2e/%2e%2e/v1/sys/mounts")),
        ("upper encoded dotdot", http_bytes("GET", "/v1/kv-demo/%2E%2E/%2E%2E/v1/sys/seal-status")),
        ("mixed encoded dotdot", http_bytes("GET", "/v1/kv-demo/.%2e/.%2E/v1/sys/policy/root")),
        ("double-encoded dotdot", http_bytes("GET", "/v1/sys/%252e%252e/kv-demo/data/sample")),
        ("double-encoded dotdot at v1", http_bytes("GET", "/v1/%252e%252e/v1/kv-demo/data/sample")),
        ("dotdot above root", http_bytes("GET", "/../../v1/kv-demo/data/sample")),
        ("encoded slash", http_bytes("GET", "/v1/kv-demo%2f..%2f..%2fv1%2fsys%2fmounts")),
        ("encoded slash upper", http_bytes("GET", "/v1/kv-demo%2F..%2Fsys%2Fmounts")),
        ("double-encoded slash", http_bytes("GET", "/v1/sys%252f..%252fkv-demo/data/sample")),
        ("double slash", http_bytes("GET", "//v1/sys/mounts")),
        ("double slash inside", http_bytes("GET", "/v1//sys//seal-status")),
        ("double slash dotdot", http_bytes("GET", "/v1/kv-demo//..//..//v1/sys/mounts")),
        # absolute-form targets naming a path outside allow
        ("absolute form", http_bytes("GET", "http://vault.example:8200/v1/sys/mounts")),
        ("absolute form https", http_bytes("GET", "https://127.0.0.1/v1/auth/token/create")),
        ("absolute form dotdot", http_bytes("GET", "http://x/v1/kv-demo/../../v1/sys/mounts")),
        # backslashes, raw and encoded
        ("backslash", http_bytes("GET", "/v1/kv-demo\\..\\..\\v1\\sys\\mounts")),
        ("encoded backslash", http_bytes("GET", "/v1/kv-demo/%5c..%5c..%5cv1%5csys%5cmounts")),
        # NUL and other control bytes, raw and encoded
        ("raw NUL", http_bytes("GET", b"/v1/kv-demo/data/sample\x00/../../../v1/sys/mounts")),
        ("encoded NUL", http_bytes("GET", "/v1/kv-demo/data/sample%00")),
        ("encoded newline", http_bytes("GET", "/v1/kv-demo/data/sample%0d%0aX-Injected:%20yes")),
        ("raw DEL", http_bytes("GET", b"/v1/kv-demo/data/\x7fsample")),
        ("raw non-ASCII", http_bytes("GET", b"/v1/kv-demo/data/\xc3\xa9")),
        ("fragment", http_bytes("GET", "/v1/kv-demo/data/sample#x")),
        ("bad percent", http_bytes("GET", "/v1/kv-demo/data/%zz")),
        ("truncated percent", http_bytes("GET", "/v1/kv-demo/data/sample%2")),
        ("bad percent in query", http_bytes("GET", "/v1/kv-demo/data/sample?version=%g1")),
        ("asterisk target", http_bytes("GET", "*")),
        # overlong target and headers
        ("overlong target", http_bytes("GET", "/v1/kv-demo/data/" + long_segment)),
        ("huge target", http_bytes("GET", "/v1/kv-demo/data/" + "b" * 20000)),
        ("overlong header", http_bytes("GET", KV_PATH, headers=["X-Pad: " + "c" * 20000])),
        ("many headers", http_bytes("GET", KV_PATH,
                                    headers=[f"X-H{i}: {'d' * 100}" for i in range(200)])),
        # Vault's system and token backends, whatever the method
        ("sys mounts", http_bytes("GET", "/v1/sys/mounts")),
        ("sys seal", http_bytes("PUT", "/v1/sys/seal")),
        ("sys policy", http_bytes("GET", "/v1/sys/policy/root")),
        ("sys revoke-prefix", http_bytes("PUT", "/v1/sys/leases/revoke-prefix/database")),
        ("sys raw", http_bytes("GET", "/v1/sys/raw/core/mounts")),
        ("sys health lookalike", http_bytes("GET", "/v1/sys/health/../seal-status")),
        ("sys health prefix", http_bytes("GET", "/v1/sys/healthz")),
        ("token create", http_bytes("POST", "/v1/auth/token/create",
                                    body=b'{"policies":["root"]}')),
        ("token create GET", http_bytes("GET", "/v1/auth/token/create")),
        # lookup-self is answered locally (test_clients.py); its neighbours stay refused.
        ("token lookup", http_bytes("POST", "/v1/auth/token/lookup",
                                    headers=["X-Vault-Token: bogus"], body=b'{"token":"x"}')),
        ("token lookup-accessor", http_bytes("GET", "/v1/auth/token/lookup-accessor",
                                             headers=["X-Vault-Token: bogus"])),
        ("approle login", http_bytes("POST", "/v1/auth/approle/login",
                                     body=b'{"role_id":"x","secret_id":"y"}')),
        ("approle secret-id", http_bytes("POST", "/v1/auth/approle/role/app/secret-id")),
        ("database roles", http_bytes("GET", "/v1/database/roles/myapp-role")),
        ("database roles write", http_bytes("POST", "/v1/database/roles/evil",
                                            body=b'{"db_name":"x"}')),
        ("database roles delete", http_bytes("DELETE", "/v1/database/roles/myapp-role")),
        ("database config", http_bytes("GET", "/v1/database/config/postgres")),
        ("creds dotdot to roles", http_bytes("GET", "/v1/database/creds/../roles/myapp-role")),
        ("creds extra segment", http_bytes("GET", "/v1/database/creds/myapp-role/extra")),
        ("creds write", http_bytes("POST", "/v1/database/creds/myapp-role")),
        ("other engine", http_bytes("GET", "/v1/cubbyhole/anything")),
        ("case of mount", http_bytes("GET", "/v1/KV-demo/data/sample")),
        ("case of v1", http_bytes("GET", "/V1/kv-demo/data/sample")),
        ("outside v1", http_bytes("GET", "/kv-demo/data/sample")),
        ("quit without enable_quit", http_bytes("POST", "/sidecar/v1/quit")),
        ("local dotdot", http_bytes("GET", "/sidecar/v1/../../v1/sys/mounts")),
        # methods no route takes
        ("CONNECT", http_bytes("CONNECT", "127.0.0.1:8200")),
        ("CONNECT path", http_bytes("CONNECT", KV_PATH)),
        ("TRACE", http_bytes("TRACE", KV_PATH)),
        ("OPTIONS", http_bytes("OPTIONS", KV_PATH)),
        ("OPTIONS asterisk", http_bytes("OPTIONS", "*")),
        ("lower-case get", http_bytes("get", KV_PATH)),
        ("unknown method", http_bytes("PROPFIND", KV_PATH)),
        # writes while forward_writes is off
        ("PUT", http_bytes("PUT", KV_PATH, body=b'{"data":{"password":"x"}}')),
        ("POST", http_bytes("POST", KV_PATH, body=b'{"data":{"password":"x"}}')),
        ("PATCH", http_bytes("PATCH", KV_PATH,
                             headers=["Content-Type: application/merge-patch+json"],
                             body=b'{"data":{"password":"x"}}')),
        ("DELETE", http_bytes("DELETE", KV_PATH)),
        ("metadata delete", http_bytes("DELETE", "/v1/kv-demo/metadata/sample")),
        ("destroy", http_bytes("POST", "/v1/kv-demo/destroy/sample", body=b'{"versions":[1]}')),
        ("kv v1 write", http_bytes("PUT", "/v1/kv-v1/config", body=b'{"x":"y"}')),
        # framing tricks
        ("smuggling", b"POST " + KV_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                      b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n"),
        ("space in target", b"GET /v1/kv demo/data/sample HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("bad version", b"GET " + KV_PATH.encode() + b" HTTP/9.9\r\nHost: x\r\n\r\n"),
    ]
    return cases


class HostileRequestTest(CleanExitTestCase):
    def test_hostile_corpus_is_refused_with_4xx_and_never_forwarded(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        corpus = hostile_corpus()
        self.assertGreaterEqual(len(corpus), 40)
        before = vault.requests()
        failures = []
        for name, data in corpus:
            status, _, body = raw_request(sidecar.port, data)
            if status is None or not 400 <= status < 500:
                failures.append(f"{name}: {status} {body[:200]!r}")
                continue
            if body:
                errors = json.loads(body).get("errors")
                if not (isinstance(errors, list) and errors):
                    failures.append(f"{name}: body not Vault's error shape: {body[:200]!r}")
        after = vault.requests()
        self.assertEqual(failures, [])
        self.assertEqual(after[len(before):], [], "forwarded to Vault")
        self.assertEqual(after[:len(before)], before)
        # Still serving after all that.
        self.assertEqual(sidecar.get(KV_PATH)[0], 200)
        self.assertIsNone(sidecar.process.proc.poll())


class RequestHeaderTest(CleanExitTestCase):
    def test_require_request_header_412_without_200_with_probes_exempt(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"listener": {"require_request_header": "true"}})
        status, _, body = sidecar.get(KV_PATH)
        self.assertEqual(status, 412)
        self.assertEqual(json.loads(body), {"errors": ['missing "X-Vault-Request" header']})
        self.assertEqual(body.strip(), b'{"errors":["missing \\"X-Vault-Request\\" header"]}')
        self.assertEqual(vault.count("GET", "/v1/kv-demo/"), 0)

        status, _, _ = sidecar.get(KV_PATH, headers={"X-Vault-Request": "false"})
        self.assertEqual(status, 412)
        status, _, _ = sidecar.get("/sidecar/v1/cache-clear", method="POST",
                                   body=json.dumps({"type": "all"}))
        self.assertEqual(status, 412)

        status, _, body = sidecar.get(KV_PATH, headers={"X-Vault-Request": "true"})
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["data"]["data"]["username"], "demo")

        for path in ("/sidecar/v1/health", "/sidecar/v1/metrics", "/proxy/v1/metrics"):
            self.assertEqual(sidecar.get(path)[0], 200, path)


class ListenerLimitsTest(CleanExitTestCase):
    def test_2_mib_body_is_413(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"proxy": {"forward_writes": "true"}})
        payload = json.dumps({"data": {"blob": "x" * (2 * 1024 * 1024)}}).encode()
        status, _, body = raw_request(sidecar.port, http_bytes(
            "PUT", KV_PATH, headers=["Content-Type: application/json"], body=payload))
        self.assertEqual(status, 413)
        self.assertIn("errors", json.loads(body))

        # Chunked: no length up front, refused once the limit is crossed.
        chunk = b"y" * 65536
        chunked = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(32))
        status, _, _ = raw_request(sidecar.port, b"PUT " + KV_PATH.encode() + b" HTTP/1.1\r\n"
                                   b"Host: x\r\nTransfer-Encoding: chunked\r\n"
                                   b"Connection: close\r\n\r\n" + chunked + b"0\r\n\r\n")
        self.assertEqual(status, 413)
        self.assertEqual(vault.count("PUT", "/v1/kv-demo/"), 0)
        self.assertEqual(vault.count("POST", "/v1/kv-demo/"), 0)

    def test_client_trickling_header_bytes_is_cut_off_within_the_header_timeout(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        trickle = b"GET " + KV_PATH.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + \
            b"z" * 100
        sock = socket.create_connection(("127.0.0.1", sidecar.port), timeout=5)
        started = time.monotonic()
        received = b""
        closed_after = None
        with sock:
            for byte in trickle:
                try:
                    sock.sendall(bytes([byte]))
                except (BrokenPipeError, ConnectionResetError):
                    closed_after = time.monotonic() - started
                    break
                readable, _, _ = select.select([sock], [], [], 1.0)
                if readable:
                    try:
                        chunk = sock.recv(4096)
                    except ConnectionResetError:
                        chunk = b""
                    received += chunk
                    if not chunk:
                        closed_after = time.monotonic() - started
                        break
                if time.monotonic() - started > 20:
                    break
        self.assertIsNotNone(closed_after, "still connected after 20 s of trickling")
        self.assertLessEqual(closed_after, 15)
        self.assertGreaterEqual(closed_after, 5)  # the timeout, not an instant refusal
        self.assertNotIn(b"200 OK", received)
        self.assertEqual(vault.count("GET", "/v1/kv-demo/"), 0)
        self.assertEqual(sidecar.health()[0], 200)

    def test_2000_connections_leave_the_fd_count_where_it_started(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        pid = sidecar.process.proc.pid
        self.assertEqual(sidecar.get(KV_PATH)[0], 200)  # upstream connection pooled already
        time.sleep(0.5)
        baseline = fd_count(pid)
        opened = 0
        for batch in range(20):  # 100 at a time, so many sessions are open at once
            socks = [socket.create_connection(("127.0.0.1", sidecar.port), timeout=10)
                     for _ in range(100)]
            if batch % 2:
                for s in socks[:10]:  # some send a request before closing
                    s.sendall(http_bytes("GET", "/sidecar/v1/health"))
            opened += len(socks)
            for s in socks:
                s.close()
        self.assertEqual(opened, 2000)
        wait_until(lambda: fd_count(pid) <= baseline + 3, 30,
                   what=f"fd count back to {baseline} (now {fd_count(pid)})")
        self.assertGreaterEqual(fd_count(pid), baseline - 3)
        self.assertEqual(sidecar.health()[0], 200)


class UnixSocketTest(CleanExitTestCase):
    def test_socket_mode_curl_and_removal_on_sigterm(self):
        vault = self.start_double()
        path = os.path.join(self.workdir, "sidecar.sock")
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"listener": {"unix_socket": path,
                                                            "socket_mode": "0600"}})
        info = os.stat(path)
        self.assertTrue(stat.S_ISSOCK(info.st_mode))
        self.assertEqual(stat.S_IMODE(info.st_mode), 0o600)

        status, headers, body = request(0, KV_PATH, unix_socket=path)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["data"]["data"]["username"], "demo")
        curl = subprocess.run(["curl", "-sS", "--max-time", "10", "--unix-socket", path,
                               "-o", "-", "-w", "\n%{http_code}",
                               "http://localhost/sidecar/v1/health"],
                              capture_output=True, text=True, timeout=20)
        self.assertEqual(curl.returncode, 0, curl.stderr)
        curl_body, _, curl_code = curl.stdout.rpartition("\n")
        self.assertEqual(curl_code, "200")
        self.assertEqual(json.loads(curl_body)["status"], "ok")
        # The same refusals as over TCP.
        status, _, _ = raw_request(0, http_bytes("GET", "/v1/sys/mounts"), unix_socket=path)
        self.assertEqual(status, 403)

        sidecar.process.signal(signal.SIGTERM)
        self.assertEqual(sidecar.wait_exit(15), 0)
        self.assertFalse(os.path.exists(path))


class HealthAndMetricsTest(CleanExitTestCase):
    def test_health_503_while_vault_is_down_at_start_then_200(self):
        vault = self.start_double()
        vault.control("down")
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", wait_ready=False,
                                     sections={"auth": {"login_timeout": "60s"}})
        status, health = wait_until(lambda: (lambda h: h if h[0] is not None else None)(
            sidecar.health()), 30, what="the listener")
        self.assertEqual(status, 503)
        self.assertNotEqual(health["status"], "ok")
        time.sleep(1.5)
        self.assertEqual(sidecar.health()[0], 503)
        self.assertIsNone(sidecar.process.proc.poll())
        vault.control("up")
        sidecar.wait_ready(30)
        status, health = sidecar.health()
        self.assertEqual(status, 200)
        self.assertEqual(health["status"], "ok")

    def test_metrics_parse_as_prometheus_text_and_count_requests(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        status, headers, body = sidecar.get("/sidecar/v1/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain"))
        before = parse_prometheus(body.decode())
        for _ in range(3):
            self.assertEqual(sidecar.get(KV_PATH)[0], 200)
        self.assertEqual(sidecar.get("/v1/sys/mounts")[0], 403)
        status, _, body = sidecar.get("/sidecar/v1/metrics")
        self.assertEqual(status, 200)
        after = parse_prometheus(body.decode())
        self.assertEqual(requests_total(after, "kv_read", 200)
                         - requests_total(before, "kv_read", 200), 3)
        self.assertEqual(requests_total(after, "deny", 403)
                         - requests_total(before, "deny", 403), 1)

        status, headers, body = sidecar.get("/proxy/v1/metrics")
        self.assertEqual(status, 200)
        proxy_view = parse_prometheus(body.decode())
        self.assertGreaterEqual(requests_total(proxy_view, "local_metrics", 200), 2)

    def test_readme_lists_exactly_the_metric_families_served(self):
        # README's "Metrics" list is the contract dashboards are built from: a family renamed or
        # added in the code without the README (or the other way round) fails here.
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        # Families with labels appear with their first sample: a lease and an upstream error.
        self.assertEqual(sidecar.get("/v1/database/creds/myapp-role")[0], 200)
        vault.control("drop", {"prefix": "/v1/kv-demo/data/dropped", "count": 10})
        self.assertEqual(sidecar.get("/v1/kv-demo/data/dropped")[0], 502)
        status, _, body = sidecar.get("/sidecar/v1/metrics")
        self.assertEqual(status, 200)
        served = {match.group(1) for match in map(_TYPE_LINE.match, body.decode().splitlines())
                  if match}
        readme = read_text(os.path.join(os.path.dirname(__file__), "..", "..", "README.md"))
        section = re.search(r"(?ms)^### Metrics\n(.*?)^## ", readme).group(1)
        prefix = re.search(r"All names start with `([a-z_]+)`", section).group(1)
        listed = {prefix + name for name in re.findall(r"`([a-z_]+)(?:\{[a-z_,]*\})?`",
                                                         section) if name != prefix}
        self.assertTrue(served, "no # TYPE line served")
        self.assertEqual(sorted(served - listed), [], "served but not in README")
        self.assertEqual(sorted(listed - served), [], "in README but not served")

    def test_prometheus_parser_rejects_malformed_text(self):
        # The parser is what the metrics test leans on: it must be able to fail.
        parse_prometheus("# TYPE a counter\na{x=\"1\"} 2\n")
        for bad in ("a 1\n", "# TYPE a counter\na{x=1} 2\n", "# TYPE a counter\na 1 2 3\n",
                    "# TYPE a counter\na one\n", "# TYPE a counter\n# TYPE a gauge\na 1\n"):
            with self.assertRaises(AssertionError, msg=bad):
                parse_prometheus(bad)


class UpstreamErrorTest(CleanExitTestCase):
    def test_vault_down_after_login_makes_a_write_502_in_vaults_shape(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"proxy": {"forward_writes": "true"}})
        vault.control("down")
        status, headers, body = sidecar.get(KV_PATH, method="PUT",
                                            body=json.dumps({"data": {"password": "new"}}),
                                            headers={"Content-Type": "application/json"},
                                            timeout=30)
        self.assertEqual(status, 502)
        self.assertTrue(headers["content-type"].startswith("application/json"))
        errors = json.loads(body)["errors"]
        self.assertIsInstance(errors, list)
        self.assertTrue(errors and all(isinstance(e, str) for e in errors))
        vault.control("up")

    def test_a_delay_beyond_request_timeout_is_504(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"vault": {"max_retries": "0"},
                                               "proxy": {"forward_writes": "true"}})
        vault.control("delay", {"prefix": "/v1/kv-demo/", "ms": 6000})
        started = time.monotonic()
        status, _, body = sidecar.get(KV_PATH, timeout=30)
        self.assertEqual(status, 504, body)
        self.assertLess(time.monotonic() - started, 5.5)  # the 2 s request_timeout, not Vault
        self.assertIsInstance(json.loads(body)["errors"], list)
        status, _, body = sidecar.get(KV_PATH, method="PUT", timeout=30,
                                      body=json.dumps({"data": {"password": "slow"}}))
        self.assertEqual(status, 504, body)
        vault.control("clear")

    def test_vaults_own_403_and_404_pass_through_unchanged(self):
        vault = self.start_double(proxy_seed())
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        token = vault.control("token", {"policies": ["app"], "ttl": 3600})["token"]
        for path, expected in (("/v1/kv-secret/data/hidden", 403),
                               ("/v1/kv-demo/data/missing", 404),
                               ("/v1/kv-v1/missing", 404)):
            status, _, body = sidecar.get(path)
            direct_status, _, direct_body = request(vault.port, path,
                                                    headers={"X-Vault-Token": token})
            self.assertEqual(direct_status, expected, path)
            self.assertEqual(status, expected, path)
            self.assertEqual(body, direct_body, path)

    def test_sys_health_passes_through_without_a_token(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        status, _, body = sidecar.get("/v1/sys/health", headers={"X-Vault-Token": "bogus"})
        direct_status, _, direct_body = request(vault.port, "/v1/sys/health")
        self.assertEqual(status, 200)
        self.assertEqual(status, direct_status)
        ours, theirs = json.loads(body), json.loads(direct_body)
        for answer in (ours, theirs):
            answer.pop("server_time_utc")
        self.assertEqual(ours, theirs)
        health_calls = [r for r in vault.requests() if r["path"] == "/v1/sys/health"]
        self.assertEqual(len(health_calls), 2)
        self.assertEqual([r["token"] for r in health_calls], ["", ""])

        vault.control("seal")
        status, _, body = sidecar.get("/v1/sys/health")
        self.assertEqual(status, 503)  # Vault's sealed code, relayed
        self.assertTrue(json.loads(body)["sealed"])


class QuitTest(CleanExitTestCase):
    def test_quit_is_404_without_enable_quit(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        status, _, _ = sidecar.get("/sidecar/v1/quit", method="POST")
        self.assertEqual(status, 404)
        time.sleep(0.5)
        self.assertIsNone(sidecar.process.proc.poll())
        self.assertEqual(sidecar.health()[0], 200)

    def test_quit_with_enable_quit_exits_0(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"listener": {"enable_quit": "true"}})
        self.assertEqual(sidecar.get("/sidecar/v1/quit")[0], 405)  # POST only
        status, _, _ = sidecar.get("/sidecar/v1/quit", method="POST")
        self.assertEqual(status, 200)
        self.assertEqual(sidecar.wait_exit(15), 0, sidecar.log())


if __name__ == "__main__":
    unittest.main()
