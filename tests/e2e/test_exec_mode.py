"""Issue 7 end to end: pattern 3 — the sidecar runs the app with secrets in its environment and
in rendered files, forwards signals, and restarts it (or only rewrites files) when secrets change.

The app is a small shell script written into the test's temp dir. It appends a line to `starts`
at every start, writes its whole environment to `env.<start number>`, and appends each signal it
traps to `signals`, with its pid and the time.
"""
import os
import signal
import stat
import subprocess
import threading
import time
import unittest

from harness import (ROLE_ID, SECRET_ID, CleanExitTestCase, default_seed, read_lines, read_text,
                     wait_until, write_file)

REFRESH = 2.0  # [cache] refresh_interval of these tests, seconds
DEBOUNCE = 1.0  # the supervisor handles changes within 1 s together (issue 7)
MARGIN = 4.0  # for a loaded 2-core machine running ASan builds
API_KEY = "api-canary-key-8086"


def exec_seed(db_ttl=60, db_max_ttl=300):
    seed = default_seed(db_ttl=db_ttl, db_max_ttl=db_max_ttl)
    seed["kv_mounts"]["kv-demo"]["secrets"]["sample"]["api_key"] = API_KEY
    return seed


def child_script(on_term="exit 0", body="while :; do sleep 0.2; done"):
    """The app. `on_term` is its SIGTERM trap; `body` runs once it has recorded its start. The
    traps are set before the start is recorded: a test signals the app as soon as it sees the
    start (and its env file), and a USR1 that came before its trap would end the shell. The
    loop's short sleeps let a trap run soon (the sidecar signals the app's whole process group, so
    the sleep in progress gets the signal too)."""
    return f"""#!/bin/sh
dir=$(dirname "$0")
record() {{ echo "$1 $$ $(date +%s.%N)" >> "$dir/signals"; }}
trap 'record HUP' HUP
trap 'record USR1' USR1
trap 'record USR2' USR2
trap 'record TERM; {on_term}' TERM
echo "$$ $(date +%s.%N)" >> "$dir/starts"
n=$(wc -l < "$dir/starts")
env > "$dir/env.tmp.$$" && mv "$dir/env.tmp.$$" "$dir/env.$n"
{body}
"""


class ExecCase:
    """Mixin: the app's files and the sidecar sections of an exec-mode test."""

    def app_dir(self):
        return os.path.join(self.workdir, "app")

    def app_file(self, name):
        return os.path.join(self.app_dir(), name)

    def write_app(self, **kwargs):
        return write_file(self.app_file("app.sh"), child_script(**kwargs), 0o755)

    def starts(self):
        return read_lines(self.app_file("starts"))

    def app_env(self, number):
        env = {}
        for line in read_lines(self.app_file(f"env.{number}")):
            name, _, value = line.partition("=")
            env[name] = value
        return env

    def signals(self):
        return [line.split()[0] for line in read_lines(self.app_file("signals"))]

    def wait_starts(self, count, timeout, sidecar):
        def reached():
            if len(self.starts()) >= count:
                return True
            if sidecar.process.proc.poll() is not None:
                raise AssertionError(f"sidecar exited {sidecar.process.proc.returncode}:\n"
                                     + sidecar.log()[-4000:])
            return False
        wait_until(reached, timeout, what=f"{count} app start(s)")
        # The start line comes before the env file: wait for that too.
        wait_until(lambda: os.path.exists(self.app_file(f"env.{count}")), 10,
                   what=f"env.{count}")

    def sections(self, env=None, templates=None, secrets=None, exec_keys=None, cache=None):
        sections = {
            "exec": {"command": f"/bin/sh {self.app_file('app.sh')}",
                     "restart_on_secret_changes": "always", "restart_grace": "10s"},
            "secrets": secrets or {"app": "kv-demo/data/sample"},
            "env": env or {"DB_PASSWORD": "{{app.password}}", "API_KEY": "{{app.api_key}}"},
            "cache": {"refresh_interval": f"{REFRESH:g}s", **(cache or {})},
        }
        sections["exec"].update(exec_keys or {})
        for name, keys in (templates or {}).items():
            sections[f"template.{name}"] = keys
        return sections

    def template(self, name, text, **keys):
        source = write_file(os.path.join(self.workdir, "templates", f"{name}.tmpl"), text)
        os.makedirs(os.path.join(self.workdir, "rendered"), exist_ok=True)  # not created for us
        return {"source": source,
                "destination": os.path.join(self.workdir, "rendered", f"{name}.ini"), **keys}

    def set_password(self, vault, password):
        vault.control("kv", {"mount": "kv-demo", "path": "sample",
                             "data": {"username": "demo", "password": password,
                                      "api_key": API_KEY}})


CONFIG_TEMPLATE = """; rendered by vault-sidecar
[database]
password = {{app.password}}
api_key = {{app.api_key}}
user = {{db.username}}
"""


class EnvAndFileTest(ExecCase, CleanExitTestCase):
    def test_app_sees_env_values_and_rendered_file_has_mode_0600(self):
        vault = self.start_double(exec_seed())
        self.write_app()
        hook_marker = self.app_file("hook-ran")
        cfg = self.template("app-config", CONFIG_TEMPLATE,
                            command=f"/usr/bin/touch {hook_marker}")
        sidecar = self.start_sidecar(
            f"http://127.0.0.1:{vault.port}", write_credentials=False,
            env={"VAULT_ROLE_ID": ROLE_ID, "VAULT_SECRET_ID": SECRET_ID},
            sections=self.sections(
                secrets={"app": "kv-demo/data/sample", "db": "database/creds/myapp-role"},
                env={"DB_PASSWORD": "{{app.password}}", "API_KEY": "{{app.api_key}}",
                     "DB_USER": "{{db.username}}"},
                templates={"app-config": cfg}))
        self.wait_starts(1, 30, sidecar)
        env = self.app_env(1)
        self.assertEqual(env["DB_PASSWORD"], "kv-canary-pw-5150")
        self.assertEqual(env["API_KEY"], API_KEY)
        self.assertTrue(env["DB_USER"].startswith("v-"), env["DB_USER"])
        self.assertIn("PATH", env)  # the sidecar's own environment is passed on...
        self.assertNotIn("VAULT_ROLE_ID", env)  # ...except its AppRole credentials
        self.assertNotIn("VAULT_SECRET_ID", env)

        destination = cfg["destination"]
        self.assertEqual(stat.S_IMODE(os.stat(destination).st_mode), 0o600)
        self.assertEqual(read_text(destination),
                         "; rendered by vault-sidecar\n[database]\n"
                         f"password = kv-canary-pw-5150\napi_key = {API_KEY}\n"
                         f"user = {env['DB_USER']}\n")
        self.assertTrue(os.path.exists(hook_marker))  # the template's command ran after the write
        # The file was complete before the app started: its mtime is not after the app's start.
        started_at = float(self.starts()[0].split()[1])
        self.assertLessEqual(os.stat(destination).st_mtime, started_at + 0.05)
        log = sidecar.log()
        for canary in ["kv-canary-pw-5150", API_KEY, env["DB_USER"], ROLE_ID, SECRET_ID]:
            self.assertNotIn(canary, log)

    def test_proxy_answers_while_the_app_runs(self):
        vault = self.start_double(exec_seed())
        self.write_app()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", sections=self.sections())
        self.wait_starts(1, 30, sidecar)
        answer = subprocess.run(
            ["curl", "-sS", "--max-time", "10", "-w", "\n%{http_code}",
             f"http://127.0.0.1:{sidecar.port}/v1/kv-demo/data/sample"],
            capture_output=True, text=True, timeout=20)
        body, _, status = answer.stdout.rpartition("\n")
        self.assertEqual(status, "200", answer.stderr)
        self.assertIn("kv-canary-pw-5150", body)
        self.assertEqual(sidecar.health()[0], 200)
        self.assertEqual(len(self.starts()), 1)


class RestartOnChangeTest(ExecCase, CleanExitTestCase):
    def test_kv_change_restarts_the_app_once_with_the_new_value(self):
        vault = self.start_double(exec_seed())
        self.write_app()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", sections=self.sections())
        self.wait_starts(1, 30, sidecar)
        time.sleep(0.5)
        changed_at = time.monotonic()
        self.set_password(vault, "rotated-pw-0001")
        self.wait_starts(2, REFRESH + DEBOUNCE + MARGIN, sidecar)
        self.restart_seconds = time.monotonic() - changed_at
        # Several more refreshes bring nothing new: still exactly one restart.
        time.sleep(3 * REFRESH)
        self.assertEqual(len(self.starts()), 2, self.starts())
        env = self.app_env(2)
        self.assertEqual(env["DB_PASSWORD"], "rotated-pw-0001")
        self.assertEqual(env["API_KEY"], API_KEY)
        log = sidecar.log()
        self.assertIn("restarting the app", log)
        self.assertIn("DB_PASSWORD changed (secret app changed)", log)
        self.assertNotIn("rotated-pw-0001", log)
        self.assertEqual(self.signals(), ["TERM"])  # the old app got restart_stop_signal
        print(f"\n  KV change -> restart in {self.restart_seconds:.2f} s", end=" ")

    def test_refresh_without_change_neither_restarts_nor_rewrites(self):
        vault = self.start_double(exec_seed())
        self.write_app()
        cfg = self.template("app-config", "password = {{app.password}}\n")
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections=self.sections(templates={"app-config": cfg}))
        self.wait_starts(1, 30, sidecar)
        before = os.stat(cfg["destination"])
        reads_before = vault.count("GET", "/v1/kv-demo/data/sample")
        time.sleep(4 * REFRESH)
        self.assertGreaterEqual(vault.count("GET", "/v1/kv-demo/data/sample") - reads_before, 2,
                                "the cache did not refresh the secret")
        after = os.stat(cfg["destination"])
        self.assertEqual(after.st_mtime_ns, before.st_mtime_ns)
        self.assertEqual(after.st_ino, before.st_ino)  # not replaced by a rename either
        self.assertEqual(len(self.starts()), 1)
        self.assertNotIn("restarting the app", sidecar.log())

    def test_rotated_creds_in_env_restart_the_app(self):
        # default_ttl 6 s: [database] renew_at 0.8 fetches new creds about 4.8 s after issue.
        vault = self.start_double(exec_seed(db_ttl=6))
        self.write_app()
        sidecar = self.start_sidecar(
            f"http://127.0.0.1:{vault.port}",
            sections=self.sections(secrets={"db": "database/creds/myapp-role"},
                                   env={"DB_USER": "{{db.username}}",
                                        "DB_PASSWORD": "{{db.password}}"}))
        self.wait_starts(1, 30, sidecar)
        self.wait_starts(2, 6 + DEBOUNCE + 2 * MARGIN, sidecar)
        first, second = self.app_env(1), self.app_env(2)
        self.assertNotEqual(first["DB_USER"], second["DB_USER"])
        self.assertNotEqual(first["DB_PASSWORD"], second["DB_PASSWORD"])
        self.assertIn("(secret db changed)", sidecar.log())

    def test_rotated_creds_only_in_a_template_rewrite_it_without_restart(self):
        vault = self.start_double(exec_seed(db_ttl=6))
        self.write_app()
        hook_log = self.app_file("hook.log")
        hook = write_file(self.app_file("hook.sh"), f'#!/bin/sh\necho ran >> "{hook_log}"\n',
                          0o755)
        cfg = self.template("db", "user = {{db.username}}\npassword = {{db.password}}\n",
                            command=f"/bin/sh {hook}")
        sidecar = self.start_sidecar(
            f"http://127.0.0.1:{vault.port}",
            sections=self.sections(
                secrets={"app": "kv-demo/data/sample", "db": "database/creds/myapp-role"},
                templates={"db": cfg}))
        self.wait_starts(1, 30, sidecar)
        first = read_text(cfg["destination"])
        self.assertEqual(read_lines(hook_log), ["ran"])
        wait_until(lambda: read_text(cfg["destination"]) != first, 6 + DEBOUNCE + 2 * MARGIN,
                   what="the template rewritten with new creds")
        wait_until(lambda: len(read_lines(hook_log)) >= 2, 10, what="the hook after the rewrite")
        time.sleep(DEBOUNCE + 1)  # a restart would have followed the rewrite by now
        self.assertEqual(len(self.starts()), 1, self.starts())
        self.assertEqual(self.signals(), [])
        self.assertEqual(stat.S_IMODE(os.stat(cfg["destination"]).st_mode), 0o600)
        log = sidecar.log()
        self.assertIn("template db: rewrote", log)
        self.assertNotIn("restarting the app", log)


class SignalTest(ExecCase, CleanExitTestCase):
    def test_hup_usr1_usr2_reach_the_app(self):
        vault = self.start_double(exec_seed())
        self.write_app()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", sections=self.sections())
        self.wait_starts(1, 30, sidecar)
        for number, name in [(signal.SIGUSR1, "USR1"), (signal.SIGUSR2, "USR2"),
                             (signal.SIGHUP, "HUP")]:
            sidecar.process.signal(number)
            wait_until(lambda: name in self.signals(), 10, what=f"the app's {name} trap")
        self.assertEqual(self.signals(), ["USR1", "USR2", "HUP"])
        self.assertIsNone(sidecar.process.proc.poll())
        self.assertEqual(len(self.starts()), 1)  # forwarded, not a restart
        self.assertEqual(sidecar.health()[0], 200)

    def test_app_exit_code_becomes_the_sidecar_exit_code(self):
        vault = self.start_double(exec_seed())
        self.write_app(body="sleep 1; exit 7")
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", sections=self.sections(),
                                     wait_ready=False)
        self.assertEqual(sidecar.wait_exit(30), 7, sidecar.log()[-4000:])
        self.assertEqual(len(self.starts()), 1)
        self.assertIn("the app exited with code 7", sidecar.log())

    def test_sigterm_stops_the_app_and_the_sidecar_exits_with_its_code(self):
        vault = self.start_double(exec_seed())
        self.write_app(on_term="exit 3")
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", sections=self.sections())
        self.wait_starts(1, 30, sidecar)
        sidecar.process.signal(signal.SIGTERM)
        self.assertEqual(sidecar.wait_exit(30), 3, sidecar.log()[-4000:])
        self.assertEqual(self.signals(), ["TERM"])
        log = sidecar.log()
        self.assertNotIn("Sanitizer", log)
        self.assertNotIn("runtime error:", log)

    def test_app_ignoring_sigterm_is_killed_after_restart_grace_on_restart(self):
        vault = self.start_double(exec_seed())
        self.write_app(on_term=":")  # records SIGTERM, keeps running
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections=self.sections(exec_keys={"restart_grace": "2s"}))
        self.wait_starts(1, 30, sidecar)
        first_pid = self.starts()[0].split()[0]
        self.set_password(vault, "rotated-pw-0002")
        self.wait_starts(2, REFRESH + DEBOUNCE + 2 + 2 * MARGIN, sidecar)
        term = [line.split() for line in read_lines(self.app_file("signals"))]
        self.assertEqual([(t[0], t[1]) for t in term], [("TERM", first_pid)])
        waited = float(self.starts()[1].split()[1]) - float(term[0][2])
        self.assertGreaterEqual(waited, 1.8)  # SIGKILL came after restart_grace, not before
        self.assertLess(waited, 2 + MARGIN)
        self.assertFalse(os.path.exists(f"/proc/{first_pid}"), "the old app still runs")
        self.assertIn("did not stop within 2s: sending SIGKILL", sidecar.log())
        self.assertEqual(self.app_env(2)["DB_PASSWORD"], "rotated-pw-0002")
        # At stop too: SIGTERM, ignored, then SIGKILL after restart_grace; the sidecar exits
        # with the killed app's code.
        sent = time.monotonic()
        sidecar.process.signal(signal.SIGTERM)
        self.assertEqual(sidecar.wait_exit(30), 128 + signal.SIGKILL, sidecar.log()[-4000:])
        self.assertGreaterEqual(time.monotonic() - sent, 1.8)
        self.assertEqual([line.split()[0] for line in read_lines(self.app_file("signals"))],
                         ["TERM", "TERM"])


class TemplateTest(ExecCase, CleanExitTestCase):
    def test_missing_key_fails_start_up_with_78_naming_it(self):
        vault = self.start_double(exec_seed())
        self.write_app()
        cfg = self.template("app-config", "password = {{app.password}}\nx = {{app.no_such_key}}\n")
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", wait_ready=False,
                                     sections=self.sections(templates={"app-config": cfg}))
        self.assertEqual(sidecar.wait_exit(30), 78, sidecar.log()[-4000:])
        log = sidecar.log()
        self.assertIn("template app-config", log)
        self.assertIn("no_such_key", log)
        self.assertNotIn("kv-canary-pw-5150", log)
        self.assertEqual(self.starts(), [])  # the app never started
        self.assertFalse(os.path.exists(cfg["destination"]))

    def test_missing_key_in_env_fails_start_up_with_78_naming_it(self):
        vault = self.start_double(exec_seed())
        self.write_app()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", wait_ready=False,
                                     sections=self.sections(env={"TOKEN": "{{app.no_token}}"}))
        self.assertEqual(sidecar.wait_exit(30), 78, sidecar.log()[-4000:])
        log = sidecar.log()
        self.assertIn("env TOKEN", log)
        self.assertIn("no_token", log)
        self.assertEqual(self.starts(), [])

    def test_a_reader_polling_the_destination_never_sees_a_partial_file(self):
        vault = self.start_double(exec_seed())
        self.write_app()
        filler = "".join(f"setting_{i:05d} = some value that makes the file large\n"
                         for i in range(20000))
        cfg = self.template("big", "BEGIN {{app.password}}\n" + filler + "END {{app.password}}\n")
        sidecar = self.start_sidecar(
            f"http://127.0.0.1:{vault.port}",
            sections=self.sections(env={"API_KEY": "{{app.api_key}}"}, templates={"big": cfg}))
        self.wait_starts(1, 30, sidecar)
        destination = cfg["destination"]

        def size_for(password):
            return 2 * len(password) + len("BEGIN \n") + len("END \n") + len(filler)

        bad, reads, seen = [], [0], set()
        done = threading.Event()

        def reader():
            while not done.is_set():
                with open(destination) as f:
                    content = f.read()
                reads[0] += 1
                first = content[:content.find("\n")]
                password = first[len("BEGIN "):]
                if (not first.startswith("BEGIN ") or not content.endswith(f"END {password}\n")
                        or len(content) != size_for(password)):
                    bad.append((len(content), content[:40], content[-40:]))
                else:
                    seen.add(password)

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            for i in range(1, 5):
                password = f"rewritten-pw-{i:04d}"
                self.set_password(vault, password)
                wait_until(lambda: password in seen, REFRESH + DEBOUNCE + 2 * MARGIN,
                           what=f"the reader seeing {password}")
        finally:
            done.set()
            thread.join()
        self.assertEqual(bad, [])
        self.assertGreater(reads[0], 20)
        self.assertEqual(len(self.starts()), 1)  # a template-only change restarts nothing
        self.assertEqual(sidecar.log().count("template big: rewrote"), 4)


if __name__ == "__main__":
    unittest.main()
