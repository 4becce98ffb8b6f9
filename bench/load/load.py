#!/usr/bin/python3
"""bench/load (issue 16): CLIENTS concurrent API clients (reads and writes mixed) and SUBS
subscribers of GET /v2/events for DURATION seconds against one `berth master` holding APPS
apps, with a real `berth agent`; once over plain HTTP, once with TLS on (mutual: every client
presents a certificate). Prints requests/s, latency p50/p99 per kind, errors (any answer
but the expected status, any connection reset, any stream cut early) and the master's RSS
at start, peak and end. Started by run.sh; kills only what it started.

The load generator is asyncio over raw sockets (HTTP/1.1 keep-alive, one connection per
client, closed loop: a client sends its next request when the answer has arrived), spread
over WORKERS processes. The mix per request: 5% GET /v2/apps (all APPS apps), 75% GET
/v2/apps/{id}, 10% PUT /v2/apps/{id}?force=true {"instances": n} (a scale change), 10%
alternately POST a small app of the client's own and DELETE it (?force=true).
"""
import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import resource
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchproc import Daemon, free_port, status_kib, wait_until  # noqa: E402

EXPECT = {"list": 200, "get": 200, "put": 200, "post": 201, "delete": 200}


def app_json(app_id, instances=0):
    # cpus 1 on an agent of 0.5: scale changes make deployments that wait for offers; no
    # process is started on the machine the benchmark shares with the master.
    return {"id": app_id, "cmd": "sleep 3600", "cpus": 1, "mem": 16, "instances": instances}


class Conn:
    def __init__(self, host, port, ctx):
        self.host, self.port, self.ctx = host, port, ctx
        self.r = self.w = None

    async def open(self):
        self.r, self.w = await asyncio.open_connection(self.host, self.port, ssl=self.ctx,
                                                       limit=1 << 20)

    def close(self):
        if self.w:
            self.w.close()
        self.r = self.w = None

    async def request(self, method, path, body=None):
        if self.w is None:
            await self.open()
        data = json.dumps(body).encode() if body is not None else b""
        head = ("%s %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: application/json\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % (method, path, self.host, self.port, len(data))).encode()
        self.w.write(head + data)
        h = await self.r.readuntil(b"\r\n\r\n")
        status = int(h[9:12])
        length, chunked, close = None, False, False
        for line in h.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            k = k.strip().lower()
            if k == b"content-length":
                length = int(v)
            elif k == b"transfer-encoding" and b"chunked" in v.lower():
                chunked = True
            elif k == b"connection" and b"close" in v.lower():
                close = True
        if chunked:
            while True:
                n = int((await self.r.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.r.readexactly(n + 2)
                if n == 0:
                    break
        elif length is not None:
            await self.r.readexactly(length)
        else:
            await self.r.read()
            close = True
        if close:
            self.close()
        return status


async def api_client(cid, a, ctx, end, stats, apps):
    rnd = random.Random(cid)
    c = Conn(a.host, a.port, ctx)
    mine, serial = None, 0
    await asyncio.sleep(rnd.random() * 1.0)  # spread the connects over a second
    while time.monotonic() < end:
        x = rnd.random()
        if x < 0.05:
            kind, method, path, body = "list", "GET", "/v2/apps", None
        elif x < 0.80:
            kind, method, path, body = "get", "GET", "/v2/apps/bench/a%d" % rnd.randrange(apps), None
        elif x < 0.90:
            kind, method = "put", "PUT"
            path = "/v2/apps/bench/a%d?force=true" % rnd.randrange(apps)
            body = {"instances": rnd.randrange(4)}
        elif mine is None:
            serial += 1
            mine = "/load/c%d-%d" % (cid, serial)
            kind, method, path, body = "post", "POST", "/v2/apps", app_json(mine)
        else:
            kind, method, path, body = "delete", "DELETE", "/v2/apps%s?force=true" % mine, None
        t0 = time.perf_counter()
        try:
            st = await c.request(method, path, body)
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError, ValueError) as e:
            stats["errors"].append("%s %s: %r" % (method, path, e))
            c.close()
            await asyncio.sleep(0.1)
            continue
        dt = time.perf_counter() - t0
        stats["lat"].setdefault(kind, []).append(dt)
        if st != EXPECT[kind]:
            stats["errors"].append("%s %s: %d" % (method, path, st))
        if kind == "delete" and st == 200:
            mine = None
    c.close()


async def subscriber(sid, a, ctx, end, stats, ready):
    await asyncio.sleep(random.random() * 1.0)
    try:
        r, w = await asyncio.open_connection(a.host, a.port, ssl=ctx, limit=1 << 20)
        q = "?plan-format=%s" % a.plan_format if a.plan_format != "full" else ""
        w.write(("GET /v2/events%s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n\r\n"
                 % (q, a.host, a.port)).encode())
        h = await r.readuntil(b"\r\n\r\n")
        if int(h[9:12]) != 200:
            stats["errors"].append("GET /v2/events: %s" % h[:12])
            return
    except (OSError, asyncio.IncompleteReadError, ssl.SSLError) as e:
        stats["errors"].append("GET /v2/events: %r" % e)
        return
    ready.append(sid)
    n, events = 0, 0
    try:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            try:
                b = await asyncio.wait_for(r.read(1 << 16), left)
            except asyncio.TimeoutError:
                break
            if not b:
                stats["errors"].append("GET /v2/events: the stream ended early")
                break
            n += len(b)
            events += b.count(b"event:")
    except (OSError, ssl.SSLError) as e:
        stats["errors"].append("GET /v2/events: %r" % e)
    stats["sse_bytes"] += n
    stats["sse_events"] += events
    w.close()


def ssl_ctx(a):
    if not a.ca:
        return None
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.load_cert_chain(a.cert, a.key)
    return ctx


async def worker_main(wid, a, start_at, out):
    ctx = ssl_ctx(a)
    stats = {"lat": {}, "errors": [], "sse_bytes": 0, "sse_events": 0}
    ready = []
    nsub = a.subs // a.workers + (wid < a.subs % a.workers)
    ncli = a.clients // a.workers + (wid < a.clients % a.workers)
    # Subscribers first; the clients start together at start_at (wall clock, shared).
    end_subs = start_at + a.duration + 1.0
    mono = time.monotonic() - time.time()
    subs = [asyncio.ensure_future(subscriber(i, a, ctx, end_subs + mono, stats, ready))
            for i in range(nsub)]
    await asyncio.sleep(max(0.0, start_at - time.time()))
    t0 = time.monotonic()
    end = t0 + a.duration
    clients = [asyncio.ensure_future(api_client(wid * 100000 + i, a, ctx, end, stats, a.apps))
               for i in range(ncli)]
    await asyncio.gather(*clients)
    took = time.monotonic() - t0
    subs_ready = len(ready)
    await asyncio.gather(*subs)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out.put({"lat": stats["lat"], "errors": stats["errors"], "took": took,
             "cpu": ru.ru_utime + ru.ru_stime,
             "sse_bytes": stats["sse_bytes"], "sse_events": stats["sse_events"],
             "subs_ready": subs_ready})


def worker(wid, a, start_at, out):
    asyncio.run(worker_main(wid, a, start_at, out))


def cpu_sec(pid):
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(xs, p):
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def run_load(a, master_pid):
    """Runs the workers; returns their merged results and the RSS samples."""
    out = mp.Queue()
    start_at = time.time() + a.settle
    ps = [mp.Process(target=worker, args=(w, a, start_at, out)) for w in range(a.workers)]
    for p in ps:
        p.start()
    rss, stop = [], threading.Event()

    def sample():
        while not stop.is_set():
            try:
                rss.append(status_kib(master_pid, "VmRSS"))
            except OSError:
                pass
            time.sleep(0.25)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    time.sleep(max(0.0, start_at - time.time()))
    cpu0 = cpu_sec(master_pid)
    res = [out.get(timeout=a.duration + a.settle + 120) for _ in ps]
    res[0]["master_cpu"] = cpu_sec(master_pid) - cpu0
    for p in ps:
        p.join()
    stop.set()
    th.join()
    return res, rss


def report(label, res, rss_start, rss, rss_end, a):
    lat = {}
    for r in res:
        for k, v in r["lat"].items():
            lat.setdefault(k, []).extend(v)
    alll = sorted(x for v in lat.values() for x in v)
    errors = [e for r in res for e in r["errors"]]
    took = max(r["took"] for r in res)
    n = len(alll)
    print("--- %s: %d API clients, %d /v2/events subscribers (%d connected), %d apps, %.1f s"
          % (label, a.clients, a.subs, sum(r["subs_ready"] for r in res), a.apps, took))
    print("requests: %d  (%.0f req/s)   p50 %.1f ms   p99 %.1f ms   errors %d"
          % (n, n / took, pct(alll, 0.5) * 1e3, pct(alll, 0.99) * 1e3, len(errors)))
    for k in ("list", "get", "put", "post", "delete"):
        v = sorted(lat.get(k, []))
        print("  %-6s %7d  p50 %7.1f ms  p99 %7.1f ms" % (k, len(v), pct(v, 0.5) * 1e3,
                                                          pct(v, 0.99) * 1e3))
    print("events delivered: %d (%.1f MB) to the subscribers"
          % (sum(r["sse_events"] for r in res), sum(r["sse_bytes"] for r in res) / 1e6))
    print("CPU during the run: master %.1f s (%.0f%% of one core; %.0f requests per master "
          "CPU second), load generator %.1f s; machine load %s"
          % (res[0]["master_cpu"], 100 * res[0]["master_cpu"] / took,
             n / max(res[0]["master_cpu"], 1e-9), sum(r["cpu"] for r in res),
             open("/proc/loadavg").read().split()[0]))
    print("master RSS: start %.1f MiB, peak %.1f MiB, end %.1f MiB (3 s after), %.1f MiB "
          "(13 s after)" % (rss_start / 1024, max(rss + [rss_start]) / 1024, rss_end / 1024,
                            a.rss_later / 1024))
    for e in errors[:10]:
        print("  error: %s" % e)
    sys.stdout.flush()
    return len(errors)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berth", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--apps", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--subs", type=int, default=1000)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--settle", type=float, default=5.0,
                    help="seconds for the subscribers to connect before the clients start")
    ap.add_argument("--plan-format", default="light", choices=["light", "full"],
                    help="the subscribers' plan-format: light (as marathon-lb asks) or full "
                         "(every deployment event carries the whole root group twice)")
    ap.add_argument("--tls", default="both", choices=["off", "on", "both"])
    ap.add_argument("--certs", help="dir with ca.pem, master.pem/-key.pem, client.pem/-key.pem")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2 * (a.clients + a.subs) + 1024
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, want)), hard))
    if min(hard, want) < want:
        print("warning: ulimit -n is %d, want %d" % (hard, want))
    modes = {"off": [False], "on": [True], "both": [False, True]}[a.tls]
    failed = 0
    for tls in modes:
        failed += one_round(a, tls)
    sys.exit(1 if failed else 0)


def one_round(a, tls):
    tag = "berth-bench-load-%d-%s" % (os.getpid(), "tls" if tls else "plain")
    work = os.path.join(a.work, "tls" if tls else "plain")
    os.makedirs(work, exist_ok=True)
    a.host, a.port = "127.0.0.1", free_port()
    a.ca = a.cert = a.key = None
    targs = []
    if tls:
        a.ca = os.path.join(a.certs, "ca.pem")
        a.cert, a.key = (os.path.join(a.certs, "client.pem"),
                         os.path.join(a.certs, "client-key.pem"))
        targs = ["--tls-cert", os.path.join(a.certs, "master.pem"),
                 "--tls-key", os.path.join(a.certs, "master-key.pem"), "--tls-ca", a.ca]
    # Caps: every connection comes from 127.0.0.1, so the per-address cap (2048) is raised
    # to the total; the global caps (8192 connections, 4096 event streams) suffice.
    conns = a.clients + a.subs + 256
    m = Daemon([a.berth, "master", "--http", "%s:%d" % (a.host, a.port),
                "--store", "sqlite:%s/state.db" % work,
                "--http-max-connections", str(max(8192, conns)),
                "--http-max-connections-per-client", str(conns)] + targs,
               os.path.join(work, "master.log"), tag)
    ctx = ssl_ctx(a)
    scheme = "https" if tls else "http"
    base = "%s://%s:%d" % (scheme, a.host, a.port)

    def call(method, path, body=None):
        async def go():
            c = Conn(a.host, a.port, ctx)
            try:
                return await c.request(method, path, body)
            finally:
                c.close()
        return asyncio.run(go())
    ag = None
    try:
        wait_until(lambda: call("GET", "/ping") == 200, 20, "the master")
        agent_args = [a.berth, "agent", "--master", base, "--http", "%s:%d" % (a.host, free_port()),
                      "--work-dir", os.path.join(work, "agent"),
                      "--resources", "cpus(*):0.5; mem(*):256; disk(*):1000; ports(*):[31000-31100]"]
        if tls:
            agent_args += ["--tls-ca", a.ca, "--tls-cert", a.cert, "--tls-key", a.key]
        ag = Daemon(agent_args, os.path.join(work, "agent.log"), tag)

        async def create():
            sem = asyncio.Semaphore(32)

            async def one(i):
                async with sem:
                    c = Conn(a.host, a.port, ctx)
                    try:
                        st = await c.request("POST", "/v2/apps", app_json("/bench/a%d" % i))
                    finally:
                        c.close()
                    if st != 201:
                        raise SystemExit("bench: POST /bench/a%d answered %d" % (i, st))
            await asyncio.gather(*(one(i) for i in range(a.apps)))
        t0 = time.monotonic()
        asyncio.run(create())
        print("\n%s: %d apps created in %.1f s" % ("TLS (mutual)" if tls else "plain HTTP",
                                                  a.apps, time.monotonic() - t0))
        time.sleep(2)
        rss_start = status_kib(m.p.pid, "VmRSS")
        res, rss = run_load(a, m.p.pid)
        time.sleep(3)  # the connections closed, the stream buffers freed
        rss_end = status_kib(m.p.pid, "VmRSS")
        time.sleep(10)  # and the master's periodic malloc_trim (every 10 s) has run
        a.rss_later = status_kib(m.p.pid, "VmRSS")
        if m.p.poll() is not None:
            print("the master exited: %s" % m.p.returncode)
            return 1
        return report("TLS (mutual) on" if tls else "plain HTTP", res, rss_start, rss,
                      rss_end, a)
    finally:
        if ag:
            ag.stop()
        m.stop()


if __name__ == "__main__":
    main()
