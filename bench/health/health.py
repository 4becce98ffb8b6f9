#!/usr/bin/python3
"""Health-check benchmark (issue 4): N tasks on one agent, each a tiny HTTP server with an
HTTP health check every second, measured over a window: the agent's CPU (% of one core, from
/proc/PID/stat utime+stime deltas) and RSS, and the executors' (shims') total CPU and PSS.

Starts a separate `berth master` and `berth agent`, creates one app, waits until every task
is healthy, measures, deletes the app and kills every process it started, by pid (each is
found by a BENCH_TAG in its environment or the work dir in its command line).
"""
import argparse
import json
import os
import signal
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchproc import (Daemon, comm, environ, free_port, http, pids,  # noqa: E402
                       pss_kib, status_kib, wait_until)

TCK = os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    return s[s.rindex(")") + 2:].split()  # fields from 3 on


def cpu_ticks(pid):
    try:
        f = stat_fields(pid)
        return int(f[11]) + int(f[12])  # utime, stime (fields 14, 15)
    except (OSError, ValueError, IndexError):
        return None


def ppid(pid):
    try:
        return int(stat_fields(pid)[1])
    except (OSError, ValueError, IndexError):
        return None


def tagged(tag, work):
    me = os.getpid()
    needle = ("BENCH_TAG=%s" % tag).encode()
    out = []
    for p in pids():
        if p == me:
            continue
        mine = needle in environ(p)
        if not mine:
            try:
                with open("/proc/%d/cmdline" % p, "rb") as f:
                    mine = work.encode() in f.read()
            except OSError:
                pass
        if mine:
            out.append(p)
    return out


def cleanup(tag, work):
    """SIGKILLs, by pid, every process of this run that is still there."""
    for _ in range(100):
        left = tagged(tag, work)
        if not left:
            return
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.1)


def shims(agent_pid):
    """The agent's berth-executor processes other than its fork server."""
    out = []
    for p in pids():
        if comm(p) != "berth-executor":
            continue
        pp = ppid(p)
        if pp == agent_pid:
            continue  # the fork server
        if pp is not None and comm(pp) == "berth-executor" and ppid(pp) == agent_pid:
            out.append(p)
    return out


def health_files(work):
    d = os.path.join(work, "agent", "health")
    alive = 0
    try:
        for name in os.listdir(d):
            if name.startswith("."):
                continue
            try:
                with open(os.path.join(d, name)) as f:
                    alive += any(l.startswith("check=0 1 ") for l in f)
            except OSError:
                pass
    except OSError:
        pass
    return alive


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berth", required=True)
    ap.add_argument("--server", required=True, help="the tiny HTTP server binary")
    ap.add_argument("--work", required=True)
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--window", type=float, default=60.0)
    o = ap.parse_args()
    n, work = o.instances, o.work
    tag = uuid.uuid4().hex
    daemons = []
    http_port, agent_port = free_port(), free_port()
    base = "http://127.0.0.1:%d" % http_port
    resources = "cpus(*):%d; mem(*):%d; disk(*):10000; ports(*):[20000-%d]" % (
        n, 4 * n + 1024, 20000 + 2 * n + 100)
    try:
        master = Daemon([o.berth, "master", "--http", "127.0.0.1:%d" % http_port,
                         "--store", "sqlite:%s/state.db" % work],
                        os.path.join(work, "master.log"), tag)
        daemons.append(master)
        time.sleep(0.2)
        agent = Daemon([o.berth, "agent", "--master", base, "--http",
                        "127.0.0.1:%d" % agent_port, "--work-dir",
                        os.path.join(work, "agent"), "--resources", resources,
                        # plain processes (agents isolate by default): the server is in
                        # the work dir under /tmp, which an isolated task does not see
                        "--isolation", "none"],
                       os.path.join(work, "agent.log"), tag)
        daemons.append(agent)
        apid = agent.p.pid

        def agent_active():
            st, body = http("GET", base + "/master/slaves", timeout=2)
            return st == 200 and json.loads(body).get("slaves")
        wait_until(agent_active, 30, "an active agent")
        idle_rss = status_kib(apid, "VmRSS")

        app = {"id": "/bench-health", "cmd": "exec %s $PORT0" % o.server,
               "instances": n, "cpus": 0.001, "mem": 1, "portDefinitions": [{"port": 0}],
               "healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0,
                                 "gracePeriodSeconds": 60, "intervalSeconds": 1,
                                 "timeoutSeconds": 1, "delaySeconds": 0,
                                 "maxConsecutiveFailures": 3}]}
        t0 = time.monotonic()
        st, body = http("POST", base + "/v2/apps", app)
        if st not in (200, 201):
            raise SystemExit("bench: POST /v2/apps -> %d %s" % (st, body[:300]))

        def all_healthy():
            st, body = http("GET", base + "/v2/apps/bench-health", timeout=5)
            a = json.loads(body).get("app", {})
            files = health_files(work)
            return (a.get("tasksHealthy", 0) >= n or files >= n) and (a, files)
        a, files = wait_until(all_healthy, 300, "%d healthy tasks" % n)
        t_healthy = time.monotonic() - t0
        time.sleep(3)  # let the launch burst settle

        sh = shims(apid)
        a0 = cpu_ticks(apid)
        s0 = {p: cpu_ticks(p) for p in sh}
        m0 = cpu_ticks(master.p.pid)
        w0 = time.monotonic()
        max_rss = 0
        while time.monotonic() - w0 < o.window:
            max_rss = max(max_rss, status_kib(apid, "VmRSS"))
            time.sleep(1)
        dt = time.monotonic() - w0
        a1 = cpu_ticks(apid)
        m1 = cpu_ticks(master.p.pid)
        s1 = {p: cpu_ticks(p) for p in sh}
        rss = status_kib(apid, "VmRSS")
        max_rss = max(max_rss, rss)
        sh_cpu = sum(s1[p] - s0[p] for p in sh if s0[p] is not None and s1[p] is not None)
        pss = [pss_kib(p) for p in sh]
        pss = [x for x in pss if x]
        st, body = http("GET", base + "/v2/apps/bench-health", timeout=5)
        a = json.loads(body).get("app", {})

        pct = lambda ticks: 100.0 * ticks / TCK / dt
        print("--- berth health checks: %d tasks on one agent, HTTP check every 1 s" % n)
        print("tasks healthy after POST             %8.1f s" % t_healthy)
        print("app after the window                 running %s, healthy %s, unhealthy %s"
              % (a.get("tasksRunning"), a.get("tasksHealthy"), a.get("tasksUnhealthy")))
        print("measured window                      %8.1f s (%d checks/s expected)" % (dt, n))
        print("agent CPU                            %8.2f %% of one core  (target < 10 %%)"
              % pct(a1 - a0))
        print("agent RSS idle / end / max           %6.1f / %.1f / %.1f MiB  (target < 16 MiB)"
              % (idle_rss / 1024, rss / 1024, max_rss / 1024))
        print("master CPU                           %8.2f %% of one core" % pct(m1 - m0))
        print("executors (%d shims) CPU total       %8.2f %% of one core (%.4f %% each)"
              % (len(sh), pct(sh_cpu), pct(sh_cpu) / max(1, len(sh))))
        if pss:
            print("executors PSS total / per shim       %6.1f MiB / %.0f KiB"
                  % (sum(pss) / 1024, sum(pss) / len(pss)))
        sys.stdout.flush()
    finally:
        try:
            http("DELETE", base + "/v2/apps/bench-health?force=true", timeout=10)
            wait_until(lambda: len(tagged(tag, work)) <= 3 + 2, 60, "the tasks to end")
        except (SystemExit, OSError, ValueError):
            pass
        for d in reversed(daemons):
            d.stop()
        cleanup(tag, work)


if __name__ == "__main__":
    main()
