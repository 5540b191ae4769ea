"""End-to-end harness: runs the real vault-sidecar and vault-dev-double binaries as processes.

Every test owns its temp dir, its ports and its processes, and cleans them up. The binaries come
from the build tree through SIDECAR_BIN and DOUBLE_BIN (set by tests/e2e/CMakeLists.txt).
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

SIDECAR_BIN = os.environ.get("SIDECAR_BIN", "vault-sidecar")
DOUBLE_BIN = os.environ.get("DOUBLE_BIN", "vault-dev-double")
ROLE_ID = "e2e-role-id-0001"
SECRET_ID = "e2e-secret-id-0001"


def free_port():
    """A port that was free a moment ago (the sidecar refuses port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_text(path):
    with open(path) as f:
        return f.read()


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def request(port, path, method="GET", headers=None, body=None, timeout=10, unix_socket=None):
    """One HTTP request; returns (status, headers as a lower-cased dict, body bytes)."""
    if unix_socket:
        conn = _UnixConnection(unix_socket, timeout)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        data = answer.read()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, data
    finally:
        conn.close()


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def default_seed(token_ttl=3600, token_max_ttl=0, renewable=True, db_ttl=60, db_max_ttl=300):
    return {
        "kv_mounts": {
            "kv-demo": {"version": 2, "secrets": {"sample": {"username": "demo",
                                                             "password": "kv-canary-pw-5150"}}},
            "kv-v1": {"version": 1, "secrets": {"config": {"endpoint": "https://x", "ttl": "1h"}}},
        },
        "policies": {"app": {"kv-demo/*": ["read", "list", "create", "update", "delete"],
                             "kv-v1/*": ["read", "list"],
                             "database/creds/*": ["read"],
                             "sys/leases/*": ["update"]}},
        "database_roles": [{"name": "myapp-role", "default_ttl": db_ttl, "max_ttl": db_max_ttl,
                            "renewable": True}],
        "approles": [{"name": "app", "role_id": ROLE_ID, "secret_id": SECRET_ID,
                      "policies": ["app"], "token_ttl": token_ttl, "token_max_ttl": token_max_ttl,
                      "renewable": renewable}],
    }


class Process:
    """A child process with stderr in a file, stopped (SIGTERM, then SIGKILL) at cleanup."""

    def __init__(self, args, log_path, env=None):
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def signal(self, number):
        if self.proc.poll() is None:
            self.proc.send_signal(number)

    def stop(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait(timeout) is None:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


class Double:
    """vault-dev-double with a seed, its main port and its control port."""

    def __init__(self, workdir, seed=None, extra_args=()):
        self.dir = workdir
        seed_path = os.path.join(workdir, "seed.json")
        with open(seed_path, "w") as f:
            json.dump(seed or default_seed(), f)
        port_file = os.path.join(workdir, "vault.port")
        control_file = os.path.join(workdir, "control.port")
        self.process = Process([DOUBLE_BIN, "--listen", "127.0.0.1:0", "--port-file", port_file,
                                "--control-port-file", control_file, "--seed", seed_path,
                                *extra_args], os.path.join(workdir, "double.log"))
        wait_until(lambda: os.path.exists(port_file) and os.path.exists(control_file), 30,
                   what="the double's port files")
        self.port = int(read_text(port_file))
        self.control_port = int(read_text(control_file))

    def control(self, path, body=None, method="POST"):
        status, _, data = request(self.control_port, "/control/" + path, method=method,
                                  body=json.dumps(body) if body is not None else None,
                                  headers={"Content-Type": "application/json"})
        if status >= 300:
            raise AssertionError(f"control {path}: {status} {data!r}")
        return json.loads(data) if data else None

    def requests(self):
        return self.control("requests", method="GET")

    def count(self, method, path_prefix):
        return sum(1 for r in self.requests()
                   if r["method"] == method and r["path"].startswith(path_prefix))

    def stop(self):
        return self.process.stop()


class Sidecar:
    """vault-sidecar with a generated INI file; `sections` override or extend the defaults."""

    def __init__(self, workdir, vault_address, sections=None, env=None, wait_ready=True,
                 write_credentials=True):
        self.dir = workdir
        self.port = free_port()
        role_file = os.path.join(workdir, "role_id")
        secret_file = os.path.join(workdir, "secret_id")
        config = {
            "vault": {"address": vault_address, "request_timeout": "2s", "max_retries": "1"},
            "auth": {"check_interval": "1s", "login_timeout": "10s"},
            "listener": {"address": f"127.0.0.1:{self.port}"},
            "log": {"level": "debug"},
        }
        if write_credentials:
            with open(role_file, "w") as f:
                f.write(ROLE_ID + "\n")
            with open(secret_file, "w") as f:
                f.write(SECRET_ID + "\n")
            config["auth"].update({"role_id_file": role_file, "secret_id_file": secret_file})
        for section, keys in (sections or {}).items():
            config.setdefault(section, {}).update(keys)
        self.config_path = os.path.join(workdir, "vault-sidecar.ini")
        with open(self.config_path, "w") as f:
            for section, keys in config.items():
                f.write(f"[{section}]\n")
                for key, value in keys.items():
                    f.write(f"{key} = {value}\n")
                f.write("\n")
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"):
            if name in os.environ:
                full_env[name] = os.environ[name]
        full_env.update(env or {})
        self.process = Process([SIDECAR_BIN, "--config", self.config_path],
                               os.path.join(workdir, "sidecar.log"), env=full_env)
        if wait_ready:
            self.wait_ready()

    def get(self, path, **kwargs):
        return request(self.port, path, **kwargs)

    def health(self):
        try:
            status, _, body = self.get("/sidecar/v1/health", timeout=2)
            return status, json.loads(body)
        except (OSError, http.client.HTTPException):
            return None, None

    def wait_ready(self, timeout=30):
        def ready():
            if self.process.proc.poll() is not None:
                raise AssertionError(f"sidecar exited {self.process.proc.returncode}:\n"
                                     + self.process.log())
            return self.health()[0] == 200
        wait_until(ready, timeout, what="sidecar health 200")

    def log(self):
        return self.process.log()

    def wait_exit(self, timeout):
        return self.process.wait(timeout)

    def stop(self):
        return self.process.stop()


class E2ETestCase(unittest.TestCase):
    """Gives each test a temp dir and stops every process it started, even on failure."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="sidecar-e2e-")
        self._processes = []

    def tearDown(self):
        for process in reversed(self._processes):
            process.stop()
        if self._outcome_ok():
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            print(f"\n(kept {self.workdir} for inspection)")

    def _outcome_ok(self):
        return getattr(getattr(self, "_outcome", None), "success", True)

    def start_double(self, seed=None, extra_args=(), subdir="vault"):
        path = os.path.join(self.workdir, subdir)
        os.makedirs(path, exist_ok=True)
        double = Double(path, seed, extra_args)
        self._processes.append(double)
        return double

    def start_sidecar(self, vault_address, sections=None, subdir="sidecar", **kwargs):
        path = os.path.join(self.workdir, subdir)
        os.makedirs(path, exist_ok=True)
        sidecar = Sidecar(path, vault_address, sections, **kwargs)
        self._processes.append(sidecar)
        return sidecar


class CleanExitTestCase(E2ETestCase):
    """Also requires every sidecar still running when a test ends to stop on SIGTERM with exit
    code 0 and no sanitizer report, so a memory error that the test's requests provoked (ASan,
    UBSan, LeakSanitizer at exit) fails the test that provoked it."""

    def tearDown(self):
        problems = []
        for process in self._processes:
            if isinstance(process, Sidecar) and process.process.proc.poll() is None:
                code = process.stop()
                log = process.log()
                if code != 0 or "Sanitizer" in log or "runtime error:" in log:
                    problems.append(f"sidecar exit code {code}, log tail:\n{log[-4000:]}")
        super().tearDown()
        if problems:
            self.fail("\n".join(problems))


def write_file(path, text, mode=None):
    """Writes `text` to `path`, creating its directory; then sets `mode` when given."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    if mode is not None:
        os.chmod(path, mode)
    return path


def read_lines(path):
    """The lines of `path`, or [] while it does not exist yet."""
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


# --- Dynamic secrets (issue 6): database creds through the sidecar, leases in the double ---

DB_CREDS = "/v1/database/creds/myapp-role"


class CredsAnswer:
    """One answer for a dynamic secret, with the monotonic times around the request, so a test
    can bound what the sidecar's clock saw (before <= the sidecar's instant <= after)."""

    def __init__(self, before, after, status, headers, body):
        self.before, self.after = before, after
        self.status, self.headers, self.body = status, headers, body
        self.json = json.loads(body) if body else None

    @property
    def ok(self):
        return self.status == 200

    @property
    def cache(self):
        return self.headers.get("x-cache")

    @property
    def username(self):
        return self.json["data"]["username"] if self.ok else None

    @property
    def password(self):
        return self.json["data"]["password"] if self.ok else None

    @property
    def lease_id(self):
        return self.json["lease_id"] if self.ok else None

    @property
    def lease_duration(self):
        return self.json["lease_duration"] if self.ok else None


def fetch_creds(sidecar, path=DB_CREDS, timeout=10):
    before = time.monotonic()
    status, headers, body = sidecar.get(path, timeout=timeout)
    return CredsAnswer(before, time.monotonic(), status, headers, body)


def vault_call(double, path, token, method="GET", body=None):
    """A request straight to the double (not through the sidecar): (status, parsed body)."""
    status, _, data = request(double.port, path, method=method,
                              headers={"X-Vault-Token": token},
                              body=json.dumps(body) if body is not None else None)
    return status, (json.loads(data) if data else None)


def root_token(double):
    """A token of the double's root policy, minted through the control API."""
    return double.control("token", {"policies": ["root"], "ttl": 3600})["token"]


def lookup_lease(double, token, lease_id):
    """sys/leases/lookup: (status, body); 200 while the lease lives."""
    return vault_call(double, "/v1/sys/leases/lookup", token, method="PUT",
                      body={"lease_id": lease_id})


def live_leases(double):
    return double.control("counters", method="GET")["live_leases"]
