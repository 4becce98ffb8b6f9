"""berth lb benchmark driver (run by run.sh): a load loop on a vhost through `berth lb` and
HAProxy while the configuration is reloaded R times (a new exposed app each time: a new
backend, so a reload) and the vhost's app is scaled S times (server slots changed through
HAProxy's runtime API, no reload). Prints requests sent, failed, reloads, latency
percentiles. Every process it started is stopped or killed at the end."""
import argparse
import http.client as hclient
import json
import os
import signal
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchproc import Daemon, environ, free_port, http, pids, wait_until  # noqa: E402

HOST = "bench.test"


class Load:
    def __init__(self, port, conns):
        self.port, self.conns = port, conns
        self.stop_ev = threading.Event()
        self.lat, self.fail, self.sent = [], [], 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(conns)]

    def one(self):
        t0 = time.perf_counter()
        c = hclient.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", "/", headers={"Host": HOST})
            r = c.getresponse()
            r.read()
            ok = r.status == 200
            why = r.status
        except Exception as e:  # noqa: BLE001 - any error is a failed request
            ok, why = False, repr(e)
        finally:
            c.close()
        dt = time.perf_counter() - t0
        with self.lock:
            self.sent += 1
            if ok:
                self.lat.append(dt)
            else:
                self.fail.append((time.strftime("%H:%M:%S", time.gmtime()) +
                                  ("%.3f" % (time.time() % 1))[1:], why))

    def run(self):
        while not self.stop_ev.is_set():
            self.one()

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(15)


def port_range(size=200):
    """A range of ports free now (tasks bind them), away from the ephemeral ones."""
    import random
    import socket
    for _ in range(200):
        lo = random.randrange(20000, 32000 - size)
        try:
            socks = []
            for p in range(lo, lo + size):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return lo, lo + size - 1
        except OSError:
            pass
        finally:
            for s in socks:
                s.close()
    raise SystemExit("bench: no free port range")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berth", required=True)
    ap.add_argument("--haproxy", default="/usr/sbin/haproxy")
    ap.add_argument("--work", required=True)
    ap.add_argument("--reloads", type=int, default=20)
    ap.add_argument("--scales", type=int, default=20)
    ap.add_argument("--conns", type=int, default=4)
    o = ap.parse_args()
    tag = uuid.uuid4().hex
    work = o.work
    daemons = []
    mport, aport = free_port(), free_port()
    hport, sport, stport = free_port(), free_port(), free_port()
    base = "http://127.0.0.1:%d" % mport
    lblog = os.path.join(work, "lb.log")
    try:
        daemons.append(Daemon([o.berth, "master", "--http", "127.0.0.1:%d" % mport,
                               "--store", "sqlite:%s/state.db" % work],
                              os.path.join(work, "master.log"), tag))
        time.sleep(0.2)
        daemons.append(Daemon([o.berth, "agent", "--master", base, "--http",
                               "127.0.0.1:%d" % aport, "--hostname", "127.0.0.1",
                               "--work-dir", os.path.join(work, "agent"), "--resources",
                               "cpus(*):8; mem(*):8192; disk(*):1000; ports(*):[%d-%d]"
                               % port_range(),
                               # plain processes (agents isolate by default): the service
                               # is in the work dir under /tmp, which isolated tasks do not see
                               "--isolation", "none"],
                              os.path.join(work, "agent.log"), tag))
        wait_until(lambda: json.loads(http("GET", base + "/master/slaves", timeout=2)[1])
                   .get("slaves"), 30, "an active agent")
        daemons.append(Daemon([o.berth, "lb", "--master", base, "--haproxy", o.haproxy,
                               "--config-dir", os.path.join(work, "lb"), "--bind",
                               "127.0.0.1", "--http-port", str(hport), "--https-port",
                               str(sport), "--stats-port", str(stport)], lblog, tag))
        svc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "graceful.py")
        app = {"id": "/web", "cmd": "exec /usr/bin/python3 %s $PORT0" % svc, "instances": 3,
               "cpus": 0.01, "mem": 16, "portDefinitions": [{"port": free_port()}],
               "labels": {"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": HOST},
               "healthChecks": [{"protocol": "HTTP", "path": "/", "intervalSeconds": 1,
                                 "timeoutSeconds": 1, "gracePeriodSeconds": 5,
                                 "maxConsecutiveFailures": 3}],
               "upgradeStrategy": {"minimumHealthCapacity": 1, "maximumOverCapacity": 0.5}}
        st, body = http("POST", base + "/v2/apps", app)
        assert st == 201, body

        def done(n):
            a = json.loads(http("GET", base + "/v2/apps/web?embed=app.tasks")[1])["app"]
            ts = a.get("tasks", [])
            return (not a["deployments"] and len(ts) == n and
                    all(t.get("healthCheckResults") and t["healthCheckResults"][0]["alive"]
                        for t in ts))

        def served():
            c = hclient.HTTPConnection("127.0.0.1", hport, timeout=2)
            c.request("GET", "/", headers={"Host": HOST})
            return c.getresponse().status == 200
        wait_until(lambda: done(3), 60, "3 healthy tasks")
        wait_until(served, 30, "the vhost served")

        def log_count(s):
            with open(lblog, errors="replace") as f:
                return f.read().count(s)
        load = Load(hport, o.conns)
        reloads0 = log_count("haproxy reloaded")
        runtime0 = log_count("through the runtime API")
        t0 = time.monotonic()
        load.start()
        sizes = [4, 2, 5, 3]
        for i in range(max(o.reloads, o.scales)):
            if i < o.reloads:
                before = log_count("haproxy reloaded")
                st, body = http("POST", base + "/v2/apps", {
                    "id": "/other-%d" % i, "cmd": "sleep 3600", "instances": 0, "cpus": 0.01,
                    "mem": 8, "portDefinitions": [{"port": free_port()}],
                    "labels": {"HAPROXY_GROUP": "external"}})
                assert st == 201, body
                wait_until(lambda: log_count("haproxy reloaded") > before, 30, "a reload")
            if i < o.scales:
                n = sizes[i % len(sizes)]
                st, body = http("PUT", base + "/v2/apps/web", {"instances": n})
                assert st == 200, body
                wait_until(lambda: done(n), 60, "%d healthy tasks" % n)
        time.sleep(0.5)
        load.stop()
        dur = time.monotonic() - t0
        reloads = log_count("haproxy reloaded") - reloads0
        runtime = log_count("through the runtime API") - runtime0
        print("requests sent:   %d in %.1f s (%.0f/s, %d connections, a new TCP "
              "connection each)" % (load.sent, dur, load.sent / dur, o.conns))
        print("failed:          %d%s" % (len(load.fail),
                                         "  e.g. %s" % load.fail[:3] if load.fail else ""))
        print("reloads:         %d (HAProxy master-worker reloads, listeners handed over)"
              % reloads)
        print("scale changes:   %d (runtime API batches: %d)" % (o.scales, runtime))
        print("latency:         p50 %.2f ms, p99 %.2f ms, max %.2f ms"
              % (pct(load.lat, 0.5) * 1e3, pct(load.lat, 0.99) * 1e3,
                 max(load.lat) * 1e3 if load.lat else float("nan")))
    finally:
        for d in reversed(daemons):
            d.stop()
        needle = ("BENCH_TAG=%s" % tag).encode()
        for p in pids():
            if p != os.getpid() and needle in environ(p):
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass


if __name__ == "__main__":
    main()
