"""Issue 10 item 3 end to end: load and abuse of the local listener.

5,000 idle keep-alive connections held at once, 200 clients trickling header bytes, and a
SIGTERM while requests are in flight; after each the sidecar's descriptors and memory come back
to where they were. The fixed limits used here are proxy::listener_limits's defaults
(include/sidecar/proxy/listener_limits.hpp); the connection bound is `listener.max_connections`.
"""
import json
import os
import re
import resource
import select
import signal
import socket
import time
import unittest

from harness import CleanExitTestCase, default_seed, request, wait_until

KV_PATH = "/v1/kv-demo/data/sample"
HEADER_TIMEOUT = 10  # listener_limits::header_timeout: accept to end of the header
SHUTDOWN_GRACE = 5   # listener_limits::shutdown_grace
IDLE_CONNECTIONS = 5000

# Figures measured under ASan+UBSan (the asan preset) on the 2-core machine, README "Load and
# abuse": 5,000 held connections grow VmRSS by about 100 MiB (20 KiB each, ASan's redzones
# included); the bound leaves room for a loaded machine, not for a leak.
HELD_RSS_GROWTH_MIB = 160
# After the connections close, ASan's allocator keeps most freed pages instead of returning
# them to the kernel, so RSS does not fall back to the baseline (measured: 130 MiB before,
# 228 held, 205 after). What a leak would do is grow when the same load comes again; measured
# growth from one round of 5,000 to the next: under 2 MiB. 16 MiB is a leak of 3 KiB per
# connection.
REPEAT_RSS_GROWTH_MIB = 16
ASAN_QUARANTINE = "quarantine_size_mb=16:allocator_release_to_os_interval_ms=200"


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        match = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
    return int(match.group(1)) / 1024


def open_file_limits(pid):
    with open(f"/proc/{pid}/limits") as f:
        match = re.search(r"^Max open files\s+(\d+)\s+(\d+)", f.read(), re.M)
    return int(match.group(1)), int(match.group(2))


def get_bytes(path, close=False):
    connection = b"close" if close else b"keep-alive"
    return (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: " +
            connection + b"\r\n\r\n")


def read_answer(sock):
    """One HTTP answer with a Content-Length body: (status, headers, body). Raises on a reset,
    and AssertionError when the peer closes before the answer is complete."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"closed before the end of the header: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"closed after {len(body)} of {length} body bytes")
        body += chunk
    return status, headers, body


def metric(port, name):
    _, _, body = request(port, "/sidecar/v1/metrics")
    match = re.search(rf"^{name} (\S+)$", body.decode(), re.M)
    return float(match.group(1)) if match else None


class LoadTestCase(CleanExitTestCase):
    """Raises this process's own RLIMIT_NOFILE for the test's sockets, restored afterwards."""

    def raise_own_file_limit(self, needed):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard < needed:
            self.skipTest(f"the hard RLIMIT_NOFILE {hard} is below the {needed} this test needs")
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        return hard

    def start_loaded_sidecar(self, double, **sections):
        sections.setdefault("log", {"level": "info"})
        # Under ASan, freed memory waits in a quarantine of up to 256 MiB before reuse, which
        # would hide any return of memory; a small one keeps RSS meaningful (and still catches
        # a use after a recent free).
        asan = os.environ.get("ASAN_OPTIONS", "")
        env = {"ASAN_OPTIONS": ":".join(filter(None, [asan, ASAN_QUARANTINE]))}
        sidecar = self.start_sidecar(f"http://127.0.0.1:{double.port}", sections=sections,
                                     env=env)
        status, _, _ = sidecar.get(KV_PATH)
        self.assertEqual(status, 200)  # the upstream connection pooled, the cache warm
        return sidecar

    def settled_baseline(self, pid):
        """fd count and RSS once a second passes without either changing."""
        previous = (fd_count(pid), rss_mib(pid))
        for _ in range(20):
            time.sleep(0.5)
            now = (fd_count(pid), rss_mib(pid))
            if now[0] == previous[0] and abs(now[1] - previous[1]) < 0.5:
                return now
            previous = now
        return previous

    def assert_fds_back(self, pid, baseline):
        wait_until(lambda: abs(fd_count(pid) - baseline) <= 3, 30,
                   what=f"fd count back to {baseline} +-3 (now {fd_count(pid)})")


class IdleConnectionsTest(LoadTestCase):
    def hold_connections(self, port, count):
        """`count` keep-alive connections, each having had one KV read answered 200."""
        held = []
        try:
            for start in range(0, count, 250):  # a batch at a time: connect, ask, read
                batch = [socket.create_connection(("127.0.0.1", port), timeout=30)
                         for _ in range(min(250, count - start))]
                held.extend(batch)
                for sock in batch:
                    sock.sendall(get_bytes(KV_PATH))
                for sock in batch:
                    status, headers, _ = read_answer(sock)
                    self.assertEqual((status, headers.get("x-cache")), (200, "HIT"))
        except BaseException:
            for sock in held:
                sock.close()
            raise
        return held

    def test_5000_idle_keep_alive_connections_are_held_and_a_new_client_is_served(self):
        hard = self.raise_own_file_limit(IDLE_CONNECTIONS + 500)
        vault = self.start_double()
        # Started with the common soft limit of 1024: the daemon raises its own to the hard one.
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
        try:
            sidecar = self.start_loaded_sidecar(
                vault, listener={"max_connections": IDLE_CONNECTIONS + 100})
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        pid = sidecar.process.proc.pid
        self.assertEqual(open_file_limits(pid), (hard, hard))
        base_fds, base_rss = self.settled_baseline(pid)

        peaks = []
        for round_number in (1, 2):  # the second round shows whether memory keeps growing
            started = time.monotonic()
            held = self.hold_connections(sidecar.port, IDLE_CONNECTIONS)
            try:
                took = time.monotonic() - started
                self.assertGreaterEqual(fd_count(pid), base_fds + IDLE_CONNECTIONS)
                self.assertGreaterEqual(
                    metric(sidecar.port, "vault_sidecar_listener_open_connections"),
                    IDLE_CONNECTIONS)
                held_rss = rss_mib(pid)
                # A new client is still served, on a new connection, while all are held.
                status, headers, body = sidecar.get(KV_PATH, timeout=10)
                self.assertEqual((status, headers.get("x-cache")), (200, "HIT"))
                self.assertEqual(json.loads(body)["data"]["data"]["username"], "demo")
                self.assertEqual(sidecar.health()[0], 200)
                # The held connections are still open and usable: a second request on a sample.
                for sock in held[::500]:
                    sock.sendall(get_bytes("/sidecar/v1/health"))
                    self.assertEqual(read_answer(sock)[0], 200)
            finally:
                for sock in held:
                    sock.close()
            self.assert_fds_back(pid, base_fds)
            after_fds, after_rss = self.settled_baseline(pid)
            peaks.append(held_rss)
            print(f"\nround {round_number}: {IDLE_CONNECTIONS} connections in {took:.1f} s; "
                  f"fds {base_fds} -> {base_fds + IDLE_CONNECTIONS}+ -> {after_fds}; "
                  f"VmRSS {base_rss:.0f} MiB -> {held_rss:.0f} MiB held -> "
                  f"{after_rss:.0f} MiB after")
            self.assertLessEqual(held_rss - base_rss, HELD_RSS_GROWTH_MIB)
            self.assertLessEqual(after_rss, held_rss + 8)  # closing frees, never allocates
        # Growth between rounds is judged on the held peaks: the RSS after closing depends on
        # when ASan's quarantine hands freed memory back (190 to 231 MiB in repeated runs of the
        # same binary), while the peaks move by the same ~10 MiB every time. A release sidecar
        # reads 56 -> 57 MiB across the two rounds.
        self.assertLessEqual(peaks[1] - peaks[0], REPEAT_RSS_GROWTH_MIB)
        refused = metric(sidecar.port, "vault_sidecar_listener_connections_refused_total")
        self.assertEqual(refused, 0)


class SlowHeaderTest(LoadTestCase):
    def test_200_clients_trickling_a_byte_a_second_are_cut_off_at_the_header_timeout(self):
        self.raise_own_file_limit(1024)
        vault = self.start_double()
        sidecar = self.start_loaded_sidecar(vault)
        pid = sidecar.process.proc.pid
        base_fds, base_rss = self.settled_baseline(pid)
        trickle = get_bytes(KV_PATH)[:-2] + b"X-Slow: " + b"z" * 200  # never a blank line

        started = time.monotonic()
        slow = [socket.create_connection(("127.0.0.1", sidecar.port), timeout=10)
                for _ in range(200)]
        open_since = {sock: time.monotonic() for sock in slow}
        closed_after = {}
        received = {sock: b"" for sock in slow}
        normal = []
        position = 0
        try:
            while open_since and time.monotonic() - started < HEADER_TIMEOUT + 20:
                for sock in list(open_since):  # one byte each, a second apart
                    try:
                        sock.send(trickle[position:position + 1])
                    except OSError:  # reset or broken pipe: it was cut off
                        closed_after[sock] = time.monotonic() - open_since.pop(sock)
                position += 1
                # A normal client keeps getting answers all along.
                asked = time.monotonic()
                status, _, _ = sidecar.get(KV_PATH, timeout=5)
                normal.append((status, time.monotonic() - asked))
                tick_end = asked + 1.0
                while open_since and time.monotonic() < tick_end:
                    readable, _, _ = select.select(list(open_since), [], [],
                                                   max(0.0, tick_end - time.monotonic()))
                    for sock in readable:
                        try:
                            chunk = sock.recv(4096)
                        except OSError:
                            chunk = b""
                        received[sock] += chunk
                        if not chunk:
                            closed_after[sock] = time.monotonic() - open_since.pop(sock)
        finally:
            for sock in slow:
                sock.close()

        self.assertEqual(len(open_since), 0, f"{len(open_since)} of 200 still connected")
        times = sorted(closed_after.values())
        print(f"\n200 slow clients cut off after {times[0]:.1f} to {times[-1]:.1f} s; "
              f"{len(normal)} normal answers, slowest {max(t for _, t in normal):.2f} s")
        self.assertGreaterEqual(times[0], HEADER_TIMEOUT - 1)  # the timeout, not a refusal
        self.assertLessEqual(times[-1], HEADER_TIMEOUT + 6)
        self.assertFalse([r for r in received.values() if r], "a slow client got an answer")
        self.assertGreaterEqual(len(normal), HEADER_TIMEOUT - 1)
        self.assertEqual({status for status, _ in normal}, {200})
        self.assertEqual(vault.count("GET", "/v1/kv-demo/"), 1)  # only the warm-up read
        self.assert_fds_back(pid, base_fds)
        _, after_rss = self.settled_baseline(pid)
        self.assertLessEqual(after_rss - base_rss, REPEAT_RSS_GROWTH_MIB)


def slow_seed(secrets):
    seed = default_seed()
    seed["kv_mounts"]["kv-demo"]["secrets"].update(
        {f"slow-{i}": {"value": f"v{i}"} for i in range(secrets)})
    return seed


class ShutdownUnderLoadTest(LoadTestCase):
    def test_sigterm_lets_in_flight_requests_finish_then_refuses_and_exits_0(self):
        paths = 20  # below the upstream pool of 32: every cold read is upstream at once
        clients = 120
        vault = self.start_double(slow_seed(paths))
        sidecar = self.start_loaded_sidecar(vault, vault={"request_timeout": "10s"})
        vault.control("delay", {"prefix": "/v1/kv-demo/data/slow-", "ms": 2500})
        vault.control("delay", {"prefix": "/v1/database/creds/", "ms": 2500})

        socks = []
        try:
            for i in range(clients):
                sock = socket.create_connection(("127.0.0.1", sidecar.port), timeout=15)
                socks.append(sock)
                path = (f"/v1/kv-demo/data/slow-{i % paths}" if i % 6
                        else "/v1/database/creds/myapp-role")
                sock.sendall(get_bytes(path))  # keep-alive: the sidecar must close it itself
            time.sleep(1.0)  # all read by the sidecar, all waiting on the 2.5 s upstream
            stopped_at = time.monotonic()
            sidecar.process.signal(signal.SIGTERM)
            wait_until(lambda: "stopping:" in sidecar.log(), 10, what="the stop to begin")
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", sidecar.port), timeout=5).close()

            outcomes = {}
            for i, sock in enumerate(socks):
                status, headers, body = read_answer(sock)  # a reset raises here
                self.assertEqual(headers.get("connection", "").lower(), "close")
                self.assertEqual(status, 200, f"client {i}: {body!r}")
                data = json.loads(body)["data"]
                if i % 6:
                    self.assertEqual(data["data"], {"value": f"v{i % paths}"})
                else:  # a first fetch of creds in flight is let finish, not cancelled
                    self.assertTrue(data["username"] and data["password"])
                outcomes[status] = outcomes.get(status, 0) + 1
                self.assertEqual(sock.recv(1), b"")  # then an orderly close, not a reset
        finally:
            for sock in socks:
                sock.close()
        code = sidecar.wait_exit(SHUTDOWN_GRACE + 10)
        took = time.monotonic() - stopped_at
        print(f"\n{clients} in-flight requests answered {outcomes}; exit {code} {took:.1f} s "
              "after SIGTERM")
        self.assertEqual(code, 0, sidecar.log()[-3000:])
        self.assertLess(took, SHUTDOWN_GRACE + 10)
        self.assertNotIn("Sanitizer", sidecar.log())
        self.assertNotIn("after the grace period", sidecar.log())

if __name__ == "__main__":
    unittest.main()
