"""bench/scale's driver (run.sh builds berth and calls it): see run.sh."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "integration"))
from helpers import PingWatch  # noqa: E402 (the same watch as test_large_app.py)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def waiting(s, url):
    return int(s.get(url + "/metrics", timeout=120).json()["gauges"]
               ["berth.instances.waiting"]["value"])


def longest(s, url):
    """The master's own longest allocation pass (a whole loop turn: decisions, the store
    commit and the sends), store commit and HTTP request so far, in ms, from /metrics: the
    stall as the master saw it, without the client's and the machine's share."""
    t = s.get(url + "/metrics", timeout=120).json()["timers"]
    cpu = t.get("berth.allocation.pass.cpu.seconds", {"max": float("nan")})["max"] * 1e3
    req = max((v["max"], k) for k, v in t.items()
              if k.startswith("berth.http.request.duration"))
    route = req[1].split('route="')[-1].split('"')[0]
    return (t["berth.allocation.pass.duration.seconds"]["max"] * 1e3, cpu,
            t["berth.store.commit.duration.seconds"]["max"] * 1e3, req[0] * 1e3, route)


def deployments(s, url):
    return s.get(url + "/v2/deployments", timeout=120).json()


def measure(s, url, what, change, done, timeout=1800):
    with PingWatch(url, timeout=120, pause=0.001) as w:
        t0 = time.monotonic()
        change()
        while not done():
            if time.monotonic() - t0 > timeout:
                raise SystemExit("%s: not done after %d s" % (what, timeout))
            time.sleep(0.05)
        took = time.monotonic() - t0
    lp, lcpu, lc, lr, route = longest(s, url)
    print("  %-24s %8.3f s | pings %6d (failed %d), worst %7.1f ms, p99 %6.1f ms"
          " | so far: pass %6.1f ms (CPU %5.1f ms), commit %5.1f ms, request %6.1f ms (%s)"
          % (what, took, w.count, w.failed, w.worst * 1e3, w.p99() * 1e3, lp, lcpu, lc, lr,
             route), flush=True)


def one(berth, n):
    d = tempfile.mkdtemp(prefix="bench-scale-")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    log = open(os.path.join(d, "master.log"), "w")
    p = subprocess.Popen([berth, "master", "--http", "127.0.0.1:%d" % port, "--store",
                          "sqlite:%s/state.db" % d], stdout=log, stderr=log)
    s = requests.Session()
    try:
        for _ in range(200):
            try:
                if s.get(url + "/ping", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.05)
        app = {"id": "/big", "cmd": "sleep 1000", "cpus": 0.01, "mem": 16,
               "instances": n}
        print("N = %d" % n, flush=True)
        with PingWatch(url, timeout=120, pause=0.001) as idle:
            time.sleep(2)
        print("  %-24s %8s   | pings %6d, worst %7.1f ms, p99 %6.1f ms (the floor)"
              % ("idle", "", idle.count, idle.worst * 1e3, idle.p99() * 1e3))

        def post():
            r = s.post(url + "/v2/apps", json=app, timeout=120)
            assert r.status_code == 201, r.text
        measure(s, url, "scale up 0 -> N (create)", post, lambda: waiting(s, url) == n)

        def put(k):
            r = s.put(url + "/v2/apps/big?force=true", json={"instances": k}, timeout=120)
            assert r.status_code == 200, r.text
        measure(s, url, "scale N -> 0", lambda: put(0),
                lambda: waiting(s, url) == 0 and deployments(s, url) == [])
        measure(s, url, "scale up 0 -> N", lambda: put(n), lambda: waiting(s, url) == n)
        # A partial scale-down picks its victims in the kill order (killSelection). Its
        # deployment stays (the instances kept never run without an agent): done when the
        # queue is down to N/2; the forgetting of the others goes on in the next step.
        measure(s, url, "scale N -> N/2", lambda: put(n // 2),
                lambda: waiting(s, url) == n // 2)
        measure(s, url, "scale up N/2 -> N", lambda: put(n), lambda: waiting(s, url) == n)

        # A restart of an app whose N instances all wait (none is live, so none is
        # outdated): the new version is the config_version; the passes after it must not
        # look at every instance. Its deployment stays (nothing runs without an agent):
        # done once it is listed and two seconds of passes have gone by.
        def restart():
            t0 = time.monotonic()
            r = s.post(url + "/v2/apps/big/restart?force=true", timeout=120)
            assert r.status_code == 200, r.text
            restart.t = time.monotonic()
            print("  (restart answered in %.1f ms)" % ((restart.t - t0) * 1e3))
        measure(s, url, "restart (N waiting)", restart,
                lambda: len(deployments(s, url)) == 1 and waiting(s, url) == n and
                time.monotonic() - restart.t > 2)

        def delete():
            t0 = time.monotonic()
            r = s.delete(url + "/v2/apps/big", timeout=120)
            assert r.status_code == 200, r.text
            print("  (DELETE answered in %.1f ms)" % ((time.monotonic() - t0) * 1e3))
        measure(s, url, "delete", delete,
                lambda: waiting(s, url) == 0 and deployments(s, url) == [])
    finally:
        p.terminate()
        p.wait(60)
        shutil.rmtree(d, ignore_errors=True)


def main():
    berth = sys.argv[1]
    sizes = [int(a) for a in sys.argv[2:]] or [10_000, 100_000, 1_000_000]
    for n in sizes:
        one(berth, n)


main()
