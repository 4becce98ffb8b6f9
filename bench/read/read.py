#!/usr/bin/python3
"""The read-path benchmark's driver (run by bench/read/run.sh).

Starts `berth dev`, creates APPS apps of TASKS instances each (`sleep 3600`), waits until
every task is TASK_RUNNING, fetches `GET /v2/apps?embed=apps.tasks` once and writes those
exact bytes to a file that nginx serves. Then runs `ab -k -c C -n N` against berth and
against nginx, alternating ROUNDS times, and prints requests/s, p99 and berth/nginx.
Everything it started is killed at the end.

With --flow, every app carries two TCP health checks on a port nobody listens on, which
fail every second, so each task sends status updates (new healthCheckResults) all the time:
the answer changes all the time and the render cache is invalidated by real change. The
rate is measured from berth.task.status.updates.total around each berth run, and the
master runs with BERTH_RENDER_VERIFY=1 when --verify is given (every cache hit compared
with a render from scratch; a stale one is logged and fails the run).
"""
import argparse
import http.client as httpclient
import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchproc import Daemon, environ, free_port, http, pids, wait_until  # noqa: E402

PATH = "/v2/apps?embed=apps.tasks"


def cleanup(tag):
    me = os.getpid()
    needle = ("BENCH_TAG=%s" % tag).encode()
    for _ in range(100):
        left = [p for p in pids() if p != me and needle in environ(p)]
        if not left:
            return
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.1)


def ab(url, c, n, extra=()):
    cmd = ["ab", "-q", "-k", "-c", str(c), "-n", str(n)] + list(extra) + [url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
    m = re.search(r"^\s*99%\s+(\d+)", out, re.M)
    p99 = int(m.group(1)) if m else -1
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    length = int(re.search(r"Document Length:\s+(\d+)", out).group(1))
    return rps, p99, failed, int(non2xx.group(1)) if non2xx else 0, length


def cpu_sec(pid_list):
    """CPU seconds (user + system, all threads) the processes have used so far."""
    tck = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pid_list:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / tck


def children_of(ppid):
    out = []
    for pid in pids():
        try:
            with open("/proc/%d/stat" % pid) as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == ppid:
                    out.append(pid)
        except (OSError, ValueError, IndexError):
            pass
    return out


def ab_cpu(url, c, n, extra, server_pids):
    """ab's figures, and the CPU ms per request of the server and of ab itself."""
    s0 = cpu_sec(server_pids)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = ab(url, c, n, extra)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s1 = cpu_sec(server_pids)
    client = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    return res + (1000 * (s1 - s0) / n, 1000 * client / n)


class PingProbe:
    """GET /ping every 10 ms on its own keep-alive connection while a run lasts: the worst
    and the 99th-percentile latency, i.e. how long the master's loop kept a small request
    waiting behind the big answers (and behind the machine's other load)."""

    def __init__(self, port):
        self.port = port
        self.lat = []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        c = httpclient.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                c.request("GET", "/ping")
                c.getresponse().read()
            except (OSError, httpclient.HTTPException):
                c.close()
                c = httpclient.HTTPConnection("127.0.0.1", self.port, timeout=30)
                continue
            self.lat.append(time.monotonic() - t0)
            time.sleep(0.01)
        c.close()

    def done(self):
        self.stop.set()
        self.t.join()
        v = sorted(self.lat) or [0.0]
        return 1000 * v[-1], 1000 * v[min(len(v) - 1, int(len(v) * 0.99))], len(v)


def updates(base):
    """Status updates applied so far (berth.task.status.updates.total, every state)."""
    st, body = http("GET", base + "/metrics")
    counters = json.loads(body)["counters"]
    return sum(v["count"] for k, v in counters.items()
               if k.startswith("berth.task.status.updates.total"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berth", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--apps", type=int, default=100)
    ap.add_argument("--tasks", type=int, default=5)
    ap.add_argument("-c", type=int, default=50)
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--flow", action="store_true")
    ap.add_argument("--nginx-workers", default="auto",
                    help="nginx's worker_processes (1: one core against berth's one loop)")
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--perf", metavar="FILE",
                    help="perf record -g the berth process during the first plain round")
    o = ap.parse_args()

    tag = str(uuid.uuid4())
    work = os.path.realpath(o.work)
    total = o.apps * o.tasks
    resources = ("cpus(*):%d; mem(*):%d; disk(*):100000; ports(*):[31000-32000]"
                 % (max(4, total // 50), max(4096, total * 4)))
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    daemons = []
    nginx = None
    try:
        if o.verify:
            os.environ["BERTH_RENDER_VERIFY"] = "1"
        dev = Daemon([o.berth, "dev", "--data-dir", os.path.join(work, "dev-data"), "--http",
                      "127.0.0.1:%d" % port, "--agent-http", "127.0.0.1:%d" % free_port(),
                      "--agent-resources", resources,
                      # plain processes, as the figures were taken (agents isolate by default)
                      "--agent-isolation", "none"], os.path.join(work, "dev.log"), tag)
        daemons.append(dev)

        def agent_active():
            st, body = http("GET", base + "/master/slaves", timeout=2)
            return st == 200 and any(s.get("active") for s in json.loads(body)["slaves"])
        wait_until(agent_active, 30, "an active agent")
        dead_port = free_port()
        for i in range(o.apps):
            app = {"id": "/bench/app-%03d" % i, "cmd": "exec sleep 3600", "cpus": 0.001,
                   "mem": 1, "disk": 0, "instances": o.tasks, "portDefinitions": [],
                   "labels": {"team": "t%d" % (i % 7)}, "env": {"BENCH_TAG": tag}}
            if o.flow:
                # a TCP check on a port nobody listens on: it fails every second, each
                # failure a status update with new results (consecutiveFailures,
                # lastFailure), checked by the executor without a fork; two per task
                app["healthChecks"] = [{
                    "protocol": "TCP", "port": dead_port, "gracePeriodSeconds": 0,
                    "intervalSeconds": 1, "timeoutSeconds": 1,
                    "maxConsecutiveFailures": 1000000}] * 2
            st, body = http("POST", base + "/v2/apps", app)
            if st != 201:
                raise SystemExit("bench: POST /v2/apps -> %d %s" % (st, body[:300]))

        def all_running():
            st, body = http("GET", base + "/v2/apps")
            return st == 200 and sum(a.get("tasksRunning", 0)
                                     for a in json.loads(body)["apps"]) >= total
        wait_until(all_running, 300, "%d running tasks" % total, interval=0.5)
        if o.flow:
            time.sleep(3)  # health results start flowing
        st, body = http("GET", base + PATH)
        body = body if isinstance(body, bytes) else body.encode()
        www = os.path.join(work, "www")
        os.makedirs(os.path.join(www, "v2"), exist_ok=True)
        with open(os.path.join(www, "v2", "apps"), "wb") as f:
            f.write(body)
        for d in (work, www, os.path.join(www, "v2")):  # nginx's workers are not root
            os.chmod(d, 0o755)
        os.chmod(os.path.join(www, "v2", "apps"), 0o644)
        nport = free_port()
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""daemon off; worker_processes %(nw)s; pid %(w)s/nginx.pid;
error_log %(w)s/nginx-error.log;
events { worker_connections 1024; }
http { access_log off; default_type application/json; keepalive_requests 100000;
  client_body_temp_path %(w)s/tmp; proxy_temp_path %(w)s/tmp;
  fastcgi_temp_path %(w)s/tmp; uwsgi_temp_path %(w)s/tmp; scgi_temp_path %(w)s/tmp;
  server { listen 127.0.0.1:%(p)d; root %(w)s/www; location / { try_files $uri =404; } } }
""" % {"w": work, "p": nport, "nw": o.nginx_workers})
        env = dict(os.environ, BENCH_TAG=tag)
        nginx = subprocess.Popen(["nginx", "-c", conf, "-p", work], env=env,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        nurl = "http://127.0.0.1:%d/v2/apps?embed=apps.tasks" % nport
        wait_until(lambda: http("GET", nurl, timeout=2)[0] == 200, 20, "nginx")

        print("--- %d apps x %d tasks, GET %s: %d bytes; ab -k -c %d -n %d, %d rounds; "
              "nginx worker_processes %s"
              % (o.apps, o.tasks, PATH, len(body), o.c, o.n, o.rounds, o.nginx_workers))
        variants = [("plain", [])]
        # ETag/304 and gzip, where berth answers them
        probe = subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null", base + PATH],
                               capture_output=True, text=True).stdout
        m = re.search(r"^etag:\s*(\S+)", probe, re.I | re.M)
        if m:
            variants.append(("304", ["-H", "If-None-Match: " + m.group(1)]))
        probe = subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null", "-H",
                                "Accept-Encoding: gzip", base + PATH],
                               capture_output=True, text=True).stdout
        if re.search(r"^content-encoding:\s*gzip", probe, re.I | re.M):
            variants.append(("gzip", ["-H", "Accept-Encoding: gzip"]))
        for name, extra in variants:
            for r in range(o.rounds):
                u0, t0 = updates(base), time.monotonic()
                perf = None
                if o.perf and name == "plain" and r == 0:
                    perf = subprocess.Popen(["perf", "record", "-q", "-g", "-p",
                                             str(dev.p.pid), "-o", o.perf],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(0.5)
                probe = PingProbe(port)
                b = ab_cpu(base + PATH, o.c, o.n, extra, [dev.p.pid])
                ping = probe.done()
                if perf is not None:
                    perf.send_signal(signal.SIGINT)
                    perf.wait(60)
                rate = (updates(base) - u0) / (time.monotonic() - t0)
                n = ab_cpu(nurl, o.c, o.n, [], children_of(nginx.pid))
                print("%-5s round %d: berth %8.1f req/s p99 %4d ms (failed %d, non-2xx %d, "
                      "%d B%s) | nginx %8.1f req/s p99 %4d ms | ratio %.3f"
                      % (name, r + 1, b[0], b[1], b[2], b[3], b[4],
                         ", %.0f updates/s" % rate if o.flow else "", n[0], n[1], b[0] / n[0]))
                print("      cpu ms/request: berth %.3f (ab %.3f) | nginx workers %.3f (ab %.3f)"
                      " | /ping meanwhile: worst %.0f ms, p99 %.0f ms (%d)"
                      % ((b[5], b[6], n[5], n[6]) + ping))
                sys.stdout.flush()
        if o.verify:
            with open(os.path.join(work, "dev.log"), errors="replace") as f:
                stale = sum("render cache stale" in line for line in f)
            print("render cache verify: %d stale answers" % stale)
            if stale:
                raise SystemExit("bench: the render cache served stale answers")
    finally:
        if nginx is not None and nginx.poll() is None:
            nginx.send_signal(signal.SIGQUIT)
            try:
                nginx.wait(10)
            except subprocess.TimeoutExpired:
                nginx.kill()
        for d in daemons:
            d.stop()
        cleanup(tag)


if __name__ == "__main__":
    main()
