"""Issue 18 part 2: lease housekeeping answered by the sidecar, never forwarded.

A lease watcher loop in the test makes the calls Spring Vault's SecretLeaseContainer and the Go
client's LifetimeWatcher make for the database lease they were handed (`sys/leases/renew` with
`lease_id` and `increment`, `sys/leases/lookup`, `sys/leases/revoke`, and the older path forms),
over TCP and the unix socket. The sidecar answers from its lease store: the figures are the
whole seconds really left, a revoke keeps the shared lease, and any lease it did not hand out is
`lease not found`. The double's request log shows that none of it reached Vault.
"""
import calendar
import json
import os
import re
import subprocess
import time

from harness import (DB_CREDS, CleanExitTestCase, default_seed, lookup_lease,
                     read_text, request, root_token)

CAPPED = re.compile(r'^TTL of "([0-9hms]+)" exceeded the effective max_ttl of "([0-9hms]+)"; '
                    r'TTL value is capped accordingly$')
RFC3339 = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d{1,9})?Z$")
NOT_FOUND = {"errors": ["lease not found"]}
# Every way a lease could reach Vault from these calls.
LEASE_PATHS = ("/v1/sys/leases", "/v1/sys/renew", "/v1/sys/revoke")


def epoch_of(text):
    """Seconds since the epoch of an RFC 3339 UTC time as Go writes it (nanosecond fraction)."""
    match = RFC3339.match(text)
    assert match, text
    whole = calendar.timegm(tuple(int(g) for g in match.groups()[:6]))
    return whole + (float(match.group(7)) if match.group(7) else 0.0)


def seconds_of(human):
    """Vault's humanDuration ("1h", "1m30s", "45s") in seconds."""
    total = 0
    for number, unit in re.findall(r"(\d+)([hms])", human):
        total += int(number) * {"h": 3600, "m": 60, "s": 1}[unit]
    return total


class Watcher:
    """A client's lease watcher on one transport: the calls and headers Spring and the Go client
    send (the app's own X-Vault-Token too, which the sidecar ignores)."""

    def __init__(self, sidecar, transport, socket_path):
        self.sidecar, self.transport, self.socket_path = sidecar, transport, socket_path

    def call(self, path, body=None, method="PUT", raw_body=None):
        headers = {"X-Vault-Token": "hvs.the-apps-own-token", "X-Vault-Request": "true",
                   "Content-Type": "application/json"}
        data = raw_body if raw_body is not None else (
            json.dumps(body) if body is not None else None)
        status, answer_headers, payload = request(
            self.sidecar.port, path, method=method, headers=headers, body=data,
            unix_socket=self.socket_path if self.transport == "unix" else None)
        return status, answer_headers, (json.loads(payload) if payload else None)

    def renew(self, lease_id, increment=None):  # Spring and the Go client
        body = {"lease_id": lease_id}
        if increment is not None:
            body["increment"] = increment
        return self.call("/v1/sys/leases/renew", body)

    def lookup(self, lease_id):
        return self.call("/v1/sys/leases/lookup", {"lease_id": lease_id})

    def revoke(self, lease_id):
        return self.call("/v1/sys/leases/revoke", {"lease_id": lease_id})

    def read_creds(self):
        before = time.monotonic()
        status, _, body = self.call(DB_CREDS, method="GET")
        return before, time.monotonic(), status, body


class LeaseHousekeepingBase(CleanExitTestCase):
    def start(self, db_ttl=60, sections=None, seed=None):
        os.chmod(self.workdir, 0o755)
        self.vault = self.start_double(seed or default_seed(db_ttl=db_ttl, db_max_ttl=300))
        self.socket_path = os.path.join(self.workdir, "sidecar.sock")
        self.audit_path = os.path.join(self.workdir, "audit.json")
        merged = {"listener": {"unix_socket": self.socket_path, "socket_mode": "0666"},
                  "log": {"level": "trace"}, "audit": {"destination": self.audit_path}}
        for section, keys in (sections or {}).items():
            merged.setdefault(section, {}).update(keys)
        self.sidecar = self.start_sidecar(f"http://127.0.0.1:{self.vault.port}", sections=merged)
        self.root = root_token(self.vault)

    def watcher(self, transport):
        return Watcher(self.sidecar, transport, self.socket_path)

    def assert_never_forwarded(self):
        # The test's own look-ups at the double carry its root token; anything else is the
        # sidecar's.
        forwarded = [r for r in self.vault.requests()
                     if r["path"].startswith(LEASE_PATHS) and r["token"] != self.root]
        self.assertEqual(forwarded, [])
        self.assertGreater(len(self.vault.requests()), 0)

    def assert_lease_id_never_logged(self, *lease_ids):
        # Trace level and the audit log: neither may name a lease a caller could renew with.
        texts = {"sidecar log": self.sidecar.log(), "audit log": read_text(self.audit_path)}
        for lease_id in lease_ids:
            suffix = lease_id.rsplit("/", 1)[-1]
            for name, text in texts.items():
                self.assertNotIn(suffix, text, name)


class WatcherLoopTest(LeaseHousekeepingBase):
    def test_renew_lookup_revoke_of_a_held_lease_over_tcp_and_the_unix_socket(self):
        self.start(db_ttl=60)
        first = self.watcher("tcp").read_creds()
        self.assertEqual(first[2], 200, first[3])
        creds = first[3]
        lease_id = creds["lease_id"]
        granted_after = first[1]  # the sidecar's grant started before this instant
        for transport in ("tcp", "unix"):
            w = self.watcher(transport)
            with self.subTest(transport=transport, call="Spring renew, increment 60"):
                before = time.monotonic()
                status, headers, body = w.renew(lease_id, 60)
                self.assertEqual(status, 200, body)
                self.assertEqual(headers.get("cache-control"), "no-store")
                self.assertEqual(body["lease_id"], lease_id)
                self.assertFalse(body["renewable"])  # strategy rotate: the sidecar won't renew
                # Whole seconds really left: never more than the grant allows.
                self.assertLessEqual(body["lease_duration"],
                                     int(first[1] + 60 - before))
                self.assertGreaterEqual(body["lease_duration"], 50)
                self.assertEqual(len(body["warnings"]), 1, body)
                asked, granted = CAPPED.match(body["warnings"][0]).groups()
                self.assertEqual(asked, "1m")
                self.assertEqual(seconds_of(granted), body["lease_duration"])
                self.assertIsNone(body["data"])
                self.assertIsNone(body["auth"])
            with self.subTest(transport=transport, call="Go renew, increment within what is left"):
                status, _, body = w.renew(lease_id, 5)
                self.assertEqual(status, 200, body)
                self.assertIsNone(body["warnings"])
            with self.subTest(transport=transport, call="Go renew, no increment"):
                status, _, body = w.renew(lease_id)
                self.assertEqual(status, 200, body)
                # Without an increment Vault's default is the lease's own 60 s: not granted.
                self.assertEqual(CAPPED.match(body["warnings"][0]).group(1), "1m")
            with self.subTest(transport=transport, call="increment as a duration string"):
                status, _, body = w.call("/v1/sys/leases/renew/" + lease_id, {"increment": "1h"})
                self.assertEqual(status, 200, body)
                self.assertEqual(body["lease_id"], lease_id)
                self.assertEqual(CAPPED.match(body["warnings"][0]).group(1), "1h")
            with self.subTest(transport=transport, call="old clients: PUT sys/renew/<id>"):
                status, _, body = w.call("/v1/sys/renew/" + lease_id, method="PUT")
                self.assertEqual(status, 200, body)
                self.assertEqual(body["lease_id"], lease_id)
                status, _, body = w.call("/v1/sys/renew", {"lease_id": lease_id}, method="POST")
                self.assertEqual(status, 200, body)
            with self.subTest(transport=transport, call="lookup"):
                before = time.monotonic()
                wall_before = time.time()
                status, _, body = w.lookup(lease_id)
                self.assertEqual(status, 200, body)
                data = body["data"]
                self.assertEqual(data["id"], lease_id)
                self.assertFalse(data["renewable"])
                self.assertIsNone(data["last_renewal"])
                self.assertLessEqual(data["ttl"], int(granted_after + 60 - before))
                self.assertGreaterEqual(data["ttl"], 50)
                issued, expires = epoch_of(data["issue_time"]), epoch_of(data["expire_time"])
                self.assertAlmostEqual(expires - issued, 60, delta=0.001)
                self.assertLess(issued, wall_before)
                # Never later than Vault's own expiry, and not much earlier.
                status, at_vault = lookup_lease(self.vault, self.root, lease_id)
                self.assertEqual(status, 200, at_vault)
                vault_expiry = epoch_of(at_vault["data"]["expire_time"])
                self.assertLessEqual(expires, vault_expiry + 0.001)
                self.assertGreater(expires, vault_expiry - 2)
            with self.subTest(transport=transport, call="revoke at shutdown"):
                for path, body in (("/v1/sys/leases/revoke", {"lease_id": lease_id}),
                                   ("/v1/sys/revoke/" + lease_id, None),
                                   ("/v1/sys/leases/revoke/" + lease_id, {"sync": True})):
                    status, _, answer = w.call(path, body)
                    self.assertEqual(status, 204, (path, answer))
                    self.assertIsNone(answer)
                # Kept: still live at Vault, and the next read serves the same creds.
                status, at_vault = lookup_lease(self.vault, self.root, lease_id)
                self.assertEqual(status, 200, at_vault)
                self.assertGreater(at_vault["data"]["ttl"], 0)
                self.assertIn(lease_id, self.vault.control("leases", method="GET")["lease_ids"])
                _, _, status, again = w.read_creds()
                self.assertEqual(status, 200, again)
                self.assertEqual(again["lease_id"], lease_id)
                self.assertEqual(again["data"], creds["data"])
                self.assertEqual(w.renew(lease_id, 1)[0], 200)

        self.assertEqual(self.vault.count("GET", DB_CREDS), 1)
        self.assert_never_forwarded()
        self.assert_lease_id_never_logged(lease_id)
        audit = [json.loads(line) for line in read_text(self.audit_path).splitlines()]
        paths = {line["path"] for line in audit}
        self.assertIn("/v1/sys/renew", paths)  # the path form, cut before its lease id
        self.assertIn("/v1/sys/leases/revoke", paths)
        renews = [line for line in audit if line["path"] == "/v1/sys/leases/renew"]
        self.assertTrue(renews and all(line["status"] == 200 for line in renews))
        # Counted under their own route class.
        _, _, metrics = self.sidecar.get("/sidecar/v1/metrics")
        self.assertIn(b'requests_total{route="lease_housekeeping",code="200"}', metrics)
        self.assertIn(b'requests_total{route="lease_housekeeping",code="204"}', metrics)

    def test_unknown_and_unserved_leases_and_bad_requests_are_refused_locally(self):
        # A lease fetched at start-up for [secrets] is held, but no caller was handed it yet.
        self.start(db_ttl=60, sections={"secrets": {"db": "database/creds/myapp-role"}})
        held = self.vault.control("leases", method="GET")["lease_ids"]
        self.assertEqual(len(held), 1, held)
        held_id = held[0]
        for transport in ("tcp", "unix"):
            w = self.watcher(transport)
            for lease_id in (held_id, "database/creds/myapp-role/not-a-lease",
                             "database/creds/other-role/abc", "kv-demo/data/sample", "x"):
                for call in (w.renew, w.lookup, w.revoke):
                    with self.subTest(transport=transport, lease=lease_id, call=call.__name__):
                        status, _, body = call(lease_id)
                        self.assertEqual(status, 400, body)
                        self.assertEqual(body, NOT_FOUND)
                status, _, body = w.call("/v1/sys/renew/" + lease_id)
                self.assertEqual((status, body), (400, NOT_FOUND))
            for path, raw, message in (
                    ("/v1/sys/leases/renew", "", "lease_id must be specified"),
                    ("/v1/sys/leases/lookup", "{}", "lease_id must be specified"),
                    ("/v1/sys/leases/renew", "{not json", "failed to parse JSON input: invalid JSON"),
                    ("/v1/sys/leases/revoke", "[1]", "failed to parse JSON input: json: cannot "
                     "unmarshal array into Go value of type map[string]interface {}"),
                    ("/v1/sys/leases/renew", json.dumps({"lease_id": held_id, "increment": -1}),
                     "error converting input -1 for field \"increment\": cannot provide "
                     "negative value '-1'"),
                    ("/v1/sys/leases/renew", "[" * 5000, "failed to parse JSON input: nested too "
                     "deeply"),
                    ("/v1/sys/leases/renew", "\"\\ud800\"", "failed to parse JSON input: invalid "
                     "JSON")):
                with self.subTest(transport=transport, path=path, body=raw[:20]):
                    status, _, body = w.call(path, raw_body=raw)
                    self.assertEqual(status, 400, body)
                    self.assertEqual(body, {"errors": [message]})
            for method in ("GET", "DELETE", "LIST"):
                status, headers, _ = w.call("/v1/sys/leases/lookup", method=method)
                self.assertEqual(status, 405)
                self.assertEqual(headers.get("allow"), "POST, PUT")
            # Lease paths the sidecar does not answer stay outside the allow list.
            status, _, _ = w.call("/v1/sys/leases/revoke-prefix/database/creds", {})
            self.assertEqual(status, 403)

        # Once a caller is handed the lease, it is the caller's to ask about.
        _, _, status, creds = self.watcher("unix").read_creds()
        self.assertEqual(status, 200, creds)
        self.assertEqual(creds["lease_id"], held_id)
        for transport in ("tcp", "unix"):
            self.assertEqual(self.watcher(transport).renew(held_id)[0], 200)
            self.assertEqual(self.watcher(transport).lookup(held_id)[2]["data"]["id"], held_id)
        self.assertEqual(self.vault.count("GET", DB_CREDS), 1)
        self.assert_never_forwarded()
        self.assert_lease_id_never_logged(held_id)
        self.assertTrue(self.sidecar.process.proc.poll() is None)  # bad input crashed nothing


class RunDownTest(LeaseHousekeepingBase):
    def test_a_10s_lease_runs_down_to_0_and_a_re_read_gets_the_rotated_creds(self):
        self.start(db_ttl=10, sections={"database": {"strategy": "rotate", "renew_at": "0.8"}})
        w = self.watcher("tcp")
        before, after, status, creds = w.read_creds()
        self.assertEqual(status, 200, creds)
        lease_id = creds["lease_id"]
        # The Go client's LifetimeWatcher renews with the lease's duration as the increment.
        samples = []
        deadline = before + 13
        while time.monotonic() < deadline:
            asked_at = time.monotonic()
            status, _, body = w.renew(lease_id, creds["lease_duration"])
            samples.append((asked_at, time.monotonic(), status, body))
            if status != 200:
                break
            time.sleep(0.2)
        ok = [s for s in samples if s[2] == 200]
        durations = [s[3]["lease_duration"] for s in ok]
        self.assertEqual(durations, sorted(durations, reverse=True), durations)
        self.assertEqual(durations[-1], 0, durations)  # seen to fall to 0
        self.assertGreaterEqual(len(set(durations)), 8, durations)
        for asked_at, answered_at, _, body in ok:
            self.assertFalse(body["renewable"])
            # Never more than is left of the grant that started before `after`.
            self.assertLessEqual(body["lease_duration"], int(after + 10 - asked_at))
            self.assertGreaterEqual(body["lease_duration"], int(before + 10 - answered_at) - 1)
            if creds["lease_duration"] > body["lease_duration"]:  # asked more than is left
                self.assertTrue(CAPPED.match(body["warnings"][0]), body)
            else:
                self.assertIsNone(body["warnings"], body)
        # Then it is gone: the lease ran out at Vault and at the sidecar.
        last = samples[-1]
        self.assertEqual((last[2], last[3]), (400, NOT_FOUND))
        self.assertGreaterEqual(last[1], before + 10)
        status, _ = lookup_lease(self.vault, self.root, lease_id)
        self.assertNotEqual(status, 200)

        # A re-read gets the creds the sidecar rotated to at 8 s, and their lease is the caller's.
        _, _, status, rotated = w.read_creds()
        self.assertEqual(status, 200, rotated)
        self.assertNotEqual(rotated["lease_id"], lease_id)
        self.assertNotEqual(rotated["data"]["username"], creds["data"]["username"])
        self.assertGreaterEqual(rotated["lease_duration"], 4)
        self.assertLessEqual(rotated["lease_duration"], 9)
        status, _, body = w.renew(rotated["lease_id"], 10)
        self.assertEqual(status, 200, body)
        self.assertLessEqual(body["lease_duration"], rotated["lease_duration"])
        self.assertEqual(self.vault.count("GET", DB_CREDS), 2)
        self.assert_never_forwarded()
        self.assert_lease_id_never_logged(lease_id, rotated["lease_id"])


class ClientScopeTest(LeaseHousekeepingBase):
    """With [client.*] sections a caller touches only leases of paths its allow list covers;
    for the others it gets the same 400 as for an unknown lease."""

    def curl_as(self, user, path, body, transport):
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "curl",
                   "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "10", "-X", "PUT",
                   "--data", json.dumps(body)]
        if transport == "unix":
            command += ["--unix-socket", self.socket_path, f"http://localhost{path}"]
        else:
            command += [f"http://127.0.0.1:{self.sidecar.port}{path}"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
        text, _, code = done.stdout.rpartition("\n")
        return int(code or 0), (json.loads(text) if text else None)

    def test_a_client_outside_the_leases_path_is_told_lease_not_found(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to run curl as other users")
        self.start(db_ttl=60, sections={
            "client.ops": {"users": "root", "allow": "/v1/kv-demo/*, /v1/database/creds/*"},
            "client.web": {"users": "nobody", "allow": "/v1/kv-demo/*"},
        })
        _, _, status, creds = self.watcher("unix").read_creds()
        self.assertEqual(status, 200, creds)
        lease_id = creds["lease_id"]
        nobody = 65534
        for transport in ("tcp", "unix"):
            for path, body in (("/v1/sys/leases/renew", {"lease_id": lease_id}),
                               ("/v1/sys/leases/lookup", {"lease_id": lease_id}),
                               ("/v1/sys/leases/revoke", {"lease_id": lease_id}),
                               ("/v1/sys/renew/" + lease_id, {})):
                with self.subTest(transport=transport, path=path):
                    self.assertEqual(self.curl_as(nobody, path, body, transport),
                                     (400, NOT_FOUND))
                    # The owner's client covers the path.
                    status, answer = self.curl_as(0, path, body, transport)
                    self.assertIn(status, (200, 204), answer)
            # A caller matching no client is refused as everywhere.
            status, _ = self.curl_as(4242, "/v1/sys/leases/lookup", {"lease_id": lease_id},
                                     transport)
            self.assertEqual(status, 403)
        self.assert_never_forwarded()
        self.assert_lease_id_never_logged(lease_id)
