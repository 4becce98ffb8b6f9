#!/usr/bin/env python3
"""bench/mstate: GET /master/state with N apps x 10 RUNNING tasks (default 1,000 x 10 =
10,000) on bench-console-sim (the whole master, 20 simulated agents), rendered whole
(BERTH_STATE_CACHE=0, as before the task cache) and assembled from the cache: the time of
the first answer after the tasks run (cold) and the median of the next ones (warm), the
answer's size, the operator API's GET_STATE likewise, and, when `ab` is installed, requests/s of `ab -k -c 10`. That the cached
answer is the bytes of a whole render is checked by the tests (BERTH_RENDER_VERIFY), not here.

usage: bench/mstate/run.py [N] [--build DIR] [--requests R]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

ap = argparse.ArgumentParser()
ap.add_argument("n", nargs="?", type=int, default=1000)
ap.add_argument("--build", default="build")
ap.add_argument("--requests", type=int, default=100)
args = ap.parse_args()
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sim = os.path.join(root, args.build, "bench/console/bench-console-sim")
subprocess.run(["ninja", "-C", os.path.join(root, args.build), "bench/console/bench-console-sim"],
               check=True, stdout=subprocess.DEVNULL)  # not built by default


def req(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(base + path, data=data, method=method,
                               headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(r, timeout=120) as f:
        return f.read()


def run(cache):
    work = tempfile.mkdtemp(prefix="bench-mstate-")
    env = dict(os.environ, BERTH_STATE_CACHE="1" if cache else "0")
    env.pop("BERTH_RENDER_VERIFY", None)
    p = subprocess.Popen([sim, work, "0"], stdout=subprocess.PIPE,
                         stderr=open(os.path.join(work, "master.log"), "w"), env=env, text=True)
    try:
        ready, port = p.stdout.readline().split()
        base = "http://127.0.0.1:%s" % port
        def create(i):
            req(base, "POST", "/v2/apps", {"id": "/load/app-%04d" % i, "cmd": "sleep 1000",
                                           "cpus": 0.01, "mem": 8, "instances": 10})
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(create, range(args.n)))
        want = args.n * 10
        t0 = time.monotonic()
        while True:
            apps = json.loads(req(base, "GET", "/v2/apps"))["apps"]
            if sum(a["tasksRunning"] for a in apps) == want:
                break
            if time.monotonic() - t0 > 900:
                sys.exit("bench/mstate: tasks did not all run")
            time.sleep(1)
        time.sleep(2)  # let the last updates settle
        times = []
        body = None
        for i in range(11):
            t = time.monotonic()
            b = req(base, "GET", "/master/state")
            times.append(time.monotonic() - t)
            assert body is None or b == body, "the state changed while measuring"
            body = b
        op = []
        for i in range(6):
            t = time.monotonic()
            req(base, "POST", "/api/v1", {"type": "GET_STATE"})
            op.append(time.monotonic() - t)
        rps = None
        if shutil.which("ab"):
            out = subprocess.run(["ab", "-k", "-c", "10", "-n", str(args.requests),
                                  base + "/master/state"], capture_output=True, text=True).stdout
            for line in out.splitlines():
                if line.startswith("Requests per second"):
                    rps = float(line.split()[3])
                if line.startswith("Failed requests") and line.split()[2] != "0":
                    sys.exit("bench/mstate: ab saw failed requests\n" + out)
        rss = [l for l in open("/proc/%d/status" % p.pid) if l.startswith("VmRSS")][0].split()[1]
        return body, times, rps, rss, op
    finally:
        p.terminate()
        p.wait()
        shutil.rmtree(work, ignore_errors=True)


print("bench/mstate: %s, %d cores, load %s, %s" % (os.uname().release, os.cpu_count(),
      open("/proc/loadavg").read().split()[0], time.strftime("%FT%TZ", time.gmtime())))
res = {}
for cache in (False, True):
    body, times, rps, rss, op = run(cache)
    res[cache] = body
    print("%-28s %d tasks, %.1f MB: cold %.0f ms, warm median %.0f ms (min %.0f), "
          "ab -k -c 10: %s req/s, RSS %s kB; GET_STATE cold %.0f ms, warm median %.0f ms" % (
              "cache" if cache else "whole render (BERTH_STATE_CACHE=0)", args.n * 10,
              len(body) / 1e6, times[0] * 1e3, statistics.median(times[1:]) * 1e3,
              min(times[1:]) * 1e3, "%.1f" % rps if rps else "n/a", rss, op[0] * 1e3,
              statistics.median(op[1:]) * 1e3))
