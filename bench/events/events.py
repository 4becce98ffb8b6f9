#!/usr/bin/python3
"""bench/events: SUBS subscribers of GET /v2/events on one `berth dev` while UPDATES task
status updates flow; prints delivery latency p50/p99 and the master's RSS. See
bench/README.md. Started by run.sh; kills only what it started."""
import argparse
import json
import multiprocessing as mp
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone


def http(url, method="GET", body=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def parse_ts(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp()


def worker(port, nsubs, sample_every, first_index, ready_q, result_q, stop_ev):
    """Holds nsubs subscribers. Every sample_every-th one parses its events and records the
    delivery latency of each status_update_event (receive wall time - event timestamp); the
    others only count bytes and frames (so the client is not the bottleneck)."""
    sel = selectors.DefaultSelector()
    conns = []
    req = ("GET /v2/events?event_type=status_update_event HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           "Accept: text/event-stream\r\n\r\n" % port).encode()
    for i in range(nsubs):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(req)
        s.setblocking(False)
        st = {"sock": s, "parse": (first_index + i) % sample_every == 0, "buf": b"",
              "head": False, "bytes": 0, "frames": 0, "closed": False}
        conns.append(st)
        sel.register(s, selectors.EVENT_READ, st)
    ready_q.put(nsubs)
    lat = []
    while not stop_ev.is_set():
        for key, _ in sel.select(0.2):
            st = key.data
            try:
                d = st["sock"].recv(1 << 18)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            now = time.time()
            if not d:
                st["closed"] = True
                sel.unregister(st["sock"])
                continue
            st["bytes"] += len(d)
            st["frames"] += d.count(b"event: status_update_event")
            if st["parse"]:
                st["buf"] += d
                while True:
                    i = st["buf"].find(b"\r\n\r\n")
                    if i < 0:
                        break
                    frame, st["buf"] = st["buf"][:i], st["buf"][i + 4:]
                    j = frame.find(b"data: ")
                    if j < 0 or b"event: status_update_event" not in frame:
                        continue
                    line = frame[j + 6:].split(b"\r\n", 1)[0]
                    try:
                        ev = json.loads(line)
                    except ValueError:
                        continue
                    lat.append(now - parse_ts(ev["timestamp"]))
    result_q.put({"lat": lat, "bytes": sum(c["bytes"] for c in conns),
                  "frames": [c["frames"] for c in conns],
                  "closed": sum(1 for c in conns if c["closed"])})
    for c in conns:
        c["sock"].close()


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def metric(url, name):
    _, body = http(url + "/metrics/prometheus")
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berth", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--updates", type=int, default=10000)
    ap.add_argument("--instances", type=int, default=250)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--sample-every", type=int, default=25)
    a = ap.parse_args()

    port, aport = free_port(), free_port()
    url = "http://127.0.0.1:%d" % port
    tag = "berth-bench-events-%d" % os.getpid()
    env = dict(os.environ, BENCH_TAG=tag)
    log = open(os.path.join(a.work, "dev.log"), "wb")
    dev = subprocess.Popen([a.berth, "dev", "--data-dir", os.path.join(a.work, "data"),
                            "--http", "127.0.0.1:%d" % port,
                            "--agent-http", "127.0.0.1:%d" % aport,
                            "--agent-resources",
                            "cpus(*):64; mem(*):65536; disk(*):1000; ports(*):[40000-40100]",
                            # plain processes, as the figures were taken (agents isolate
                            # by default)
                            "--agent-isolation", "none"],
                           stdout=log, stderr=log, env=env, start_new_session=True)
    procs = []
    try:
        deadline = time.time() + 20
        while True:
            try:
                if http(url + "/ping")[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or dev.poll() is not None:
                sys.exit("berth dev did not start; see %s/dev.log" % a.work)
            time.sleep(0.1)
        time.sleep(1.0)
        rss_idle = rss_kib(dev.pid)

        ctx = mp.get_context("fork")
        ready_q, result_q, stop_ev = ctx.Queue(), ctx.Queue(), ctx.Event()
        per = [a.subscribers // a.procs + (1 if i < a.subscribers % a.procs else 0)
               for i in range(a.procs)]
        first = 0
        for n in per:
            p = ctx.Process(target=worker, args=(port, n, a.sample_every, first, ready_q,
                                                 result_q, stop_ev))
            p.start()
            procs.append(p)
            first += n
        got = sum(ready_q.get(timeout=60) for _ in procs)
        deadline = time.time() + 30
        while metric(url, "berth_event_subscribers") < got and time.time() < deadline:
            time.sleep(0.2)
        subs = metric(url, "berth_event_subscribers")
        rss_subs = rss_kib(dev.pid)

        app = {"id": "/bench-events", "cmd": "exec sleep 3600", "cpus": 0.001, "mem": 1,
               "instances": 0, "portDefinitions": [], "env": {"BENCH_TAG": tag},
               "backoffSeconds": 1}
        http(url + "/v2/apps", "POST", app)
        base = metric(url, "berth_task_status_updates_total")
        t0 = time.time()
        rss_peak = rss_subs
        cycles = 0
        while metric(url, "berth_task_status_updates_total") - base < a.updates:
            for n in (a.instances, 0):
                http(url + "/v2/apps/bench-events?force=true", "PUT", {"instances": n})
                while True:
                    _, body = http(url + "/v2/apps/bench-events")
                    ap_ = json.loads(body)["app"]
                    rss_peak = max(rss_peak, rss_kib(dev.pid))
                    if ap_["tasksRunning"] == n and len(ap_.get("tasks", [])) == n \
                            and not ap_["deployments"]:
                        break
                    time.sleep(0.05)
            cycles += 1
        flow_s = time.time() - t0
        updates = metric(url, "berth_task_status_updates_total") - base
        time.sleep(2.0)  # let the last events arrive
        rss_during = rss_kib(dev.pid)
        stop_ev.set()
        res = [result_q.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(30)
        time.sleep(1.0)
        rss_after = rss_kib(dev.pid)
        lat = [x for r in res for x in r["lat"]]
        frames = [f for r in res for f in r["frames"]]
        closed = sum(r["closed"] for r in res)
        total_bytes = sum(r["bytes"] for r in res)
        ms = 1000.0
        print("subscribers:       %d connected (%d worker processes, 1 in %d parses events)"
              % (subs, a.procs, a.sample_every))
        print("status updates:    %d in %.1f s (%d scale cycles 0 -> %d -> 0), %.0f/s"
              % (updates, flow_s, cycles, a.instances, updates / flow_s))
        print("delivered:         %.0f MB to subscribers; per subscriber min %d / max %d "
              "status_update_event frames; %d subscribers cut off by the master"
              % (total_bytes / 1e6, min(frames), max(frames), closed))
        print("delivery latency:  p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d samples; event "
              "timestamp -> receive, ms clock resolution)"
              % (pct(lat, 50) * ms, pct(lat, 99) * ms, max(lat) * ms if lat else float("nan"),
                 len(lat)))
        print("master RSS:        idle %.1f MiB, with %d subscribers %.1f MiB, peak during "
              "flow %.1f MiB, after flow %.1f MiB, after subscribers left %.1f MiB"
              % (rss_idle / 1024, subs, rss_subs / 1024, rss_peak / 1024, rss_during / 1024,
                 rss_after / 1024))
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
        if dev.poll() is None:
            dev.send_signal(signal.SIGTERM)
            try:
                dev.wait(15)
            except subprocess.TimeoutExpired:
                dev.kill()
                dev.wait()
        kill_tagged(tag)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kill_tagged(tag):
    """Kills the executors and tasks this run started (BENCH_TAG=tag in their environment)."""
    needle = ("BENCH_TAG=%s" % tag).encode()
    for _ in range(20):
        left = []
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            try:
                with open("/proc/%s/environ" % d, "rb") as f:
                    if needle in f.read().split(b"\0"):
                        left.append(int(d))
            except OSError:
                pass
        if not left:
            return
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.2)


if __name__ == "__main__":
    main()
