#!/usr/bin/env python3
"""bench/dns driver (see bench/README.md): berth's DNS server (bench-dns-sim: the real apps
framework and DNS module over simulated agents) against NSD serving the same names from a
zone file, both on loopback, measured with dnsperf alternately in one run; then again while
berth's tasks are being replaced.

usage: run.py BUILD_DIR [APPS] [SECONDS] [ROUNDS] [CHURN_PER_SEC]"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", p))
            return p
        except OSError:
            continue
        finally:
            t.close()


def answers(port):
    q = b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05mesos\x00\x00\x06\x00\x01"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    try:
        s.sendto(q, ("127.0.0.1", port))
        return len(s.recv(512)) > 12
    except OSError:
        return False
    finally:
        s.close()


def wait(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise SystemExit("bench/dns: timed out waiting for " + what)


def dnsperf(port, queries, seconds, extra=()):
    out = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", queries,
                          "-l", str(seconds), "-c", "4", "-q", "200"] + list(extra),
                         capture_output=True, text=True).stdout
    return out


def qps(port, queries, seconds):
    out = dnsperf(port, queries, seconds)
    m = re.search(r"Queries per second:\s+([\d.]+)", out)
    lost = re.search(r"Queries lost:\s+(\d+)", out)
    codes = re.search(r"Response codes:\s+(.*)", out)
    return float(m.group(1)) if m else 0.0, int(lost.group(1)) if lost else -1, \
        codes.group(1) if codes else "?"


def p99(port, queries, seconds, rate):
    out = dnsperf(port, queries, seconds, ["-Q", str(rate), "-v"])
    lat = sorted(float(l.split()[-1]) for l in out.splitlines()
                 if l.startswith("> ") and re.match(r"^[\d.]+$", l.split()[-1]))
    if not lat:
        return 0.0, 0.0, 0
    return lat[len(lat) // 2] * 1e3, lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3, len(lat)


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    build = sys.argv[1]
    apps = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    secs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    churn = int(sys.argv[5]) if len(sys.argv) > 5 else 200
    work = tempfile.mkdtemp(prefix="berth-bench-dns.")
    procs = []
    try:
        bport, nport = free_port(), free_port()
        sim = subprocess.Popen([os.path.join(build, "bench/dns/bench-dns-sim"), work,
                                str(bport), str(apps), str(churn)],
                               stdout=subprocess.PIPE, text=True)
        procs.append(sim)
        ready = sim.stdout.readline().strip()
        if not ready.startswith("ready"):
            raise SystemExit("bench/dns: bench-dns-sim did not start")
        conf = os.path.join(work, "nsd.conf")
        with open(conf, "w") as f:
            f.write("""server:
    ip-address: 127.0.0.1
    port: %d
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "%s"
    database: ""
    zonelistfile: "%s/zone.list"
    xfrdfile: "%s/xfrd.state"
    pidfile: "%s/nsd.pid"
    logfile: "%s/nsd.log"
    verbosity: 0
remote-control:
    control-enable: no
zone:
    name: "mesos"
    zonefile: "zone"
""" % (nport, work, work, work, work, work))
        nsd = subprocess.Popen(["nsd", "-d", "-c", conf], stdout=subprocess.DEVNULL,
                               stderr=open(os.path.join(work, "nsd.stderr"), "w"))
        procs.append(nsd)
        wait(lambda: answers(nport), 20, "nsd")
        wait(lambda: answers(bport), 5, "berth")
        queries = os.path.join(work, "queries")
        nsdv = subprocess.run(["nsd", "-v"], capture_output=True, text=True).stderr.split("\n")[0]
        print("=== berth DNS benchmark")
        print("date:      %s" % time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        print("machine:   %d cpus, load %s" % (os.cpu_count(),
                                                 open("/proc/loadavg").read().split()[:3]))
        print("zone:      %s; %d apps x 1 task, queries: each app's A and SRV name, "
              "round robin" % (ready, apps))
        print("peers:     berth bench-dns-sim (one event loop) vs %s (server-count 1); "
              "dnsperf 4 clients, %d s per run, %d rounds, alternating" % (nsdv, secs, rounds))

        def phase(title):
            print("--- " + title)
            tot = {"berth": [], "nsd": []}
            for r in range(rounds):
                for name, port in (("berth", bport), ("nsd", nport)):
                    q, lost, codes = qps(port, queries, secs)
                    tot[name].append(q)
                    print("round %d %-5s %9.0f q/s  lost %d  %s" % (r + 1, name, q, lost, codes))
            for name, port in (("berth", bport), ("nsd", nport)):
                p50, p99v, n = p99(port, queries, 3, 5000)
                print("latency %-5s at 5000 q/s: p50 %.3f ms, p99 %.3f ms (%d queries)" %
                      (name, p50, p99v, n))
            b = sum(tot["berth"]) / rounds
            n = sum(tot["nsd"]) / rounds
            print("mean: berth %.0f q/s, nsd %.0f q/s, ratio berth/nsd %.2f" % (b, n, b / n))

        phase("steady: no task changes")
        sim.send_signal(signal.SIGUSR1)
        t0 = time.monotonic()
        phase("while tasks are replaced (%d kills/s asked, each answered TASK_KILLED and "
              "relaunched)" % churn)
        sim.send_signal(signal.SIGUSR2)
        line = sim.stdout.readline().strip()
        el = time.monotonic() - t0
        f = line.split()
        n = int(f[1]) if line.startswith("replaced") else 0
        print("replaced: %d tasks in %.1f s (%.0f/s); ended tasks checked right after their "
              "end was applied: %s, still answered: %s" % (n, el, n / el, f[3], f[5]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
