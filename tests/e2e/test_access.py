"""Issue 10 item 5: who can reach the sidecar, and that it never hands out its own token."""
import json
import os
import stat
import subprocess
import threading
import time
import unittest

from harness import CleanExitTestCase, free_port, request, SIDECAR_BIN

KV_PATH = "/v1/kv-demo/data/sample"


class NonLoopbackListenerTest(CleanExitTestCase):
    ADDRESSES = ["0.0.0.0:{port}", "[::]:{port}", "192.0.2.10:{port}", "128.0.0.1:{port}",
                 "10.0.0.1:{port}"]

    def test_check_and_start_refuse_non_loopback_addresses_with_exit_78(self):
        vault = self.start_double()
        for template in self.ADDRESSES:
            address = template.format(port=free_port())
            with self.subTest(address=address):
                subdir = "sidecar-" + address.replace(":", "_").replace("[", "").replace("]", "")
                sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", subdir=subdir,
                                             wait_ready=False,
                                             sections={"listener": {"address": address}})
                self.assertEqual(sidecar.wait_exit(30), 78, sidecar.log())
                self.assertIn("not a loopback address", sidecar.log())
                check = subprocess.run([SIDECAR_BIN, "check", "--config", sidecar.config_path],
                                       capture_output=True, text=True, timeout=30)
                self.assertEqual(check.returncode, 78, check.stdout + check.stderr)
                self.assertIn("listener.address", check.stderr)
                self.assertIn("not a loopback address", check.stderr)
        self.assertEqual(vault.count("POST", "/v1/auth/approle/login"), 0)  # refused before login


class UnixSocketModeTest(CleanExitTestCase):
    def watch_and_start(self, mode):
        """Starts a sidecar with a unix socket while a thread lstat()s every entry of the socket's
        directory in a tight loop; returns (sidecar, socket path, {name: set of modes seen})."""
        vault = self.start_double()
        sockets = os.path.join(self.workdir, f"sockets-{mode:o}")
        os.makedirs(sockets)
        path = os.path.join(sockets, "sidecar.sock")
        seen, stop = {}, threading.Event()

        def watch():
            while not stop.is_set():
                for name in os.listdir(sockets):
                    try:
                        info = os.lstat(os.path.join(sockets, name))
                    except FileNotFoundError:
                        continue  # renamed between listdir and lstat
                    seen.setdefault(name, set()).add(stat.S_IMODE(info.st_mode))
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                         subdir=f"sidecar-{mode:o}",
                                         sections={"listener": {"unix_socket": path,
                                                                "socket_mode": f"{mode:04o}"}})
            time.sleep(0.2)
        finally:
            stop.set()
            watcher.join()
        return sidecar, path, seen

    def test_the_socket_never_shows_a_wider_mode_than_configured(self):
        for mode in (0o600, 0o660):
            with self.subTest(mode=oct(mode)):
                sidecar, path, seen = self.watch_and_start(mode)
                self.assertEqual(seen.get("sidecar.sock"), {mode}, seen)
                info = os.stat(path)
                self.assertTrue(stat.S_ISSOCK(info.st_mode))
                self.assertEqual(stat.S_IMODE(info.st_mode), mode)
                # Anything else that showed up was the private name bound before listen(): a
                # connect to it is refused whatever its mode, and it is gone now.
                self.assertEqual(os.listdir(os.path.dirname(path)), ["sidecar.sock"])
                print(f"\nsocket_mode {mode:04o}: modes seen during start-up "
                      f"{ {name: sorted(oct(m) for m in modes) for name, modes in seen.items()} }")
                status, _, _ = request(0, "/sidecar/v1/health", unix_socket=path)
                self.assertEqual(status, 200)
                sidecar.stop()


class TokenNeverAnsweredTest(CleanExitTestCase):
    """Every header and body a local client can get, from a battery of requests, is searched for
    the sidecar's token (taken from the double's request log)."""

    def battery(self, sidecar, vault, extra_paths=()):
        answers = []

        def ask(path, method="GET", body=None, headers=None):
            status, got, data = sidecar.get(path, method=method, body=body,
                                            headers=headers or {}, timeout=30)
            answers.append((method, path, status, got, data))
            return status

        ask(KV_PATH)
        ask(KV_PATH)  # a hit
        ask("/v1/kv-demo/metadata/sample")
        ask("/v1/kv-demo/data/missing")
        ask("/v1/kv-v1/config")
        ask("/v1/database/creds/myapp-role")
        for path in ("/v1/auth/token/lookup-self", "/v1/auth/token/renew-self",
                     "/v1/auth/token/create", "/v1/auth/approle/login", "/v1/sys/mounts",
                     "/v1/sys/leases/lookup", "/v1/sys/wrapping/lookup", "/v1/cubbyhole/x",
                     "/v1/kv-demo/../auth/token/lookup-self", "/v1/%61uth/token/lookup-self",
                     *extra_paths):
            ask(path)
            ask(path, method="POST", body="{}", headers={"Content-Type": "application/json"})
        ask("/v1/sys/health")
        ask("/sidecar/v1/health")
        ask("/sidecar/v1/metrics")
        ask("/proxy/v1/metrics")
        ask("/sidecar/v1/nothing-here")
        ask("/sidecar/v1/cache-clear", method="POST", body=json.dumps({"type": "all"}))
        ask("/sidecar/v1/cache-clear", method="POST", body="not json")
        ask("/sidecar/v1/quit", method="POST")
        ask(KV_PATH, method="PUT", body=json.dumps({"data": {"a": "b"}}))
        ask(KV_PATH, method="TRACE")
        ask(KV_PATH, headers={"X-Vault-Token": "hvs.client-supplied",
                              "X-Vault-Wrap-TTL": "60s"})
        ask("/v1/kv-demo/data/wrapped", headers={"X-Vault-Wrap-TTL": "60s"})
        vault.control("delay", {"prefix": "/v1/kv-demo/data/slow", "ms": 5000})
        ask("/v1/kv-demo/data/slow")  # 504
        vault.control("clear")
        vault.control("down")
        ask("/v1/kv-demo/data/while-down")  # 502
        ask("/v1/database/creds/other-role")
        vault.control("up")
        return answers

    def assert_no_token(self, vault, answers):
        tokens = {r["token"] for r in vault.requests() if r["token"]}
        self.assertTrue(tokens)
        statuses = {}
        for method, path, status, headers, body in answers:
            statuses.setdefault(status, 0)
            statuses[status] += 1
            text = body.decode(errors="replace") + json.dumps(headers)
            for token in tokens:
                self.assertNotIn(token, text, f"{method} {path} -> {status}")
                # Nor a token's distinctive tail (an answer could quote part of it).
                self.assertNotIn(token[-16:], text, f"{method} {path} -> {status}")
        return statuses

    def test_default_allow_never_answers_with_the_token(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"vault": {"max_retries": "0"}})
        answers = self.battery(sidecar, vault)
        statuses = self.assert_no_token(vault, answers)
        print(f"\ntoken never answered: {len(answers)} answers, statuses {statuses}")
        refused = {path for method, path, status, _, _ in answers if status == 403}
        self.assertIn("/v1/auth/token/create", refused)
        # lookup-self and renew-self are answered locally (about the caller's token, none here).
        local = {path for method, path, status, _, _ in answers if status == 200}
        self.assertIn("/v1/auth/token/lookup-self", local)
        self.assertEqual([r for r in vault.requests()
                          if r["path"] == "/v1/auth/token/lookup-self"], [])

    def test_even_a_broad_allow_never_forwards_token_paths(self):
        vault = self.start_double()
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"vault": {"max_retries": "0"},
                                               "proxy": {"allow": "/v1/*",
                                                         "forward_writes": "true"}})
        answers = self.battery(sidecar, vault, extra_paths=("/v1/auth/token/lookup",))
        self.assert_no_token(vault, answers)
        for method, path, status, _, _ in answers:
            if path.endswith(("/lookup-self", "/renew-self")):
                # Answered locally (test_clients.py), or 405 for a method the call does not take.
                self.assertIn(status, (200, 405), f"{method} {path}")
            elif "auth/" in path or "%61uth" in path:
                self.assertEqual(status, 403, f"{method} {path}")
        self.assertEqual(sum(1 for r in vault.requests()
                             if r["path"].startswith("/v1/auth/token/")
                             and r["path"] != "/v1/auth/token/renew-self"), 0)


if __name__ == "__main__":
    unittest.main()
