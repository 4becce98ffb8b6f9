#!/usr/bin/python3
"""bench/failover: how long a cluster of 3 berth masters on a 3-node ZooKeeper ensemble
cannot take a write after its leader is killed (-9), and the store's write throughput on
ZooKeeper vs SQLite. Run by hand: bench/failover/run.py [--runs 10] [--session 2].

Needs Debian's zookeeper package, /usr/bin/python3 with pytest and requests (as the
integration tests), and a build: BUILD=dir (default build/) with `ninja -C build berth
bench/failover/bench-store-writes`."""
import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
from helpers import free_port  # noqa: E402
from zk_ensemble import ZkEnsemble  # noqa: E402


class Master:
    def __init__(self, berth, url, session, workdir, i):
        self.port = free_port()
        self.addr = "127.0.0.1:%d" % self.port
        self.args = [berth, "master", "--http", self.addr, "--store", url,
                     "--zk-session-timeout", str(session), "--hostname", "127.0.0.1"]
        self.log = open(Path(workdir) / ("master%d.log" % i), "ab")
        self.p = None

    def start(self):
        self.p = subprocess.Popen(self.args, stdout=self.log, stderr=self.log,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get("http://%s/ping" % self.addr, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError("master on %s did not start" % self.addr)

    def leads(self):
        try:
            r = requests.get("http://%s/v2/leader" % self.addr, timeout=1)
            return r.status_code == 200 and r.json()["leader"] == self.addr
        except requests.RequestException:
            return False

    def kill9(self):
        self.p.send_signal(signal.SIGKILL)
        self.p.wait()

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()


def app(i):
    return {"id": "/bench/r%d" % i, "cmd": "sleep 1", "instances": 0, "cpus": 0.01, "mem": 16}


def failover(masters, runs):
    times = []
    for i in range(runs):
        deadline = time.monotonic() + 30
        while True:
            leader = [m for m in masters if m.leads()]
            if leader:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("no leader")
            time.sleep(0.05)
        leader = leader[0]
        others = [m for m in masters if m is not leader]
        leader.kill9()
        t0 = time.monotonic()
        done = None
        while done is None and time.monotonic() - t0 < 60:
            for m in others:
                try:
                    r = requests.post("http://%s/v2/apps" % m.addr, json=app(i), timeout=0.5,
                                      allow_redirects=False)
                except requests.RequestException:
                    continue
                if r.status_code == 201:
                    done = time.monotonic() - t0
                    break
        if done is None:
            raise RuntimeError("no write accepted within 60 s")
        times.append(done)
        print("  run %2d: first write accepted %.3f s after kill -9" % (i + 1, done), flush=True)
        leader.start()  # back as a standby
    return times


def store_writes(bench, url, n):
    out = subprocess.run([bench, url, str(n)], capture_output=True, timeout=600, check=True)
    puts, txns, fenced = out.stdout.split()
    return float(puts), float(txns), float(fenced)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--session", type=float, default=2.0)
    ap.add_argument("--writes", type=int, default=1000)
    a = ap.parse_args()
    build = Path(os.environ.get("BUILD", REPO / "build"))
    berth = str(build / "berth")
    bench = str(build / "bench" / "failover" / "bench-store-writes")
    subprocess.run(["ninja", "-C", str(build), "berth", "bench/failover/bench-store-writes"],
                   check=True, stdout=subprocess.DEVNULL)
    work = tempfile.mkdtemp(prefix="bench-failover-")
    print("bench/failover  %s  %s  %d cpus  %s" % (time.strftime("%Y-%m-%d %H:%M UTC",
                                                               time.gmtime()),
                                                 platform.release(), os.cpu_count(), build))
    ens = ZkEnsemble(Path(work) / "zk", 3).start()
    masters = []
    try:
        print("3 ZooKeeper nodes (tickTime 200 ms) + 3 masters, --zk-session-timeout %g s, "
              "%d runs:" % (a.session, a.runs))
        masters = [Master(berth, ens.url("/bench"), a.session, work, i) for i in range(3)]
        for m in masters:
            m.start()
        t = failover(masters, a.runs)
        print("failover (kill -9 of the leader -> first 201 on a new leader): median %.3f s, "
              "max %.3f s, session timeout %.1f s" % (statistics.median(t), max(t), a.session))
        for m in masters:
            m.stop()
        masters = []

        print("store writes (%d puts of 512 B, then %d transactions of 10 puts; sequential, "
              "each durable), 3 rounds alternating:" % (a.writes, a.writes // 10))
        res = {"sqlite": [], "zk": []}
        for r in range(3):
            db = Path(work) / ("s%d.db" % r)
            res["sqlite"].append(store_writes(bench, "sqlite:%s" % db, a.writes))
            res["zk"].append(store_writes(bench, ens.url("/bench-store%d" % r), a.writes))
        for eng in ("sqlite", "zk"):
            p = statistics.median(x[0] for x in res[eng])
            tx = statistics.median(x[1] for x in res[eng])
            fp = statistics.median(x[2] for x in res[eng])
            print("  %-6s  %7.0f puts/s  %7.0f txns/s%s" % (
                eng, p, tx, "  %7.0f fenced puts/s (an elected master's)" % fp if fp else ""))
        ps = statistics.median(x[0] for x in res["sqlite"])
        pz = statistics.median(x[0] for x in res["zk"])
        ts = statistics.median(x[1] for x in res["sqlite"])
        tz = statistics.median(x[1] for x in res["zk"])
        print("  zk/sqlite: puts %.2fx, txns %.2fx" % (pz / ps, tz / ts))
    finally:
        for m in masters:
            m.stop()
        ens.stop()


if __name__ == "__main__":
    main()
