#!/usr/bin/python3
"""The launch benchmark's driver (run by bench/launch/run.sh, which builds what it needs).

Starts a one-machine cluster (`berth dev`, or with --split a separate `berth master` and
`berth agent`), creates one app with N instances whose command appends a line to a shared
marker file and then `exec sleep 3600`, and prints: seconds from the POST until N marker
lines exist and until the API shows N TASK_RUNNING, tasks/s, the daemons' RSS (idle before
the launch and with the N tasks) and the executors' PSS per task. Everything it started is
killed at the end.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchproc import (Daemon, comm, environ, free_port, http, pids,  # noqa: E402
                       pss_kib, status_kib, wait_until)


def mib(kib):
    return kib / 1024.0


def cleanup(tag, work):
    """Kills every process of the run: BENCH_TAG in its environment (daemons, executors,
    tasks), or its command line or cwd inside the work dir."""
    me = os.getpid()
    needle = ("BENCH_TAG=%s" % tag).encode()
    for _ in range(100):
        left = []
        for p in pids():
            if p == me:
                continue
            mine = needle in environ(p)
            if not mine:
                try:
                    mine = os.readlink("/proc/%d/cwd" % p).startswith(work)
                    if not mine:
                        with open("/proc/%d/cmdline" % p, "rb") as f:
                            mine = work.encode() in f.read()
                except OSError:
                    pass
            if mine:
                left.append(p)
        if not left:
            return
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.1)


def remove_cgroups(parent):
    """The cgroups the killed shims left (they were SIGKILLed, so nobody removed them)."""
    root = "/sys/fs/cgroup"
    dirs = [os.path.join(root, parent)] + [os.path.join(root, c, parent) for c in
                                           ("memory", "cpu", "pids", "cpuacct", "blkio")]
    for d in dirs:
        if not os.path.isdir(d):
            continue
        for sub in os.listdir(d):
            if os.path.isdir(os.path.join(d, sub)):
                for _ in range(50):
                    try:
                        os.rmdir(os.path.join(d, sub))
                        break
                    except OSError:
                        time.sleep(0.05)
        try:
            os.rmdir(d)
        except OSError:
            pass


def supports(berth, sub, flag):
    try:
        p = subprocess.run([berth, sub, "--help"], capture_output=True, timeout=10)
        return flag in (p.stdout + p.stderr).decode(errors="replace")
    except (OSError, subprocess.TimeoutExpired):
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berth", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--split", action="store_true", help="separate master and agent processes")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--isolation", default=None,
                    help="the agent's --isolation (with --split), e.g. cgroups,namespaces; "
                         "without it the agent runs with --isolation none (plain processes: "
                         "agents isolate by default)")
    ap.add_argument("--cgroups-parent", default=None,
                    help="the agent's --cgroups-parent (default: one per run, removed after)")
    ap.add_argument("--image-tar", default=None,
                    help="run the tasks in a container: this image (an OCI layout tar naming "
                         "benchimg:1) in the agent's --image-dir (with --split)")
    ap.add_argument("--image-store", default=None,
                    help="the agent's --image-store: empty for a cold cache, one a previous "
                         "run filled for a warm one")
    ap.add_argument("--result", default=None,
                    help="append this run's figures as one JSON line to this file, labelled "
                         "--label (run.sh prints its summary table from them)")
    ap.add_argument("--label", default=None)
    o = ap.parse_args()

    n = o.instances
    o.image_warm = bool(o.image_store and os.path.isdir(os.path.join(o.image_store, "layers"))
                        and os.listdir(os.path.join(o.image_store, "layers")))
    tag = str(uuid.uuid4())
    work = os.path.realpath(o.work)
    os.makedirs(work, exist_ok=True)
    # Per run (run.sh may run the same mode several times in one work dir).
    marker = os.path.join(work, "marker-%s-%s" % ("split" if o.split else "dev", tag[:8]))
    if o.isolation and o.isolation != "none":
        # An isolated task has a private /tmp that holds only the agent's work dir (when that
        # is under /tmp): the marker goes there, where both the task and this script see it.
        marker = os.path.join(work, "agent-" + tag[:8], "marker-split-" + tag[:8])
    resources = ("cpus(*):%d; mem(*):%d; disk(*):100000; ports(*):[31000-32000]"
                 % (max(4, n // 100), max(4096, n * 2)))
    http_port = free_port()
    base = "http://127.0.0.1:%d" % http_port
    daemons = []
    mode = "split" if o.split else "dev"
    if o.isolation and not o.split:
        raise SystemExit("bench: --isolation needs --split")
    try:
        if o.split:
            agent_port = free_port()
            master = Daemon([o.berth, "master", "--http", "127.0.0.1:%d" % http_port,
                             "--store", "sqlite:%s/split-state-%s.db" % (work, tag[:8])],
                            os.path.join(work, "master.log"), tag)
            daemons.append(master)
            wait_until(lambda: http("GET", base + "/ping", timeout=2)[0] == 200, 20, "/ping")
            agent = Daemon([o.berth, "agent", "--master", base, "--http",
                            "127.0.0.1:%d" % agent_port, "--work-dir",
                            os.path.join(work, "agent-" + tag[:8]), "--resources", resources]
                           + (["--isolation", o.isolation, "--cgroups-parent",
                               o.cgroups_parent or "berth-bench-%s" % tag[:8]]
                              if o.isolation else
                              ["--isolation", "none"] if supports(o.berth, "agent", "--isolation")
                              else [])
                           + (["--image-dir", os.path.dirname(os.path.realpath(o.image_tar)),
                               "--image-store", os.path.realpath(o.image_store)]
                              if o.image_tar else []),
                           os.path.join(work, "agent.log"), tag)
            daemons.append(agent)
            master_pid, agent_pid = master.p.pid, agent.p.pid
        else:
            args = [o.berth, "dev", "--data-dir", os.path.join(work, "dev-data"), "--http",
                    "127.0.0.1:%d" % http_port, "--agent-http", "127.0.0.1:%d" % free_port()]
            if supports(o.berth, "dev", "--agent-resources"):
                args += ["--agent-resources", resources]
            if supports(o.berth, "dev", "--agent-isolation"):  # plain processes
                args += ["--agent-isolation", "none"]
            dev = Daemon(args, os.path.join(work, "dev.log"), tag)
            daemons.append(dev)
            master_pid = agent_pid = dev.p.pid

        def agent_active():
            st, body = http("GET", base + "/master/slaves", timeout=2)
            return st == 200 and any(s.get("active") for s in json.loads(body)["slaves"])
        wait_until(agent_active, 20, "an active agent")
        time.sleep(1.0)  # settle before the idle reading (a measurement, not a readiness wait)
        idle_master = status_kib(master_pid, "VmRSS")
        idle_agent = status_kib(agent_pid, "VmRSS")

        app = {"id": "/bench", "cmd": "echo started >> %s; exec sleep 3600" % marker,
               "cpus": 0.001, "mem": 1, "disk": 0, "instances": n, "portDefinitions": [],
               "env": {"BENCH_TAG": tag}}
        sandboxes = os.path.join(work, "agent-" + tag[:8], "sandboxes")
        if o.image_tar:
            # The container sees the sandbox, not the marker: one file per sandbox instead.
            app["cmd"] = 'echo started > "$MESOS_SANDBOX/started"; exec sleep 3600'
            app["container"] = {"type": "DOCKER", "docker": {"image": "benchimg:1"}}
            app["mem"] = 4
        t0 = time.monotonic()
        st, body = http("POST", base + "/v2/apps", app)
        t_ack = time.monotonic() - t0
        if st != 201:
            raise SystemExit("bench: POST /v2/apps -> %d %s" % (st, body[:300]))

        def lines():
            if o.image_tar:
                try:
                    return sum(os.path.exists(os.path.join(sandboxes, d, "started"))
                               for d in os.listdir(sandboxes))
                except FileNotFoundError:
                    return 0
            try:
                with open(marker, "rb") as f:
                    return f.read().count(b"\n")
            except FileNotFoundError:
                return 0
        t_marked = t_running = None
        last_api = 0.0
        while True:
            now = time.monotonic()
            if now - t0 > o.timeout:
                break
            if t_marked is None and lines() >= n:
                t_marked = now - t0
            if t_running is None and now - last_api >= 0.1:
                last_api = now
                st, body = http("GET", base + "/v2/apps/bench")
                if st == 200 and json.loads(body)["app"].get("tasksRunning", 0) >= n:
                    t_running = time.monotonic() - t0
            if t_marked is not None and t_running is not None:
                break
            time.sleep(0.002)

        time.sleep(0.5)
        busy_master = status_kib(master_pid, "VmRSS")
        busy_agent = status_kib(agent_pid, "VmRSS")
        execs = [p for p in pids() if comm(p).startswith("berth-executor")
                 and ("BENCH_TAG=%s" % tag).encode() in environ(p)]
        if not execs:
            execs = [p for p in pids() if comm(p).startswith("berth-executor")]
        psses = [v for v in (pss_kib(p) for p in execs) if v is not None]
        rsses = []
        for p in execs:
            try:
                rsses.append(status_kib(p, "VmRSS"))
            except OSError:
                pass

        print("--- berth %s (%s), %d instances" % (mode, "master + agent in one process"
                                                   if mode == "dev" else
                                                   "separate master and agent", n)
              + (", agent --isolation %s" % o.isolation if o.isolation else "")
              + (", containers (crun) from one image, %s cache" % (
                  "warm" if o.image_warm else "cold") if o.image_tar else ""))
        print("POST answered (app stored)         %8.3f s" % t_ack)
        if t_marked is not None:
            print("%d marker lines (really started)  %8.3f s   %6.0f tasks/s"
                  % (n, t_marked, n / t_marked))
        else:
            print("%d marker lines: only %d after %.0f s" % (n, lines(), o.timeout))
        if t_running is not None:
            print("%d TASK_RUNNING in the API        %8.3f s   %6.0f tasks/s"
                  % (n, t_running, n / t_running))
        else:
            print("%d TASK_RUNNING: not reached in %.0f s" % (n, o.timeout))
        if mode == "dev":
            print("dev RSS (master+agent) idle        %8.1f MiB" % mib(idle_agent))
            print("dev RSS (master+agent), %d tasks %8.1f MiB" % (n, mib(busy_agent)))
        else:
            print("agent RSS idle                     %8.1f MiB" % mib(idle_agent))
            print("agent RSS with %d tasks          %8.1f MiB" % (n, mib(busy_agent)))
            print("master RSS idle                    %8.1f MiB" % mib(idle_master))
            print("master RSS with %d tasks         %8.1f MiB" % (n, mib(busy_master)))
        if psses:
            print("executors' PSS per task            %8.3f MiB (%d berth-executor processes,"
                  " PSS total %.1f MiB, RSS %.2f MiB each)"
                  % (mib(sum(psses) / n), len(psses), mib(sum(psses)),
                     mib(sum(rsses) / max(1, len(rsses)))))
        else:
            print("executors: no berth-executor processes found")
        sys.stdout.flush()
        if o.result:
            with open(o.result, "a") as f:
                f.write(json.dumps({"label": o.label or mode, "n": n, "started": t_marked,
                                    "running": t_running,
                                    "pss_mib": mib(sum(psses) / n) if psses else None})
                        + "\n")
    finally:
        for d in reversed(daemons):
            d.stop()
        if o.image_tar:
            # The shims were killed: their containers and rootfs mounts stay behind.
            for line in open("/proc/self/mountinfo").read().splitlines():
                mnt = line.split()[4]
                if mnt.startswith(work) and mnt.endswith("/bundle/rootfs"):
                    subprocess.run(["umount", "-l", mnt], capture_output=True)
        cleanup(tag, work)
        if o.image_tar:
            p = subprocess.run(["crun", "list", "-q"], capture_output=True, text=True)
            for c in p.stdout.split():
                if c.startswith("berth-bench."):
                    subprocess.run(["crun", "delete", "-f", c], capture_output=True)
        if o.isolation:
            remove_cgroups(o.cgroups_parent or "berth-bench-%s" % tag[:8])


if __name__ == "__main__":
    main()
