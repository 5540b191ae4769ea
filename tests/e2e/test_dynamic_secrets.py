"""Issue 6 end to end: database creds from the lease store, with the real binaries.

The double mints 10 s leases (max TTL 30 s) unless a test says otherwise, so rotation (renew_at
0.8) falls 8 s after the first fetch. Times are taken with time.monotonic() around each request:
the sidecar's own instants lie between a request's `before` and `after`, which gives exact bounds
without assuming how fast a loaded, sanitized build answers.
"""
import json
import math
import os
import signal
import subprocess
import threading
import time
import unittest

from harness import (DB_CREDS, CleanExitTestCase, default_seed, fetch_creds, live_leases,
                     lookup_lease, request, root_token, vault_call, wait_until)

TTL = 10
MAX_TTL = 30


def poll_creds(sidecar, until, interval=0.2, actions=(), stop=None, path=DB_CREDS):
    """Samples the creds every `interval` until the monotonic instant `until`, running each
    `(at, fn)` action once when its instant has come; ends early when `stop(sample)` is true."""
    pending = sorted(actions, key=lambda action: action[0])
    samples = []
    while time.monotonic() < until:
        while pending and time.monotonic() >= pending[0][0]:
            pending.pop(0)[1]()
        sample = fetch_creds(sidecar, path)
        samples.append(sample)
        if stop and stop(sample):
            break
        time.sleep(interval)
    for _, action in pending:  # an action scheduled after an early stop still happens
        action()
    return samples


def first_change(samples, username):
    return next((s for s in samples if s.ok and s.username != username), None)


def lease_health(sidecar, path="database/creds/myapp-role"):
    status, body = sidecar.health()
    entry = next((lease for lease in body["leases"] if lease["path"] == path), None) if body else None
    return status, body, entry


class RotateTest(CleanExitTestCase):
    def test_rotates_at_four_fifths_while_the_old_lease_still_lives(self):
        vault = self.start_double(default_seed(db_ttl=TTL, db_max_ttl=MAX_TTL))
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"database": {"renew_at": "0.8"}})
        root = root_token(vault)
        first = fetch_creds(sidecar)
        self.assertEqual(first.status, 200, first.body)
        self.assertEqual(first.cache, "MISS")
        self.assertLessEqual(first.lease_duration, TTL)
        second = fetch_creds(sidecar)
        self.assertEqual(second.cache, "HIT")
        self.assertEqual(second.username, first.username)
        self.assertEqual(second.lease_id, first.lease_id)

        # The sidecar's grant started between first.before and first.after.
        t0, t0r = first.before, first.after
        samples = poll_creds(sidecar, t0 + 14, stop=lambda s: s.ok and s.username != first.username)
        changed = first_change(samples, first.username)
        self.assertIsNotNone(changed, sidecar.log()[-3000:])
        # Asked at once: the old lease was still alive when the new one was minted.
        status, old = lookup_lease(vault, root, first.lease_id)
        live = live_leases(vault)
        # The double ends expired leases before answering anything: a 200 means alive.
        self.assertEqual(status, 200, old)
        self.assertEqual(live, 2)

        self.assertEqual([s.status for s in samples], [200] * len(samples))
        self.assertGreaterEqual(changed.after - t0, 7.5)
        self.assertLessEqual(changed.before - t0, 9.5)
        self.assertNotEqual(changed.lease_id, first.lease_id)
        self.assertNotEqual(changed.password, first.password)
        self.assertEqual(changed.cache, "HIT")  # rotated in the background, not on request
        self.assertLessEqual(changed.lease_duration, TTL)
        self.assertGreaterEqual(changed.lease_duration, TTL - 3)

        # lease_duration is the whole seconds left: bounded by the grant's start on both sides,
        # never rising, never above the lease.
        old_samples = [first, second] + [s for s in samples if s.username == first.username]
        durations = [s.lease_duration for s in old_samples]
        for s in old_samples:
            self.assertLessEqual(s.lease_duration, math.floor(t0r + TTL - s.before))
            self.assertGreaterEqual(s.lease_duration, math.floor(t0 + TTL - s.after))
        self.assertEqual(durations, sorted(durations, reverse=True))
        self.assertGreaterEqual(len(set(durations)), 5, durations)

        status, _, entry = lease_health(sidecar)
        self.assertEqual(status, 200)
        self.assertEqual(entry["rotations"], 1)
        self.assertEqual(entry["state"], "ok")
        self.assertEqual(vault.count("GET", DB_CREDS), 2)
        self.assertEqual(vault.count("PUT", "/v1/sys/leases/renew"), 0)


class RenewStrategyTest(CleanExitTestCase):
    def test_renews_every_8s_until_max_ttl_then_rotates_before_the_lease_ends(self):
        vault = self.start_double(default_seed(db_ttl=TTL, db_max_ttl=MAX_TTL))
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"database": {"strategy": "renew"}})
        root = root_token(vault)
        first = fetch_creds(sidecar)
        self.assertEqual(first.status, 200, first.body)
        t0 = first.before

        # Renewals at ~8 s, ~16 s, ~24 s (Vault grants only the 6 s left to the max TTL), then
        # new creds at ~24 + 0.8 * 6 = 28.8 s, before the old lease ends at 30 s.
        renewals, seen, samples = [], 0, []
        deadline = t0 + MAX_TTL + 4
        changed = None
        while time.monotonic() < deadline and changed is None:
            count = vault.count("PUT", "/v1/sys/leases/renew")
            now = time.monotonic()
            renewals.extend([now] * (count - seen))
            seen = count
            sample = fetch_creds(sidecar)
            samples.append(sample)
            if sample.ok and sample.username != first.username:
                changed = sample
            time.sleep(0.2)
        self.assertIsNotNone(changed, sidecar.log()[-3000:])
        status, old = lookup_lease(vault, root, first.lease_id)
        # The double ends expired leases before answering anything, so a 200 means the old
        # lease was still alive: rotated before it ended (its ttl, in whole seconds, is 0 or 1).
        self.assertEqual(status, 200, old)

        self.assertEqual(len(renewals), 3, renewals)
        previous = t0
        for at in renewals:
            self.assertAlmostEqual(at - previous, 8.0, delta=1.5)
            previous = at
        self.assertEqual([s.status for s in samples], [200] * len(samples))
        before_change = [s for s in samples if s is not changed]
        self.assertEqual({s.username for s in before_change}, {first.username})
        self.assertEqual({s.lease_id for s in before_change}, {first.lease_id})
        # Served past the first lease's 10 s: only a renewal makes that possible.
        self.assertTrue(any(s.before > first.after + TTL + 1 for s in before_change))
        self.assertGreater(changed.before - t0, 24)
        self.assertLess(changed.after - t0, MAX_TTL + 1)
        self.assertEqual(vault.count("GET", DB_CREDS), 2)

        _, _, entry = lease_health(sidecar)
        self.assertEqual(entry["renewals"], 3)
        self.assertEqual(entry["rotations"], 1)


class VaultDownDuringRotationTest(CleanExitTestCase):
    def test_failed_rotation_is_retried_and_recovers_before_expiry(self):
        vault = self.start_double(default_seed(db_ttl=TTL, db_max_ttl=MAX_TTL))
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        root = root_token(vault)
        first = fetch_creds(sidecar)
        self.assertEqual(first.status, 200, first.body)
        t0 = first.before
        # Down from 7 s: the rotation at 8 s fails. Up at 8.4 s: the first retry (1 s backoff,
        # jitter 25 %, so no sooner than 8.75 s) finds Vault back, well before expiry at 10 s.
        samples = poll_creds(sidecar, t0 + 11.5,
                             actions=[(t0 + 7.0, lambda: vault.control("down")),
                                      (t0 + 8.4, lambda: vault.control("up"))])
        changed = first_change(samples, first.username)
        self.assertIsNotNone(changed, sidecar.log()[-3000:])
        self.assertEqual([s.status for s in samples], [200] * len(samples))
        self.assertLess(changed.before - t0, TTL)
        status, old = lookup_lease(vault, root, first.lease_id)
        self.assertIn(status, (200, 400))  # the old one may have ended by now; either is fine
        status, new = lookup_lease(vault, root, changed.lease_id)
        self.assertEqual(status, 200, new)

        status, health, entry = lease_health(sidecar)
        self.assertEqual(status, 200)
        self.assertGreaterEqual(entry["failures"], 1, "the rotation at 8 s should have failed")
        self.assertEqual(entry["rotations"], 1)
        self.assertEqual(entry["state"], "ok")
        self.assertEqual(health["status"], "ok")

    def test_vault_down_past_the_lease_end_gives_503_then_recovers(self):
        vault = self.start_double(default_seed(db_ttl=TTL, db_max_ttl=MAX_TTL))
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        first = fetch_creds(sidecar)
        self.assertEqual(first.status, 200, first.body)
        t0, t0r = first.before, first.after
        samples = poll_creds(sidecar, t0 + 11.0, actions=[(t0 + 7.0, lambda: vault.control("down"))])
        # Served until the lease's end, never after it.
        for s in samples:
            if s.after < t0 + TTL:
                self.assertEqual(s.status, 200, s.body)
                self.assertEqual(s.username, first.username)
            elif s.before > t0r + TTL:
                self.assertEqual(s.status, 503, s.body)
        expired = fetch_creds(sidecar)
        self.assertEqual(expired.status, 503, expired.body)
        errors = expired.json["errors"]
        self.assertIsInstance(errors, list)
        self.assertTrue(errors and all(isinstance(e, str) and e for e in errors), errors)
        self.assertNotIn(first.password, expired.body.decode())
        status, health, entry = lease_health(sidecar)
        self.assertEqual(status, 200)  # degraded still serves what it can
        self.assertEqual(health["status"], "degraded")
        self.assertEqual(entry["state"], "expired")
        self.assertEqual(entry["seconds_left"], 0)
        self.assertGreaterEqual(entry["failures"], 2)

        # Back up: the next retry (backoff capped at 30 s) brings new creds.
        vault.control("up")
        recovered = wait_until(lambda: (lambda s: s if s.ok else None)(fetch_creds(sidecar)), 35,
                               interval=0.25, what="new creds after Vault came back")
        self.assertNotEqual(recovered.username, first.username)
        self.assertGreaterEqual(recovered.lease_duration, 1)
        wait_until(lambda: lease_health(sidecar)[2]["state"] == "ok", 5, what="lease state ok")
        self.assertEqual(sidecar.health()[1]["status"], "ok")


class ConcurrentFirstRequestTest(CleanExitTestCase):
    def test_200_concurrent_first_requests_make_one_upstream_call(self):
        vault = self.start_double(default_seed(db_ttl=60, db_max_ttl=300))
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"vault": {"request_timeout": "20s"}})
        # Vault answers slowly, so the requests pile up behind the one fetch in flight.
        vault.control("delay", {"prefix": DB_CREDS, "ms": 3000})
        readers = 200
        barrier = threading.Barrier(readers)
        results = [None] * readers

        def read(index):
            try:
                barrier.wait(timeout=60)
                results[index] = request(sidecar.port, DB_CREDS, timeout=60)
            except Exception as error:  # reported below, with the others
                results[index] = error

        threads = [threading.Thread(target=read, args=(i,)) for i in range(readers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        errors = [r for r in results if not isinstance(r, tuple)]
        self.assertEqual(errors, [])
        self.assertEqual({r[0] for r in results}, {200})
        parsed = [json.loads(body) for _, _, body in results]
        self.assertEqual(len({p["data"]["username"] for p in parsed}), 1)
        self.assertEqual(len({p["lease_id"] for p in parsed}), 1)
        self.assertEqual(vault.count("GET", DB_CREDS), 1)
        states = [r[1]["x-cache"] for r in results]
        self.assertEqual(states.count("MISS") + states.count("HIT"), readers)
        self.assertGreater(states.count("MISS"), 1)  # several waited on the shared fetch


class RevokeOnShutdownTest(CleanExitTestCase):
    def seed(self, ttl):
        seed = default_seed(db_ttl=ttl, db_max_ttl=300)
        seed["database_roles"].append({"name": "other-role", "default_ttl": 60, "max_ttl": 300,
                                       "renewable": True})
        return seed

    def test_sigterm_revokes_exactly_the_held_leases(self):
        # 15 s leases: the rotation at 12 s leaves the old lease 3 s to live, so the sidecar
        # holds three leases (current, retired, other-role) when it is stopped.
        vault = self.start_double(self.seed(15))
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}",
                                     sections={"database": {"revoke_on_shutdown": "true"}})
        root = root_token(vault)
        status, outsider = vault_call(vault, DB_CREDS, root)  # not the sidecar's
        self.assertEqual(status, 200)
        first = fetch_creds(sidecar)
        other = fetch_creds(sidecar, "/v1/database/creds/other-role")
        self.assertEqual((first.status, other.status), (200, 200))
        samples = poll_creds(sidecar, first.before + 16,
                             stop=lambda s: s.ok and s.username != first.username)
        changed = first_change(samples, first.username)
        self.assertIsNotNone(changed, sidecar.log()[-3000:])
        held = [first.lease_id, changed.lease_id, other.lease_id]
        self.assertEqual(live_leases(vault), 4)

        sidecar.process.signal(signal.SIGTERM)
        wait_until(lambda: live_leases(vault) == 1, 10, interval=0.05, what="the revocations")
        # The retired lease ends by itself at 15 s at the earliest: gone before, it was revoked.
        self.assertLess(time.monotonic() - first.before, 15, "revoked too late to tell")
        self.assertEqual(sidecar.wait_exit(20), 0, sidecar.log()[-3000:])
        self.assertEqual(vault.count("PUT", "/v1/sys/leases/revoke"), 3)
        for lease_id in held:
            status, body = lookup_lease(vault, root, lease_id)
            self.assertEqual(status, 400, (lease_id, body))
        status, body = lookup_lease(vault, root, outsider["lease_id"])
        self.assertEqual(status, 200, body)
        self.assertEqual(live_leases(vault), 1)
        self.assertNotIn(first.password, sidecar.log())

    def test_without_revoke_on_shutdown_nothing_is_revoked(self):
        vault = self.start_double(self.seed(60))
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        root = root_token(vault)
        first = fetch_creds(sidecar)
        other = fetch_creds(sidecar, "/v1/database/creds/other-role")
        self.assertEqual((first.status, other.status), (200, 200))
        self.assertEqual(live_leases(vault), 2)
        sidecar.process.signal(signal.SIGTERM)
        self.assertEqual(sidecar.wait_exit(20), 0, sidecar.log()[-3000:])
        self.assertEqual(vault.count("PUT", "/v1/sys/leases/revoke"), 0)
        self.assertEqual(vault.count("POST", "/v1/auth/token/revoke-self"), 0)
        for lease_id in (first.lease_id, other.lease_id):
            status, body = lookup_lease(vault, root, lease_id)
            self.assertEqual(status, 200, (lease_id, body))
        self.assertEqual(live_leases(vault), 2)


class StartupPrefetchTest(CleanExitTestCase):
    def test_secrets_creds_are_fetched_before_health_reports_ready(self):
        vault = self.start_double(default_seed(db_ttl=60, db_max_ttl=300))
        # A slow answer keeps the start-up fetch in flight long enough to watch health meanwhile.
        vault.control("delay", {"prefix": DB_CREDS, "ms": 2000})
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}", wait_ready=False,
                                     sections={"vault": {"request_timeout": "10s"},
                                               "secrets": {"db": "database/creds/myapp-role"}})
        health_codes = []

        def ready():
            if sidecar.process.proc.poll() is not None:
                raise AssertionError("sidecar exited:\n" + sidecar.log())
            status = sidecar.health()[0]
            health_codes.append(status)
            return status == 200
        wait_until(ready, 30, interval=0.05, what="health 200")
        creds_gets = [r for r in vault.requests()
                      if r["method"] == "GET" and r["path"] == DB_CREDS and r["status"] == 200]
        self.assertEqual(len(creds_gets), 1, "the creds were not fetched before health 200")
        self.assertIn(503, health_codes)  # not ready while the fetch was in flight
        answer = fetch_creds(sidecar)
        self.assertEqual(answer.status, 200)
        self.assertEqual(answer.cache, "HIT")
        self.assertEqual(vault.count("GET", DB_CREDS), 1)


# A shell client, as an application's start script would be: creds from the sidecar with curl and
# jq, then a psql session with them. Prints the username, then psql's output.
PSQL_CLIENT = r"""
set -euo pipefail
creds=$(curl -sf "http://127.0.0.1:$SIDECAR_PORT/v1/database/creds/myapp-role")
user=$(jq -r .data.username <<<"$creds")
export PGPASSWORD=$(jq -r .data.password <<<"$creds")
echo "$user"
psql -X -A -t -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$user" -d postgres \
  -c 'select 1'
"""


def conninfo_fields(conninfo):
    return dict(part.split("=", 1) for part in conninfo.split())


class PostgresTest(CleanExitTestCase):
    def setUp(self):
        # Before the base class makes a temp dir: tearDown does not run after a skip in setUp.
        self.conninfo = os.environ.get("SIDECAR_TEST_POSTGRES", "")
        if not self.conninfo:
            self.skipTest("SIDECAR_TEST_POSTGRES is not set (scripts/postgres.sh start DIR)")
        super().setUp()
        fields = conninfo_fields(self.conninfo)
        self.pg_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                       "PGHOST": fields.get("host", "127.0.0.1"),
                       "PGPORT": fields.get("port", "5432"), "PGCONNECT_TIMEOUT": "5"}
        self.sessions = []

    def tearDown(self):
        for session in self.sessions:
            if session.poll() is None:
                session.kill()
            session.wait()
            for stream in (session.stdin, session.stdout):
                stream.close()
        super().tearDown()

    def client(self, sidecar):
        """Runs PSQL_CLIENT: (exit code, username, psql's output)."""
        done = subprocess.run(["bash", "-c", PSQL_CLIENT], capture_output=True, text=True,
                              timeout=30, env={**self.pg_env, "SIDECAR_PORT": str(sidecar.port)})
        lines = done.stdout.splitlines()
        return done.returncode, (lines[0] if lines else ""), "\n".join(lines[1:]) + done.stderr

    def open_session(self, username, password):
        session = subprocess.Popen(
            ["psql", "-X", "-A", "-t", "-q", "-h", self.pg_env["PGHOST"], "-p",
             self.pg_env["PGPORT"], "-U", username, "-d", "postgres"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**self.pg_env, "PGPASSWORD": password})
        self.sessions.append(session)
        return session

    def query(self, session, sql="select current_user"):
        session.stdin.write(sql + ";\n")
        session.stdin.flush()
        return session.stdout.readline().strip()

    def psql_login(self, username, password):
        done = subprocess.run(
            ["psql", "-X", "-A", "-t", "-h", self.pg_env["PGHOST"], "-p", self.pg_env["PGPORT"],
             "-U", username, "-d", "postgres", "-c", "select 1"],
            capture_output=True, text=True, timeout=30, env={**self.pg_env, "PGPASSWORD": password})
        return done.returncode, done.stdout + done.stderr

    def test_old_session_keeps_running_while_new_creds_open_new_sessions(self):
        vault = self.start_double(default_seed(db_ttl=TTL, db_max_ttl=MAX_TTL),
                                  extra_args=("--postgres", self.conninfo))
        sidecar = self.start_sidecar(f"http://127.0.0.1:{vault.port}")
        first = fetch_creds(sidecar)
        self.assertEqual(first.status, 200, first.body)
        t0 = first.before
        code, user, output = self.client(sidecar)
        self.assertEqual((code, user, output.strip()), (0, first.username, "1"), output)

        # A long-lived session with the first creds, like a connection pool's.
        session = self.open_session(first.username, first.password)
        self.assertEqual(self.query(session), first.username)

        samples = poll_creds(sidecar, t0 + 14, stop=lambda s: s.ok and s.username != first.username)
        changed = first_change(samples, first.username)
        self.assertIsNotNone(changed, sidecar.log()[-3000:])
        self.assertLess(changed.after - t0, TTL, "rotated too late to test the overlap")
        code, user, output = self.client(sidecar)
        self.assertEqual((code, user, output.strip()), (0, changed.username, "1"), output)
        # The old creds still work until their lease ends: the open session and a new login.
        self.assertEqual(self.query(session), first.username)
        if time.monotonic() < t0 + TTL - 0.5:
            code, output = self.psql_login(first.username, first.password)
            self.assertEqual((code, output.strip()), (0, "1"), output)

        # After the old lease's end: the open session still runs queries, but its role can no
        # longer log in (VALID UNTIL passed, and the double drops it once the lease expires).
        time.sleep(max(0.0, t0 + TTL + 1.5 - time.monotonic()))
        self.assertEqual(self.query(session, "select 1"), "1")
        code, output = self.psql_login(first.username, first.password)
        self.assertNotEqual(code, 0, output)
        code, user, output = self.client(sidecar)
        self.assertEqual((code, user, output.strip()), (0, changed.username, "1"), output)
        self.assertIsNone(session.poll())


if __name__ == "__main__":
    unittest.main()
