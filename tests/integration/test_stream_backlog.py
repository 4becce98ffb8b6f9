"""The global bound on bytes queued to slow stream readers (--http-max-stream-backlog,
docs/operations.md): each event stream may hold 2 MiB unsent, but all streams together hold at
most the bound; past it the subscribers with the largest backlogs are cut off first, a reader
that keeps up is not, and the master's RSS stays bounded."""
import os
import re
import socket
import subprocess
import time

from conftest import berth_bin
from helpers import SseClient, app_def, vm_rss_kib, wait_until

SLOW = 32
BOUND_MIB = 4
PER_STREAM = 2 * 1024 * 1024  # EVENTS_MAX_PENDING


def subscribers(api):
    prom = api.get("/metrics/prometheus").text
    line = [ln for ln in prom.splitlines() if ln.startswith("berth_event_subscribers ")]
    assert line, "no berth_event_subscribers gauge"
    return float(line[0].split()[1])


def eof_within(c, seconds):
    """Drains c's socket; the number of bytes read before EOF, or None without EOF."""
    c.sock.settimeout(seconds)
    got, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < seconds:
        try:
            d = c.sock.recv(1 << 20)
        except socket.timeout:
            return None
        if not d:
            return got
        got += len(d)
    return None


def test_slowest_subscribers_cut_at_the_global_bound(cluster):
    # (BERTH_TEST_BACKLOG_MIB: to see this test fail with a bound that is never reached)
    m = cluster.master(extra=["--http-max-stream-backlog",
                              os.environ.get("BERTH_TEST_BACKLOG_MIB", str(BOUND_MIB))])
    cluster.agent()
    api = m.api
    # Events under 4 KiB, which are copied into each subscriber's buffer (bigger ones are
    # queued by reference, one copy for all): api_post_event with ~1.5 KB of labels, and the
    # deployment events of each change.
    labels = {"l%d" % i: "x" * 150 for i in range(10)}
    assert api.post("/v2/apps", app_def("/small", "sleep 3600", instances=0,
                                       labels=labels)).status_code == 201
    api.wait_no_deployments()
    fast = SseClient(m.url, types=["api_post_event"])
    slow = [SseClient(m.url, rcvbuf=4096, read=False) for _ in range(SLOW)]
    try:
        assert all(s.status == 200 for s in slow)
        wait_until(lambda: subscribers(api) == SLOW + 1, 5, what="%d subscribers" % (SLOW + 1))
        rss_before = vm_rss_kib(m.p.pid)
        n = 300  # > 1 MB of events per stream: 32 slow streams would queue > 32 MB unbounded
        for i in range(n):
            r = api.put("/v2/apps/small", {"instances": 0, "env": {"ROUND": str(i)}},
                        params={"force": "true"})
            assert r.status_code == 200, r.text
            wait_until(lambda: len(fast.of_type("api_post_event")) >= i + 1 or fast.closed, 10,
                       what="event %d at the fast subscriber" % i)
            assert not fast.closed, "the reader that keeps up was cut off at event %d" % i
        rss_after = vm_rss_kib(m.p.pid)
        # the slow subscribers cut off by the global bound, the largest backlogs first, each
        # with less than its own 2 MiB queued
        log = m.stderr_text()
        cuts = [(int(a), int(b)) for a, b, _ in re.findall(
            r"cutting a stream with (\d+) bytes unsent: (\d+) bytes queued to slow readers "
            r"in all, over the bound of (\d+)", log)]
        assert len(cuts) >= SLOW // 2, (len(cuts), log[-3000:])
        assert all(p < PER_STREAM for p, _ in cuts), cuts
        assert all(total > BOUND_MIB << 20 for _, total in cuts), cuts
        eofs = [eof_within(s, 5) is not None for s in slow]
        assert sum(eofs) >= len(cuts), eofs
        # what stays queued is bounded: 4 MiB and a scan step (64 KiB) of backlog, the
        # versions of the app; without the bound the slow streams alone held > 32 MiB
        assert rss_after - rss_before < 16 * 1024, (rss_before, rss_after)
        assert not fast.closed
        assert len(fast.of_type("api_post_event")) == n
        wait_until(lambda: subscribers(api) == 1 + SLOW - sum(eofs), 5,
                   what="the gauge without the cut subscribers")
        assert api.ping()
    finally:
        fast.close()
        for s in slow:
            s.close()


def test_bad_backlog_flag_is_refused():
    for bad in ("0", "x", "2000000"):
        p = subprocess.run([berth_bin(), "master", "--http", "127.0.0.1:1",
                            "--http-max-stream-backlog", bad], capture_output=True, text=True,
                           timeout=20)
        assert p.returncode == 2, (bad, p.returncode, p.stderr)
        assert "bad --http-max-stream-backlog" in p.stderr, p.stderr
