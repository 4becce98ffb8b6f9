"""A leading master cut off from ZooKeeper by a network partition (issue 13): the leader
runs in its own network namespace, linked to the host (where the 3-node ensemble and two
more masters run) by a veth pair on a private /30. The test takes the link down. The cut-off
leader must stop acting (fenced: leader.h) before another master is elected, and no write
it answers after that may exist, while clients write on both sides of the partition
throughout; every write answered 201 by either side is in the store afterwards, and once the
link is back the old leader rejoins as a standby."""
import datetime
import random
import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests

from conftest import Master
from helpers import Api, app_def, wait_until
from zk_ensemble import ZkEnsemble, available, skip_reason

SESSION = 2.0

WRITER = r'''
import json, sys, time, urllib.request, urllib.error
url, prefix, until, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
i = 0
with open(out, "w") as f:
    while time.time() < until:
        app = "%s-%d" % (prefix, i)
        i += 1
        body = json.dumps({"id": app, "cmd": "sleep 1", "instances": 0, "cpus": 0.1,
                           "mem": 16}).encode()
        req = urllib.request.Request(url + "/v2/apps", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        t0 = time.time()
        try:
            code = urllib.request.urlopen(req, timeout=1).status
        except urllib.error.HTTPError as e:
            code = e.code
        except Exception:
            code = 0
        f.write("%f %f %d %s\n" % (t0, time.time(), code, app))
        f.flush()
        time.sleep(0.02)
'''


def sh(*args):
    subprocess.run(args, check=True, capture_output=True, timeout=20)


@pytest.fixture
def netns_link():
    """A network namespace linked to the host by a veth pair on a private /30:
    (ns, host-side link, ns address, host address)."""
    tag = uuid.uuid4().hex[:6]
    ns, hif, nif = "itest-ha-%s" % tag, "bh%sh" % tag, "bh%sn" % tag
    net = "10.213.%d" % random.randint(1, 250)
    host_addr, ns_addr = net + ".1", net + ".2"
    try:
        sh("ip", "netns", "add", ns)
    except (subprocess.CalledProcessError, FileNotFoundError, OSError) as e:
        pytest.skip("cannot create network namespaces here (needs root and iproute2): %s"
                    % getattr(e, "stderr", e))
    try:
        sh("ip", "link", "add", hif, "type", "veth", "peer", "name", nif)
        sh("ip", "link", "set", nif, "netns", ns)
        sh("ip", "addr", "add", host_addr + "/30", "dev", hif)
        sh("ip", "link", "set", hif, "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", ns_addr + "/30", "dev", nif)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", nif, "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        yield ns, hif, ns_addr, host_addr
    finally:
        subprocess.run(["ip", "link", "del", hif], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@pytest.fixture
def zk_any(tmp_path_factory):
    """The ensemble taking clients on every address (the namespace reaches it by the veth)."""
    if not available:
        pytest.skip(skip_reason)
    ens = ZkEnsemble(tmp_path_factory.mktemp("zk"), 3, client_addr="0.0.0.0")
    try:
        ens.start()
        yield ens
    finally:
        ens.stop()


def leader_of(url):
    try:
        r = requests.get(url + "/v2/leader", timeout=1)
    except requests.RequestException:
        return None
    return r.json().get("leader") if r.status_code == 200 else None


def log_time(line):
    """Seconds since the epoch of a berth log line ("2026-…T…Z WARN …")."""
    ts = line.split()[0]
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def host_writer(url, prefix, until, rows):
    s = requests.Session()
    i = 0
    while time.time() < until:
        app = "%s-%d" % (prefix, i)
        i += 1
        t0 = time.time()
        try:
            code = s.post(url + "/v2/apps", json=app_def(app, "sleep 1", instances=0),
                          timeout=1).status_code
        except requests.RequestException:
            code = 0
        rows.append((t0, time.time(), code, app))
        time.sleep(0.02)


def test_partitioned_leader_stops_before_another_is_elected(cluster, zk_any, netns_link):
    ens = zk_any
    ns, hif, ns_addr, host_addr = netns_link
    zk_from_ns = "zk://%s/berth" % ",".join("%s:%d" % (host_addr, n.client_port)
                                            for n in ens.nodes)
    # m1, the leader, in the namespace: reachable from the host at ns_addr, from inside the
    # namespace at 127.0.0.1 (also while the link is down).
    m1 = Master(cluster, "master-ns", agent_timeout=60, bind="0.0.0.0", extra=[
        "--store", zk_from_ns, "--zk-session-timeout", str(SESSION), "--hostname", ns_addr])
    m1.args = ["ip", "netns", "exec", ns] + m1.args
    m1.addr = "%s:%d" % (ns_addr, m1.port)
    m1.url = "http://" + m1.addr
    m1.api = Api(m1.url)
    cluster._add(m1).start()
    m1.ready()
    wait_until(lambda: leader_of(m1.url) == m1.addr, 15, what="m1 leads")
    others = [cluster.master(agent_timeout=60, extra=[
        "--store", ens.url("/berth"), "--zk-session-timeout", str(SESSION),
        "--hostname", "127.0.0.1"]) for _ in range(2)]
    for m in others:
        wait_until(lambda m=m: leader_of(m.url) == m1.addr, 10,
                   what="%s names m1" % m.name)
    assert m1.api.post("/v2/apps", app_def("/part/before", "sleep 1",
                                           instances=0)).status_code == 201

    # Writers on both sides for the whole partition, and a watch on who leads.
    t_end = time.time() + 3 + 4 * SESSION + 4
    ns_out = cluster.workdir / "ns-writes.txt"
    script = cluster.workdir / "writer.py"
    script.write_text(WRITER)
    ns_w = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, str(script),
                             "http://127.0.0.1:%d" % m1.port, "/part/ns", str(t_end),
                             str(ns_out)])
    host_rows = []
    hw = threading.Thread(target=host_writer, args=(others[0].url, "/part/host", t_end,
                                                    host_rows))
    hw.start()
    elected = {}

    def watch():
        while time.time() < t_end:
            for m in others:
                ld = leader_of(m.url)
                if ld and ld != m1.addr and "t" not in elected:
                    elected.update(t=time.time(), leader=ld)
            time.sleep(0.02)
    wt = threading.Thread(target=watch)
    wt.start()

    time.sleep(1.5)
    t_cut = time.time()
    sh("ip", "link", "set", hif, "down")
    try:
        wait_until(lambda: "t" in elected, SESSION * 4 + 10, what="a master elected on the "
                   "host side")
    finally:
        time.sleep(1.0)
        sh("ip", "link", "set", hif, "up")
    hw.join(30)
    wt.join(30)
    assert ns_w.wait(30) == 0

    fence_lines = [ln for ln in m1.stderr_text().splitlines()
                   if "not heard by ZooKeeper" in ln]
    assert fence_lines, m1.stderr_text()[-3000:]
    t_fenced = log_time(fence_lines[0])
    print("cut at 0; m1 fenced at %.2fs; another master elected at %.2fs"
          % (t_fenced - t_cut, elected["t"] - t_cut))
    assert t_cut < t_fenced < elected["t"], (t_cut, t_fenced, elected)

    ns_rows = []
    for ln in ns_out.read_text().splitlines():
        t0, t1, code, app = ln.split()
        ns_rows.append((float(t0), float(t1), int(code), app))
    # m1 answered no write it started after it fenced itself.
    late = [r for r in ns_rows if r[2] == 201 and r[0] > t_fenced]
    assert not late, late
    assert any(r[2] == 201 for r in ns_rows), "no write on m1 before the cut"
    assert any(r[2] == 201 and r[0] > elected["t"] for r in host_rows), \
        "the new leader accepted no write"

    # Healed: m1 learns its session expired and rejoins as a standby of the new leader.
    new = elected["leader"]
    wait_until(lambda: leader_of(m1.url) == new, 30, what="m1 a standby of %s" % new)
    assert "restarting as a standby" in m1.stderr_text()
    leader = [m for m in others if m.addr == new][0]
    ids = {a["id"] for a in leader.api.get("/v2/apps").json()["apps"]}
    answered = {r[3] for r in ns_rows + host_rows if r[2] == 201} | {"/part/before"}
    missing = sorted(answered - ids)
    assert not missing, "answered 201 but not in the store: %r" % missing
