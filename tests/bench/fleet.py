#!/usr/bin/env python3
"""What Vault sees from a fleet of vault-sidecars (README "What Vault sees from a fleet").

Starts N sidecars against one vault-dev-double, each with a few [secrets] warmed at start and a
reader that keeps every secret hot, and measures at the double (its request log, `at_ms`):
  - the peak in any 100 ms window while all N start and warm together, and the logins (N);
  - steady-state KV reads per second (expected: sidecars x secrets / refresh_interval);
  - attempts during an outage (the double is down, so they are counted by the sidecars'
    upstream_errors_total) and reads in the first seconds after it;
  - reads during a rate-limit quota window (429 + Retry-After), while every local read is 200;
  - the PSS of each sidecar.
Prints a markdown table (and writes it to --out); with --check, exits 1 when a loose bound fails.
"""
import argparse
import json
import os
import re
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import harness  # noqa: E402  (the e2e harness: Double, Sidecar, request)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sidecar", required=True)
    p.add_argument("--double", required=True)
    p.add_argument("--sidecars", type=int, default=50)
    p.add_argument("--secrets", type=int, default=3)
    p.add_argument("--refresh", type=float, default=10.0, help="cache.refresh_interval, s")
    p.add_argument("--steady", type=float, default=20.0, help="steady-state measure, s")
    p.add_argument("--outage", type=float, default=30.0, help="Vault down, s")
    p.add_argument("--after", type=float, default=5.0, help="measured after the outage, s")
    p.add_argument("--quota", type=float, default=6.0, help="429 + Retry-After window, s")
    p.add_argument("--out", default=None)
    p.add_argument("--check", action="store_true", help="exit 1 when a loose bound fails")
    return p.parse_args()


def kv_paths(count):
    return [f"kv-demo/data/fleet-{i}" for i in range(count)]


def seed(count):
    s = harness.default_seed(token_ttl=3600)
    for i in range(count):
        s["kv_mounts"]["kv-demo"]["secrets"][f"fleet-{i}"] = {"value": f"v{i}"}
    return s


def marker(vault):
    """The double's clock now (ms since it started), from a request it logs."""
    harness.request(vault.port, "/v1/sys/health")
    return vault.requests()[-1]["at_ms"]


def vault_up(vault):
    try:
        return harness.request(vault.port, "/v1/sys/health", timeout=2)[0] == 200
    except OSError:
        return False


def kv_times(records, start_ms=None, end_ms=None, status=None):
    return [r["at_ms"] for r in records
            if r["method"] == "GET" and r["path"].startswith("/v1/kv-demo/")
            and (start_ms is None or r["at_ms"] >= start_ms)
            and (end_ms is None or r["at_ms"] < end_ms)
            and (status is None or r["status"] == status)]


def peak(times, window_ms):
    times = sorted(times)
    most, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= window_ms:
            first += 1
        most = max(most, last - first + 1)
    return most


def pss_kib(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def upstream_errors(sidecar):
    _, _, body = sidecar.get("/sidecar/v1/metrics", timeout=5)
    return sum(float(m.group(1)) for m in
               re.finditer(r"^vault_sidecar_upstream_errors_total\{[^}]*\} (\S+)$", body.decode(), re.M))


class Readers:
    """Keeps every secret of every sidecar read (so each refresh is due) and checks each answer."""

    def __init__(self, fleet, paths, pause):
        self.fleet, self.paths, self.pause = fleet, paths, pause
        self.stop = threading.Event()
        self.reads = 0
        self.failures = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            for sidecar in self.fleet:
                for path in self.paths:
                    try:
                        status, _, body = sidecar.get("/v1/" + path, timeout=10)
                    except OSError as e:
                        status, body = 0, str(e).encode()
                    self.reads += 1
                    if status != 200 and len(self.failures) < 20:
                        self.failures.append((status, body[:200]))
            self.stop.wait(self.pause)

    def finish(self):
        self.stop.set()
        self.thread.join()


def main():
    args = parse_args()
    harness.SIDECAR_BIN, harness.DOUBLE_BIN = args.sidecar, args.double
    paths = kv_paths(args.secrets)
    workdir = tempfile.mkdtemp(prefix="sidecar-fleet-")
    processes = []
    rows = []
    checks = []

    def check(name, ok, detail):
        checks.append((name, ok, detail))

    try:
        vdir = os.path.join(workdir, "vault")
        os.makedirs(vdir)
        vault = harness.Double(vdir, seed(args.secrets))
        processes.append(vault)
        address = f"http://127.0.0.1:{vault.port}"
        sections = {
            "vault": {"request_timeout": "2s", "max_retries": "2"},
            "cache": {"ttl": f"{int(2000 * args.refresh)}ms",
                      "refresh_interval": f"{int(1000 * args.refresh)}ms",
                      "max_stale": "10m"},
            "secrets": {f"s{i}": path for i, path in enumerate(paths)},
            "log": {"level": "warn"},
        }

        # 1. All start and warm together.
        start_ms = marker(vault)
        fleet = []
        for i in range(args.sidecars):
            sdir = os.path.join(workdir, f"sidecar{i}")
            os.makedirs(sdir)
            fleet.append(harness.Sidecar(sdir, address, sections, wait_ready=False))
            processes.append(fleet[-1])
        for sidecar in fleet:
            sidecar.wait_ready(timeout=120)
        records = vault.requests()
        warm = [r["at_ms"] for r in records if r["at_ms"] >= start_ms and
                (r["path"].startswith("/v1/kv-demo/") or r["path"].startswith("/v1/auth/"))]
        logins = sum(1 for r in records if r["method"] == "POST"
                     and r["path"] == "/v1/auth/approle/login")
        rows.append(("login requests until all are ready", f"{logins}",
                     f"{args.sidecars} sidecars; more only if a first attempt is retried at start"))
        rows.append(("peak requests in any 100 ms while all start and warm",
                     f"{peak(warm, 100)}", f"{len(warm)} in all (logins, token calls and first reads)"))
        # A login retried at start (an attempt past request_timeout while N start at once) is
        # allowed a little; a login after start-up never is (checked at the end).
        check("about one login per sidecar at start",
              args.sidecars <= logins <= args.sidecars + max(1, args.sidecars // 10), f"{logins}")

        readers = Readers(fleet, paths, pause=min(1.0, args.refresh / 4))

        # 2. Steady state: after one interval to settle, reads per second at the double.
        time.sleep(args.refresh)
        steady_from = marker(vault)
        time.sleep(args.steady)
        steady_to = marker(vault)
        steady = kv_times(vault.requests(), steady_from, steady_to)
        per_second = len(steady) / ((steady_to - steady_from) / 1000)
        expected = args.sidecars * args.secrets / args.refresh
        steady_peak = peak(steady, 100)
        rows.append(("steady-state KV reads per second", f"{per_second:.1f}",
                     f"expected {expected:.1f} (sidecars x secrets / refresh_interval); "
                     f"peak {steady_peak} in any 100 ms"))
        check("steady reads/s within 1.5x expected", per_second <= 1.5 * expected + 1,
              f"{per_second:.1f} vs {expected:.1f}")

        # 3. An outage: attempts during it, reads in the first seconds after it.
        errors_before = sum(upstream_errors(s) for s in fleet)
        vault.control("down", {"seconds": args.outage})
        time.sleep(args.outage)
        harness.wait_until(lambda: vault_up(vault), 10, what="the double back up")
        back_ms = vault.requests()[-1]["at_ms"]
        errors_during = sum(upstream_errors(s) for s in fleet) - errors_before
        time.sleep(args.after)
        after = kv_times(vault.requests(), back_ms, back_ms + args.after * 1000)
        rows.append((f"attempts during a {args.outage:g} s outage (whole fleet)",
                     f"{errors_during:.0f}", "refused connections, counted by the sidecars"))
        after_peak = peak(after, 100)
        rows.append((f"KV reads in the first {args.after:g} s after it", f"{len(after)}",
                     f"peak {after_peak} in any 100 ms (steady state: {steady_peak}); "
                     f"{args.sidecars * args.secrets} entries to bring back, each at its own "
                     f"refresh phase"))
        # Recovery is left to each entry's background refresh (cache::recovery_at), so the reads
        # after the outage are spread as the steady ones are; readers asking would bunch them.
        check("recovery reads spread like the steady refreshes",
              after_peak <= 2 * steady_peak + 4, f"peak {after_peak} vs steady {steady_peak}")
        check("local reads answered 200 through the outage", not readers.failures,
              f"{readers.failures[:3]}")

        # 4. A rate-limit quota: 429 + Retry-After for a window.
        quota_from = marker(vault)
        vault.control("fail-window", {
            "prefix": "/v1/kv-demo/", "seconds": args.quota, "status": 429,
            "message": 'request path "kv-demo/data/fleet-0": rate limit quota exceeded',
            "headers": {"Retry-After": f"{int(args.quota)}"}})
        time.sleep(args.quota + 0.5)
        limited = [r for r in vault.requests() if r["at_ms"] >= quota_from and r["status"] == 429]
        per_sidecar_path = {}
        for r in limited:
            per_sidecar_path[(r["token"], r["path"])] = per_sidecar_path.get(
                (r["token"], r["path"]), 0) + 1
        worst = max(per_sidecar_path.values(), default=0)
        rows.append((f"KV reads during {args.quota:g} s of 429 + Retry-After: {int(args.quota)}",
                     f"{len(limited)}",
                     f"at most {worst} per path per sidecar; every local read 200"))
        check("at most 2 reads per path per sidecar in the quota window", worst <= 2, f"{worst}")

        readers.finish()
        check("every local read 200", not readers.failures, f"{readers.failures[:3]}")

        later = sum(1 for r in vault.requests() if r["method"] == "POST"
                    and r["path"] == "/v1/auth/approle/login") - logins
        rows.append(("logins after start-up", f"{later}", "never a second login (the brief)"))
        check("no login after start-up", later == 0, f"{later}")

        # 5. Memory.
        pss = [pss_kib(s.process.proc.pid) for s in fleet]
        rows.append(("PSS per sidecar", f"{sum(pss) / len(pss) / 1024:.1f} MiB",
                     f"max {max(pss) / 1024:.1f} MiB ({os.path.basename(args.sidecar)} from "
                     f"{os.path.dirname(os.path.dirname(os.path.abspath(args.sidecar)))})"))
        rows.append(("local reads served", f"{readers.reads}", "by the readers, all checked"))
    finally:
        for process in reversed(processes):
            process.stop()

    table = [f"| {args.sidecars} sidecars x {args.secrets} secrets, refresh_interval "
             f"{args.refresh:g} s | measured | notes |", "|---|---|---|"]
    table += [f"| {name} | {value} | {note} |" for name, value, note in rows]
    text = "\n".join(table) + "\n"
    print(text)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text)
    failed = [c for c in checks if not c[1]]
    for name, ok, detail in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    if args.check and failed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
