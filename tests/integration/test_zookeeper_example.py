"""examples/zookeeper.json: a ZooKeeper 3.8 ensemble run as a berth app (issue 19, "Examples
that run for real"): server ids from instance indexes, membership changed by ZooKeeper's own
dynamic reconfiguration on every scale, scaled 3 -> 5 -> 3 with one API call each and a member
killed, and not one znode lost. Read and written with kazoo, as a client would.

Needs Debian's zookeeper (java, /usr/share/java/zookeeper.jar) and python3-kazoo."""
import logging
import os

import pytest

from helpers import kill_task_processes, load_example, wait_indexes, wait_until

try:
    from kazoo.client import KazooClient
except ImportError:  # pragma: no cover - install-deps.sh --test installs it
    KazooClient = None

pytestmark = pytest.mark.skipif(
    KazooClient is None or not os.path.exists("/usr/share/java/zookeeper.jar"),
    reason="ZooKeeper or kazoo not installed (Debian zookeeper, python3-kazoo)")

APP = "/zookeeper"
logging.getLogger("kazoo").setLevel(logging.CRITICAL)


def hosts(tasks):
    return ",".join("127.0.0.1:%d" % t["ports"][0] for t in tasks.values())


def client(tasks):
    zk = KazooClient(hosts=hosts(tasks), timeout=10, connection_retry={"max_tries": 5})
    zk.start(timeout=30)
    return zk


def ensemble(tasks):
    """{server id: (quorum port, election port, role)} of the ensemble's committed configuration,
    as one member reports it (kazoo reads /zookeeper/config), or None."""
    try:
        zk = client(tasks)
    except Exception:  # noqa: BLE001 - not serving yet
        return None
    try:
        zk.sync("/zookeeper/config")
        data, _ = zk.get("/zookeeper/config")
    except Exception:  # noqa: BLE001
        return None
    finally:
        zk.stop()
        zk.close()
    out = {}
    for line in data.decode().splitlines():
        if line.startswith("server."):
            sid, addr = line[len("server."):].split("=", 1)
            f = addr.split(";")[0].split(":")
            out[int(sid)] = (int(f[1]), int(f[2]), f[3])
    return out


def wait_ensemble(api, indexes, timeout=180):
    """Waits for exactly these instances running and healthy and the ensemble's configuration =
    exactly their servers (id index+1, the task's own quorum and election ports, participants)."""
    tasks = wait_indexes(api, APP, indexes, timeout=timeout, healthy=True)
    api.wait_no_deployments(timeout=timeout)
    want = {i + 1: (t["ports"][1], t["ports"][2], "participant") for i, t in tasks.items()}
    wait_until(lambda: ensemble(tasks) == want, timeout, interval=1,
               what="ZooKeeper configuration %r" % want)
    return tasks


def write(tasks, start, n):
    zk = client(tasks)
    try:
        zk.ensure_path("/data")
        for i in range(start, start + n):
            zk.create("/data/k%04d" % i, b"v%d" % i)
    finally:
        zk.stop()
        zk.close()


def check(tasks, n):
    """Every znode /data/k0000../data/k{n-1} reads back with its value from every member
    (each read after a sync, on a connection to that member alone)."""
    for t in tasks.values():
        zk = KazooClient(hosts="127.0.0.1:%d" % t["ports"][0], timeout=10)
        zk.start(timeout=30)
        try:
            zk.sync("/data")
            lost = [i for i in range(n) if not zk.exists("/data/k%04d" % i)
                    or zk.get("/data/k%04d" % i)[0] != b"v%d" % i]
            assert not lost, "member %s lost znodes %r" % (t["id"], lost[:20])
        finally:
            zk.stop()
            zk.close()


def scale(api, n):
    r = api.put("/v2/apps%s" % APP, {"instances": n})
    assert r.status_code == 200, (r.status_code, r.text)


def test_zookeeper_ensemble_scales_by_reconfiguration_without_losing_a_znode(cluster):
    m = cluster.master()
    cluster.agent(hostname="127.0.0.1")
    cluster.agent(hostname="127.0.0.1")
    api = m.api
    r = api.post("/v2/apps", load_example("zookeeper.json"))
    assert r.status_code == 201, (r.status_code, r.text)

    tasks = wait_ensemble(api, [0, 1, 2])
    n = 0
    write(tasks, n, 20)
    n += 20
    check(tasks, n)

    for size in (5, 3):
        scale(api, size)
        tasks = wait_ensemble(api, list(range(size)))
        check(tasks, n)
        write(tasks, n, 10)
        n += 10
        check(tasks, n)

    # A member's task killed: it comes back on its volume and is a participant again.
    victim = tasks[1]
    assert kill_task_processes(victim["id"])
    wait_until(lambda: [t for t in api.running(APP)
                        if t.get("index") == 1 and t["id"] != victim["id"]], 90,
               interval=0.5, what="instance 1 relaunched")
    tasks = wait_ensemble(api, [0, 1, 2])
    assert tasks[1]["slaveId"] == victim["slaveId"]
    write(tasks, n, 5)
    n += 5
    check(tasks, n)
