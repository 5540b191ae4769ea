"""Issue 8 end to end: check --online, the health subcommand, the systemd notify protocol,
process hygiene, JSON logs, the systemd unit, the container files, and reloading on SIGHUP."""
import configparser
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import (ROLE_ID, SECRET_ID, SIDECAR_BIN, E2ETestCase, default_seed, free_port,
                     read_text, request, wait_until)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCKER = os.path.join(ROOT, "docker")
KV_CANARY = "kv-canary-pw-5150"  # the password in default_seed()


def sanitizer_env(extra=None):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if name in os.environ:
            env[name] = os.environ[name]
    env.update(extra or {})
    return env


def run_sidecar_command(*args, timeout=60, env=None):
    """Runs `vault-sidecar ARGS`; returns (exit code, stdout, stderr)."""
    done = subprocess.run([SIDECAR_BIN, *args], capture_output=True, text=True, timeout=timeout,
                          env=sanitizer_env(env), stdin=subprocess.DEVNULL)
    return done.returncode, done.stdout, done.stderr


def write_ini(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def kv_only_seed():
    """The default seed, but the role may read kv-demo/* and nothing under database/."""
    seed = default_seed()
    seed["policies"] = {"app": {"kv-demo/*": ["read", "list"]}}
    return seed


class OnlineCheckTest(E2ETestCase):
    def write_config(self, vault, secrets, secret_id=SECRET_ID):
        role_file = write_ini(os.path.join(self.workdir, "role_id"), ROLE_ID + "\n")
        secret_file = write_ini(os.path.join(self.workdir, "secret_id"), secret_id + "\n")
        return write_ini(os.path.join(self.workdir, "check.ini"), f"""
[vault]
address = http://127.0.0.1:{vault.port}
request_timeout = 2s

[auth]
role_id_file = {role_file}
secret_id_file = {secret_file}
login_timeout = 5s

[proxy]
allow = /v1/kv-demo/*, /v1/database/creds/*

[secrets]
{secrets}
""")

    def rows(self, out):
        """SOURCE -> (PATH, READABLE) from the printed table."""
        found = {}
        for line in out.splitlines():
            match = re.match(r"^(allow \S+|secret \S+)\s+(\S+)\s+(yes|no)\s+(.*)$", line)
            if match:
                found[match.group(1)] = (match.group(2), match.group(3), match.group(4))
        return found

    def test_kv_allowed_database_denied_and_an_unreadable_secret_exits_1(self):
        vault = self.start_double(kv_only_seed())
        config = self.write_config(vault, "app = kv-demo/data/sample\n"
                                          "db = database/creds/myapp-role\n")
        code, out, err = run_sidecar_command("check", "--online", "--config", config)
        self.assertEqual(code, 1, out + err)
        rows = self.rows(out)
        self.assertEqual(rows["allow /v1/kv-demo/*"][:2], ("kv-demo/", "yes"), out)
        self.assertEqual(rows["allow /v1/database/creds/*"][:2], ("database/creds/", "no"), out)
        self.assertEqual(rows["secret app"][:2], ("kv-demo/data/sample", "yes"), out)
        self.assertEqual(rows["secret db"][:2], ("database/creds/myapp-role", "no"), out)
        self.assertIn("permission denied", rows["secret db"][2])
        self.assertIn("1 of 2 [secrets] entries are not readable", out)
        self.assertNotIn(KV_CANARY, out + err)
        self.assertNotIn(SECRET_ID, out + err)
        self.assertEqual(vault.count("POST", "/v1/auth/approle/login"), 1)
        self.assertEqual(vault.count("POST", "/v1/sys/capabilities-self"), 1)
        self.assertEqual(vault.count("POST", "/v1/auth/token/revoke-self"), 1)

    def test_every_secret_readable_exits_0_and_leaves_no_lease(self):
        vault = self.start_double()  # the default role may read database/creds/* too
        config = self.write_config(vault, "app = kv-demo/data/sample\n"
                                          "db = database/creds/myapp-role\n")
        code, out, err = run_sidecar_command("check", "--online", "--config", config)
        self.assertEqual(code, 0, out + err)
        rows = self.rows(out)
        self.assertEqual(rows["secret db"][1], "yes", out)
        self.assertIn("revoked with the check's token", rows["secret db"][2])
        self.assertEqual(vault.control("counters", method="GET")["live_leases"], 0)

    def test_refused_login_exits_77(self):
        vault = self.start_double()
        config = self.write_config(vault, "app = kv-demo/data/sample\n", secret_id="wrong")
        code, out, err = run_sidecar_command("check", "--online", "--config", config)
        self.assertEqual(code, 77, out + err)
        self.assertIn("login failed", err)
        self.assertEqual(vault.count("GET", "/v1/kv-demo/"), 0)


class HealthCommandTest(E2ETestCase):
    def test_exits_0_against_a_ready_sidecar_and_prints_the_json(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        code, out, err = run_sidecar_command("health", "--config", sidecar.config_path)
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)["status"], "ok")

    def test_over_the_unix_socket_when_there_is_no_tcp_listener(self):
        vault = self.start_double()
        path = os.path.join(self.workdir, "sidecar.sock")
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", wait_ready=False,
                                     sections={"listener": {"address": "", "unix_socket": path}})
        wait_until(lambda: run_sidecar_command("health", "--config",
                                               sidecar.config_path)[0] == 0, 30,
                   interval=0.3, what="health over the unix socket")

    def test_exits_1_when_nothing_listens(self):
        config = write_ini(os.path.join(self.workdir, "none.ini"),
                           f"[listener]\naddress = 127.0.0.1:{free_port()}\n")
        started = time.monotonic()
        code, out, err = run_sidecar_command("health", "--config", config)
        self.assertEqual(code, 1)
        self.assertIn("vault-sidecar health: 127.0.0.1:", err)
        self.assertLess(time.monotonic() - started, 20)

    def test_exits_1_while_the_sidecar_is_not_logged_in(self):
        vault = self.start_double()
        vault.control("down")
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", wait_ready=False,
                                     sections={"auth": {"login_timeout": "60s"}})
        wait_until(lambda: sidecar.health()[0] == 503, 30, what="health 503")
        code, out, err = run_sidecar_command("health", "--config", sidecar.config_path)
        self.assertEqual(code, 1)
        self.assertIn("answered 503", err)


class NotifySocket:
    """An AF_UNIX datagram socket standing in for systemd's notify socket."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.messages = []  # (monotonic time, set of lines)
        self._lock = threading.Lock()
        self._stop = False
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self):
        while not self._stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.messages.append((time.monotonic(), data.decode().split("\n")))

    def lines(self, prefix):
        with self._lock:
            return [(t, line) for t, lines in self.messages for line in lines
                    if line.startswith(prefix)]

    def close(self):
        self._stop = True
        self._thread.join()
        self.sock.close()


class NotifyProtocolTest(E2ETestCase):
    def start_with_notify(self, vault, sections=None):
        notify = NotifySocket(os.path.join(self.workdir, "notify.sock"))
        self.addCleanup(notify.close)
        # WATCHDOG_PID is left unset, which sd_watchdog_enabled() accepts: pings every 0.5 s.
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", wait_ready=False,
                                     sections=sections,
                                     env={"NOTIFY_SOCKET": notify.path,
                                          "WATCHDOG_USEC": "1000000"})
        return notify, sidecar

    def test_ready_only_after_login_then_watchdog_then_stopping(self):
        vault = self.start_double()
        # A slow login (well inside the request deadline) leaves time to look before READY.
        vault.control("delay", {"prefix": "/v1/auth/approle/login", "ms": 3000})
        notify, sidecar = self.start_with_notify(vault, {"vault": {"request_timeout": "10s"}})

        # Listening but not logged in: 503, and systemd has not been told READY.
        wait_until(lambda: sidecar.health()[0] == 503, 30, what="health 503")
        self.assertEqual(notify.lines("READY=1"), [])
        self.assertEqual(vault.count("POST", "/v1/auth/approle/login"), 0)

        wait_until(lambda: notify.lines("READY=1"), 30, what="READY=1")
        self.assertEqual(vault.count("POST", "/v1/auth/approle/login"), 1)
        self.assertIn("POST /v1/auth/approle/login 200", vault.process.log())
        self.assertTrue(any(line.startswith("STATUS=token ok")
                            for _, line in notify.lines("STATUS=")), notify.messages)
        self.assertEqual(len(notify.lines("READY=1")), 1)

        ready_at = notify.lines("READY=1")[0][0]
        wait_until(lambda: len([t for t, _ in notify.lines("WATCHDOG=1") if t > ready_at]) >= 3,
                   15, what="three WATCHDOG=1 pings")
        self.assertEqual(notify.lines("STOPPING=1"), [])

        sidecar.process.signal(signal.SIGTERM)
        self.assertEqual(sidecar.wait_exit(20), 0, sidecar.log())
        self.assertEqual(len(notify.lines("STOPPING=1")), 1)

    def test_watchdog_pings_stop_once_the_token_is_lost(self):
        vault = self.start_double(default_seed(token_ttl=4))
        notify, sidecar = self.start_with_notify(
            vault, sections={"auth": {"on_renew_failure": "serve_cached"}})
        wait_until(lambda: len(notify.lines("WATCHDOG=1")) >= 2, 30, what="WATCHDOG=1 pings")
        vault.control("revoke-all")
        wait_until(lambda: sidecar.health()[1]["status"] == "degraded", 20, what="degraded")
        time.sleep(1.0)  # a ping decided just before the change may still be in flight
        before = len(notify.lines("WATCHDOG=1"))
        time.sleep(2.5)  # five watchdog intervals
        self.assertEqual(len(notify.lines("WATCHDOG=1")), before)
        self.assertIsNone(sidecar.process.proc.poll())


class NonRootSidecar:
    """vault-sidecar run as `nobody`, so that the ownership of /proc/<pid> shows dumpability."""

    def __init__(self, workdir, vault_port, binary=SIDECAR_BIN):
        self.port = free_port()
        os.chmod(workdir, 0o755)
        role_file = write_ini(os.path.join(workdir, "role_id"), ROLE_ID + "\n")
        secret_file = write_ini(os.path.join(workdir, "secret_id"), SECRET_ID + "\n")
        config = write_ini(os.path.join(workdir, "nobody.ini"), f"""
[vault]
address = http://127.0.0.1:{vault_port}
[auth]
role_id_file = {role_file}
secret_id_file = {secret_file}
[listener]
address = 127.0.0.1:{self.port}
""")
        for path in (role_file, secret_file, config):
            os.chmod(path, 0o644)  # throwaway test credentials
        self._log = open(os.path.join(workdir, "nobody.log"), "wb")
        self.proc = subprocess.Popen([binary, "--config", config], stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=sanitizer_env(), user=65534, group=65534,
                                     extra_groups=[])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


class HygieneTest(E2ETestCase):
    def test_core_dumps_are_disabled_in_the_running_process(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        limits = read_text(f"/proc/{sidecar.process.proc.pid}/limits")
        match = re.search(r"^Max core file size\s+(\S+)\s+(\S+)", limits, re.M)
        self.assertIsNotNone(match, limits)
        self.assertEqual(match.groups(), ("0", "0"))

    @unittest.skipUnless(os.geteuid() == 0, "needs root to run the sidecar as another user")
    def test_the_process_is_not_dumpable(self):
        # proc(5): the files in /proc/<pid> belong to root instead of the process's user once
        # PR_SET_DUMPABLE is 0. `sleep` as the same user is the control.
        # The checkout may sit under a directory `nobody` cannot enter (/root, a `mktemp -d`
        # clone): the binary is then run from a copy in the test's own directory, which is
        # made world-readable for it.
        os.chmod(self.workdir, 0o755)
        binary = os.path.join(self.workdir, "vault-sidecar")
        shutil.copy2(SIDECAR_BIN, binary)
        os.chmod(binary, 0o755)
        probe = subprocess.run([binary, "--version"], user=65534, group=65534, extra_groups=[],
                               capture_output=True, timeout=30, env=sanitizer_env())
        self.assertEqual(probe.returncode, 0, probe.stderr[-200:])
        vault = self.start_double()
        sidecar = NonRootSidecar(self.workdir, vault.port, binary)
        self._processes.append(sidecar)
        control = subprocess.Popen(["sleep", "60"], user=65534, group=65534, extra_groups=[])
        self.addCleanup(control.wait)
        self.addCleanup(control.kill)
        wait_until(lambda: sidecar.proc.poll() is not None or
                   self._health(sidecar.port) == 200, 30, what="the nobody sidecar ready")
        self.assertIsNone(sidecar.proc.poll())
        self.assertEqual(os.stat(f"/proc/{control.pid}/status").st_uid, 65534)
        status = read_text(f"/proc/{sidecar.proc.pid}/status")
        self.assertRegex(status, r"(?m)^Uid:\s+65534\s")
        self.assertEqual(os.stat(f"/proc/{sidecar.proc.pid}/status").st_uid, 0)

    @staticmethod
    def _health(port):
        try:
            return request(port, "/sidecar/v1/health", timeout=2)[0]
        except OSError:
            return None

    def test_json_log_lines_parse_with_ts_level_component_msg(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"log": {"format": "json", "level": "debug"}})
        self.assertEqual(sidecar.get("/v1/kv-demo/data/sample")[0], 200)
        self.assertEqual(sidecar.get("/v1/sys/mounts")[0], 403)
        self.assertEqual(sidecar.stop(), 0)
        lines = [line for line in sidecar.log().splitlines() if line.strip()]
        self.assertGreater(len(lines), 5)
        components = set()
        for line in lines:
            entry = json.loads(line)
            self.assertTrue({"ts", "level", "component", "msg"} <= entry.keys(), line)
            self.assertIsInstance(entry["ts"], (int, float))
            self.assertIn(entry["level"], {"trace", "debug", "info", "warning", "error",
                                           "critical"})
            components.add(entry["component"])
        self.assertTrue({"app", "auth"} <= components, components)
        self.assertNotIn(KV_CANARY, sidecar.log())


class SystemdUnitTest(unittest.TestCase):
    UNIT = os.path.join(ROOT, "systemd", "vault-sidecar.service")

    def test_unit_has_the_notify_type_and_the_hardening(self):
        unit = read_text(self.UNIT)
        for line in ("Type=notify", "WatchdogSec=", "NoNewPrivileges=yes", "ProtectSystem=strict",
                     "ProtectHome=yes", "PrivateTmp=yes", "RuntimeDirectory=vault-sidecar",
                     "LoadCredential=secret_id:", "LimitCORE=0", "MemoryDenyWriteExecute=yes",
                     "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
                     "CapabilityBoundingSet=",
                     "SystemCallFilter=@system-service", "Restart=on-failure",
                     "RestartPreventExitStatus=77 78"):
            self.assertRegex(unit, r"(?m)^" + re.escape(line), line)

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
    def test_systemd_analyze_verify_passes(self):
        # The unit names /usr/bin/vault-sidecar (where the .deb installs it), which verify requires
        # to exist; a copy pointing at the built binary is verified instead, every other line
        # unchanged.
        work = self.enterContext_tempdir()
        unit = read_text(self.UNIT)
        self.assertIn("ExecStart=/usr/bin/vault-sidecar ", unit)
        binary = os.path.abspath(shutil.which(SIDECAR_BIN) or SIDECAR_BIN)
        copy = os.path.join(work, "vault-sidecar.service")
        write_ini(copy, unit.replace("ExecStart=/usr/bin/vault-sidecar ",
                                     f"ExecStart={binary} "))
        done = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertNotIn("vault-sidecar.service", done.stdout + done.stderr)

    def enterContext_tempdir(self):
        import tempfile
        work = tempfile.mkdtemp(prefix="sidecar-unit-")
        self.addCleanup(shutil.rmtree, work, True)
        return work


class ContainerFilesTest(unittest.TestCase):
    """No Docker engine runs here: the files are checked for what can be checked without one."""

    def yaml(self):
        try:
            import yaml
        except ImportError:
            self.skipTest("python3-yaml is not installed")
        return yaml

    def load_yaml(self, *parts):
        with open(os.path.join(DOCKER, *parts)) as f:
            return list(self.yaml().safe_load_all(f))

    def dockerfile(self):
        text = read_text(os.path.join(DOCKER, "Dockerfile"))
        return text.replace("\\\n", " ")  # continuation lines joined

    def stage(self, name):
        text = self.dockerfile()
        match = re.search(r"(?ms)^FROM \S+ AS " + re.escape(name) + r"\n(.*?)(?=^FROM |\Z)", text)
        self.assertIsNotNone(match, f"stage {name}")
        return match.group(1)

    def test_build_stage_runs_the_commands_of_the_scripts(self):
        self.assertRegex(self.dockerfile(), r"(?m)^FROM debian:12 AS build$")
        build = self.stage("build")
        demo = read_text(os.path.join(ROOT, "scripts", "demo.sh"))
        self.assertIn("scripts/install-deps.sh", demo)
        self.assertRegex(build, r"RUN scripts/install-deps.sh")
        for command in ("cmake --preset release",
                        "cmake --build --preset release --target vault-sidecar vault-dev-double"):
            self.assertIn(command, demo)
            self.assertIn(command, build)
        # Every path the build stage copies exists, and nothing the build needs is left out.
        copied = re.findall(r"(?m)^COPY (?!--from)(.+) (\S+)$", build)
        sources = {p for srcs, _ in copied for p in srcs.split()}
        for path in sources:
            self.assertTrue(os.path.exists(os.path.join(ROOT, path)), path)
        self.assertTrue({"CMakeLists.txt", "CMakePresets.json", "cmake", "include", "src",
                         "tests"} <= sources, sources)

    def test_runtime_stage_is_slim_non_root_with_a_health_check(self):
        self.assertTrue(self.dockerfile().rstrip().endswith(
            'CMD ["--config", "/etc/vault-sidecar/vault-sidecar.ini"]'),
            "runtime must be the last (default) stage")
        runtime = self.stage("runtime")
        self.assertRegex(self.dockerfile(), r"(?m)^FROM debian:12-slim AS runtime$")
        self.assertRegex(runtime, r"(?m)^USER 10001:10001$")
        self.assertIn('HEALTHCHECK', runtime)
        self.assertIn('CMD ["vault-sidecar", "health", "--config", '
                      '"/etc/vault-sidecar/vault-sidecar.ini"]', runtime)
        self.assertIn('ENTRYPOINT ["vault-sidecar"]', runtime)
        self.assertIn("COPY docker/vault-sidecar.ini /etc/vault-sidecar/vault-sidecar.ini", runtime)

    @unittest.skipUnless(shutil.which("readelf") and shutil.which("dpkg"), "needs readelf, dpkg")
    def test_runtime_stage_installs_the_libraries_the_binary_links(self):
        # The image ships the release preset's build (its build stage runs that preset), which
        # links the C++ libraries in: its dynamic section is what the runtime stage must serve.
        binary = os.path.join(ROOT, "build", "release", "src", "vault-sidecar")
        if not os.path.exists(binary):
            self.skipTest("no release build (scripts/test.sh builds it before the tests)")
        dynamic = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True,
                                 check=True).stdout
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic)
        self.assertIn("libssl.so.3", needed)
        runtime = self.stage("runtime")
        base = {"libc6", "libstdc++6", "libgcc-s1"}  # in debian:12-slim already
        checked = []
        sanitizers = {"libasan8", "libubsan1"}  # CI's ASan build only
        for library in needed:
            path = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
            match = re.search(r"^\s*" + re.escape(library) + r" \(libc6,x86-64\) => (\S+)$",
                              path, re.M)
            if not match:
                continue  # not in the cache (a sanitizer runtime from the compiler)
            owner = subprocess.run(["dpkg", "-S", os.path.realpath(match.group(1))],
                                   capture_output=True, text=True)
            if owner.returncode != 0:
                owner = subprocess.run(["dpkg", "-S", match.group(1)], capture_output=True,
                                       text=True)
            package = owner.stdout.split(":")[0] if owner.returncode == 0 else ""
            if not package:
                # usrmerge: dpkg knows /lib/... while ldconfig says /usr/lib/...; only libc6's
                # libraries (libc, libm) and libgcc_s are reached this way, all in the base image.
                self.assertIn(library.split(".so")[0], {"libc", "libm", "libgcc_s"}, library)
                continue
            checked.append(package)
            if package in base or package in sanitizers:
                continue
            self.assertRegex(runtime, r"(?<![\w.-])" + re.escape(package) + r"(?![\w.-])",
                             f"{library} comes from {package}, not installed in runtime")
        self.assertIn("libssl3", checked)
        # And nothing beyond: every library package installed is one the binary links, or
        # libsystemd0, which systemd_notifier loads at run time under systemd only.
        packages = " ".join(re.findall(r"apt-get install ([^&]+)", runtime))
        installed = {name for name in packages.split() if name.startswith("lib")}
        self.assertLessEqual(installed, set(checked) | {"libsystemd0"}, installed)

    def test_container_config_is_valid(self):
        code, out, err = run_sidecar_command("check", "--config",
                                             os.path.join(DOCKER, "vault-sidecar.ini"))
        self.assertEqual(code, 0, err)
        self.assertIn("unix_socket = /run/vault-sidecar/sidecar.sock", out)
        self.assertIn("address = 127.0.0.1:8100", out)

    def test_compose_file(self):
        (compose,) = self.load_yaml("compose.yaml")
        services = compose["services"]
        self.assertEqual(set(services), {"vault", "sidecar", "app"})
        for name, target in (("vault", "double"), ("sidecar", "runtime"), ("app", "example-app")):
            build = services[name]["build"]
            self.assertEqual((build["context"], build["dockerfile"], build["target"]),
                             ("..", "docker/Dockerfile", target))
            self.assertIn(f"AS {target}\n", self.dockerfile())
        sidecar, app = services["sidecar"], services["app"]
        self.assertEqual(sidecar["environment"]["VAULT_ADDR"], "http://vault:8200")
        self.assertIn("0.0.0.0:8200", self.stage("double"))
        self.assertEqual(app["network_mode"], "service:sidecar")
        self.assertEqual(app["depends_on"]["sidecar"]["condition"], "service_healthy")
        self.assertIn("sidecar-socket:/run/vault-sidecar", sidecar["volumes"])
        self.assertIn("sidecar-socket:/run/vault-sidecar", app["volumes"])
        script = "\n".join(app["command"])
        self.assertIn("--unix-socket /run/vault-sidecar/sidecar.sock", script)
        self.assertIn("http://127.0.0.1:8100/", script)
        # The demo AppRole files hold the ids of the double's demo seed.
        seed = json.loads(read_text(os.path.join(ROOT, "tests", "support", "demo-seed.json")))
        (demo,) = [r for r in seed["approles"] if r["name"] == "demo"]
        for name in ("role_id", "secret_id"):
            self.assertIn(name, sidecar["secrets"])
            path = os.path.join(DOCKER, compose["secrets"][name]["file"])
            self.assertEqual(read_text(path).strip(), demo[name])
        with open(os.path.join(DOCKER, "vault-sidecar.ini")) as f:
            ini = f.read()
        self.assertIn("role_id_file = /run/secrets/role_id", ini)
        self.assertIn("secret_id_file = /run/secrets/secret_id", ini)

    def check_native_sidecar(self, directory, resources, credentials_path):
        """The shape both Kubernetes examples share; returns (docs, sidecar mounts, volumes)."""
        docs = {}
        for name in resources:
            for doc in self.load_yaml(*directory, name):
                docs[doc["kind"]] = doc
        (kustomization,) = self.load_yaml(*directory, "kustomization.yaml")
        self.assertEqual(sorted(kustomization["resources"]), sorted(resources))
        pod = docs["Deployment"]["spec"]["template"]["spec"]
        (sidecar,) = pod["initContainers"]
        self.assertEqual(sidecar["restartPolicy"], "Always")
        health = ["vault-sidecar", "health", "--config", "/etc/vault-sidecar/vault-sidecar.ini"]
        self.assertEqual(sidecar["startupProbe"]["exec"]["command"], health)
        self.assertEqual(sidecar["securityContext"]["runAsUser"], 10001)
        mounts = {m["name"]: m["mountPath"] for m in sidecar["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        self.assertEqual(volumes["sidecar-socket"]["emptyDir"]["medium"], "Memory")
        self.assertEqual(mounts["sidecar-socket"], "/run/vault-sidecar")
        self.assertEqual(volumes[next(n for n, p in mounts.items() if p == "/etc/vault-sidecar")]
                         ["configMap"]["name"], docs["ConfigMap"]["metadata"]["name"])
        (app,) = pod["containers"]
        self.assertIn("/run/vault-sidecar",
                      [m["mountPath"] for m in app["volumeMounts"]])
        # The credential reaches the sidecar only, never the app.
        self.assertIn(credentials_path, mounts.values())
        self.assertNotIn(credentials_path, [m["mountPath"] for m in app["volumeMounts"]])
        credentials = volumes[next(n for n, p in mounts.items() if p == credentials_path)]
        return docs, pod, credentials

    def test_kubernetes_native_sidecar(self):
        # Kubernetes auth with a projected service-account token for audience "vault".
        docs, pod, token = self.check_native_sidecar(
            ("kubernetes",), ("serviceaccount.yaml", "configmap.yaml", "deployment.yaml"),
            "/var/run/secrets/vault")
        self.assertEqual(pod["serviceAccountName"], docs["ServiceAccount"]["metadata"]["name"])
        self.assertFalse(pod["automountServiceAccountToken"])
        (source,) = token["projected"]["sources"]
        self.assertEqual(source["serviceAccountToken"]["audience"], "vault")
        self.assertEqual(source["serviceAccountToken"]["path"], "token")
        ini = docs["ConfigMap"]["data"]["vault-sidecar.ini"]
        self.assertIn("method = kubernetes", ini)
        self.assertIn("jwt_file = /var/run/secrets/vault/token", ini)
        # Valid, and the container INI but for [auth].
        with tempfile.TemporaryDirectory() as work:
            path = os.path.join(work, "vault-sidecar.ini")
            with open(path, "w") as f:
                f.write(ini)
            code, out, err = run_sidecar_command("check", "--config", path)
            self.assertEqual(code, 0, err)
            self.assertIn("method = kubernetes", out)
            self.assertIn("relogin = on_expiry", out)
        container = read_text(os.path.join(DOCKER, "vault-sidecar.ini"))
        strip_auth = lambda text: re.sub(r"\[auth\]\n(?:(?!\n\[).)*", "", text, flags=re.S)
        self.assertEqual(strip_auth(ini), strip_auth(container))

    def test_kubernetes_approle_alternative(self):
        docs, pod, secret = self.check_native_sidecar(
            ("kubernetes", "approle"), ("configmap.yaml", "secret.yaml", "deployment.yaml"),
            "/run/secrets")
        # The ConfigMap carries the container INI unchanged.
        self.assertEqual(docs["ConfigMap"]["data"]["vault-sidecar.ini"],
                         read_text(os.path.join(DOCKER, "vault-sidecar.ini")))
        self.assertEqual(secret["secret"]["secretName"], docs["Secret"]["metadata"]["name"])
        self.assertEqual(set(docs["Secret"]["stringData"]), {"role_id", "secret_id"})

if __name__ == "__main__":
    unittest.main()


class ReloadTest(E2ETestCase):
    """SIGHUP re-reads the file: allow, require_request_header, cache and log settings apply
    without a new login; other keys are named as needing a restart; a broken file is refused."""

    LOGIN = "/v1/auth/approle/login"

    def start(self, sections=None):
        self.vault = self.start_double()
        self.sidecar = self.start_sidecar(f"http://127.0.0.1:{self.vault.port}",
                                          sections=sections)
        return self.sidecar

    def rewrite(self, changes, raw=None):
        """Rewrites the sidecar's file with `changes` ({section: {key: value}}) merged in; `raw`
        replaces the whole text instead. Returns the text written."""
        parser = configparser.ConfigParser(interpolation=None)
        parser.optionxform = str
        parser.read(self.sidecar.config_path)
        for section, keys in changes.items():
            if not parser.has_section(section):
                parser.add_section(section)
            for key, value in keys.items():
                parser.set(section, key, value)
        with open(self.sidecar.config_path, "w") as f:
            parser.write(f)
        return read_text(self.sidecar.config_path)

    def hup_and_wait_for(self, text, count_before=None):
        """Sends SIGHUP and waits for the log to hold `text` once more than before."""
        before = self.sidecar.log().count(text) if count_before is None else count_before
        self.sidecar.process.signal(signal.SIGHUP)
        wait_until(lambda: self.sidecar.log().count(text) > before, 20, what=repr(text))

    def assert_alive_and_healthy(self):
        self.assertIsNone(self.sidecar.process.proc.poll(), self.sidecar.log())
        self.assertEqual(self.sidecar.health()[0], 200)

    def test_a_wider_allow_list_applies_on_an_open_connection_without_a_new_login(self):
        sidecar = self.start({"proxy": {"allow": "/v1/kv-demo/*"}})
        conn = http.client.HTTPConnection("127.0.0.1", sidecar.port, timeout=10)
        self.addCleanup(conn.close)

        def status(path):
            conn.request("GET", path)
            answer = conn.getresponse()
            answer.read()
            return answer.status

        self.assertEqual(status("/v1/kv-v1/config"), 403)
        self.rewrite({"proxy": {"allow": "/v1/kv-demo/*, /v1/kv-v1/*"}})
        self.hup_and_wait_for("SIGHUP: applied proxy.allow")
        wait_until(lambda: status("/v1/kv-v1/config") == 200, 10, what="kv-v1 allowed")
        self.assertEqual(status("/v1/kv-demo/data/sample"), 200)
        self.assertEqual(self.vault.count("POST", self.LOGIN), 1)
        self.assertNotIn("applied only at restart", sidecar.log())

    def test_require_request_header_applies_live(self):
        sidecar = self.start()
        self.assertEqual(sidecar.get("/v1/kv-demo/data/sample")[0], 200)
        self.rewrite({"listener": {"require_request_header": "true"}})
        self.hup_and_wait_for("SIGHUP: applied listener.require_request_header")
        self.assertEqual(sidecar.get("/v1/kv-demo/data/sample")[0], 412)
        self.assertEqual(sidecar.get("/v1/kv-demo/data/sample",
                                     headers={"X-Vault-Request": "true"})[0], 200)
        self.assertEqual(self.vault.count("POST", self.LOGIN), 1)

    def test_a_smaller_max_entries_evicts_at_once_and_a_shorter_ttl_refetches(self):
        sidecar = self.start({"cache": {"ttl": "5m", "max_entries": "10"}})
        for path in ("/v1/kv-demo/data/sample", "/v1/kv-v1/config"):
            self.assertEqual(sidecar.get(path)[0], 200)
        self.assertEqual(sidecar.health()[1]["cache"]["entries"], 2)
        self.rewrite({"cache": {"ttl": "1s", "max_entries": "1"}})
        self.hup_and_wait_for("SIGHUP: applied cache.ttl, cache.max_entries")
        self.assertEqual(sidecar.health()[1]["cache"]["entries"], 1)
        reads = self.vault.count("GET", "/v1/kv-v1/config")
        time.sleep(1.5)  # older than the new 1 s ttl, well inside the old 5 m
        status, headers, _ = sidecar.get("/v1/kv-v1/config")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("x-cache"), "MISS")
        self.assertEqual(self.vault.count("GET", "/v1/kv-v1/config"), reads + 1)
        self.assertEqual(self.vault.count("POST", self.LOGIN), 1)

    def test_a_broken_file_is_refused_with_its_problems_and_the_old_config_kept(self):
        sidecar = self.start({"proxy": {"allow": "/v1/kv-demo/*"}})
        text = self.rewrite({"proxy": {"allow": "/v1/kv-demo/*, /v1/kv-v1/*"},
                             "cache": {"ttl": "banana"},
                             "listener": {"threads": "0"}})
        lines = text.splitlines()
        ttl_line = lines.index("ttl = banana") + 1
        threads_line = lines.index("threads = 0") + 1
        self.hup_and_wait_for("keeping the running configuration")
        log = sidecar.log()
        self.assertIn("has 2 problem(s); keeping the running configuration", log)
        self.assertIn(f"{sidecar.config_path}:{ttl_line}: cache.ttl: ", log)
        self.assertIn(f"{sidecar.config_path}:{threads_line}: listener.threads: ", log)
        self.assertNotIn("SIGHUP: applied", log)
        self.assertEqual(sidecar.get("/v1/kv-v1/config")[0], 403)  # the old allow list
        self.assert_alive_and_healthy()

        # Fixed: the next SIGHUP applies it.
        self.rewrite({"cache": {"ttl": "1m"}, "listener": {"threads": "1"}})
        self.hup_and_wait_for("SIGHUP: applied proxy.allow, cache.ttl")
        self.assertEqual(sidecar.get("/v1/kv-v1/config")[0], 200)
        self.assertEqual(self.vault.count("POST", self.LOGIN), 1)
        self.assert_alive_and_healthy()

    def test_an_unreadable_file_is_refused_and_the_old_config_kept(self):
        sidecar = self.start()
        os.rename(sidecar.config_path, sidecar.config_path + ".moved")
        self.hup_and_wait_for("keeping the running configuration")
        self.assertIn(f"{sidecar.config_path}: cannot read", sidecar.log())
        self.assertEqual(sidecar.get("/v1/kv-demo/data/sample")[0], 200)
        self.assert_alive_and_healthy()

    def test_vault_and_listener_addresses_need_a_restart_and_change_nothing(self):
        sidecar = self.start()
        other_vault_port = free_port()
        other_listener_port = free_port()
        self.rewrite({"vault": {"address": f"http://127.0.0.1:{other_vault_port}"},
                      "listener": {"address": f"127.0.0.1:{other_listener_port}"}})
        self.hup_and_wait_for("SIGHUP: changed but applied only at restart")
        self.assertIn("applied only at restart (running with the old values): "
                      "vault.address, listener.address", sidecar.log())
        # Names only, not values; and nothing was ever sent to the new address.
        self.assertNotIn(f"127.0.0.1:{other_vault_port}", sidecar.log())
        # A first read (a cache miss) still goes to the Vault it started with, on the old port.
        status, headers, _ = sidecar.get("/v1/kv-v1/config")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("x-cache"), "MISS")
        with self.assertRaises(OSError):
            request(other_listener_port, "/sidecar/v1/health", timeout=2)
        self.assertEqual(self.vault.count("POST", self.LOGIN), 1)
        self.assert_alive_and_healthy()

    def test_raising_the_log_level_to_debug_shows_request_lines_in_json(self):
        sidecar = self.start({"log": {"level": "info", "format": "text"}})
        self.assertEqual(sidecar.get("/v1/kv-demo/data/sample")[0], 200)
        self.assertNotIn("request GET", sidecar.log())  # info: no request lines
        self.rewrite({"log": {"level": "debug", "format": "json"}})
        self.hup_and_wait_for("SIGHUP: applied log.level, log.format")

        canary_token = "hvs.CLIENT-TOKEN-CANARY-8841"
        for path in ("/v1/kv-demo/data/sample", "/v1/sys/mounts", "/sidecar/v1/health"):
            sidecar.get(path, headers={"X-Vault-Token": canary_token})

        def request_lines():
            found = {}
            for line in sidecar.log().splitlines():
                if not line.startswith("{"):
                    continue
                entry = json.loads(line)
                match = re.fullmatch(r"request GET (\S+) -> (\d+) \((\w+), \d+\.\d ms\)",
                                     entry["msg"])
                if match and entry["level"] == "debug" and entry["component"] == "proxy":
                    found[match.group(1)] = (int(match.group(2)), match.group(3))
            return found if len(found) == 3 else None

        found = wait_until(request_lines, 10, what="three JSON request lines")
        self.assertEqual(found, {"/v1/kv-demo/data/sample": (200, "kv_read"),
                                 "/v1/sys/mounts": (403, "deny"),
                                 "/sidecar/v1/health": (200, "local_health")})
        # From the switch on, every line is one JSON object with the four fields.
        lines = sidecar.log().splitlines()
        first_json = next(i for i, line in enumerate(lines) if line.startswith("{"))
        for line in lines[first_json:]:
            if not line.strip():
                continue
            entry = json.loads(line)
            self.assertTrue({"ts", "level", "component", "msg"} <= entry.keys(), line)
        self.assertNotIn(KV_CANARY, sidecar.log())
        self.assertNotIn(canary_token, sidecar.log())
        self.assertEqual(self.vault.count("POST", self.LOGIN), 1)
