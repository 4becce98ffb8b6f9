"""examples/etcd.json: an etcd cluster on berth, scaled 3 -> 5 -> 1 -> 3 with one API call each,
members killed and their agent kill -9'd, and not one key lost (issue 5, "Real data services").

Needs Debian's etcd-server / etcd-client (etcd 3.4: /usr/bin/etcd, etcdctl)."""
import os
import shutil
import subprocess

import pytest

from helpers import (kill_task_processes, load_example, task_pids, wait_indexes, wait_until)

pytestmark = pytest.mark.skipif(not (shutil.which("etcd") and shutil.which("etcdctl")),
                                reason="etcd / etcdctl not installed (Debian etcd-server, "
                                       "etcd-client)")

APP = "/etcd"


def etcdctl(endpoints, *args, timeout=20):
    env = dict(os.environ, ETCDCTL_API="3")
    p = subprocess.run(["etcdctl", "--dial-timeout=2s", "--command-timeout=8s",
                        "--endpoints=" + ",".join(endpoints)] + list(args),
                       env=env, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def endpoints(tasks):
    return ["http://127.0.0.1:%d" % t["ports"][0] for t in tasks.values()]


def members(eps):
    """{name: (id, peerURL, started)} from `member list`, or None if the cluster did not answer."""
    rc, out, _ = etcdctl(eps, "member", "list", "-w", "simple")
    if rc != 0:
        return None
    m = {}
    for line in out.splitlines():
        f = [x.strip() for x in line.split(",")]
        if len(f) >= 4:
            m[f[2] or ("unstarted-" + f[0])] = (f[0], f[3], f[1] == "started")
    return m


def wait_cluster(api, indexes, timeout=90):
    """Waits for exactly these instances running and healthy, the deployment done, and the etcd
    membership = exactly their names, all started. Returns {index: task}."""
    tasks = wait_indexes(api, APP, indexes, timeout=timeout, healthy=True)
    api.wait_no_deployments(timeout=timeout)
    want = sorted("etcd%d" % i for i in indexes)

    def ok():
        m = members(endpoints(tasks))
        return m is not None and sorted(m) == want and all(v[2] for v in m.values())
    wait_until(ok, timeout, interval=0.5, what="etcd members %r" % want)
    return tasks


def write_keys(eps, start, n):
    for i in range(start, start + n):
        rc, out, err = etcdctl(eps, "put", "key%04d" % i, "value%d" % i)
        assert rc == 0 and "OK" in out, (i, out, err)


def check_keys(eps, n, local=False):
    """Every key key0000..key{n-1} reads back with its value (linearizable through the cluster,
    or with local=True serializable from the one endpoint given)."""
    args = ["get", "key", "--prefix", "-w", "simple"]
    if local:
        args.append("--consistency=s")
    rc, out, err = etcdctl(eps, *args)
    assert rc == 0, (out, err)
    lines = out.splitlines()
    got = dict(zip(lines[0::2], lines[1::2]))
    lost = [i for i in range(n) if got.get("key%04d" % i) != "value%d" % i]
    assert not lost, "lost keys: %r (read from %r)" % (lost[:20], eps)
    return len(got)


def wait_replaced(api, old, timeout):
    """Waits until a task other than old runs with old's index."""
    def ok():
        return [t for t in api.running(APP)
                if t.get("index") == old["index"] and t["id"] != old["id"]]
    return wait_until(ok, timeout, interval=0.2, what="instance %d relaunched" % old["index"])


def scale(api, n):
    r = api.put("/v2/apps%s" % APP, {"instances": n})
    assert r.status_code == 200, (r.status_code, r.text)


def test_etcd_scales_and_survives_kills_without_losing_a_key(cluster):
    m = cluster.master()
    # Tasks advertise HOST; the example talks to its peers over loopback.
    a1 = cluster.agent(hostname="127.0.0.1")
    a2 = cluster.agent(hostname="127.0.0.1")
    api = m.api
    r = api.post("/v2/apps", load_example("etcd.json"))
    assert r.status_code == 201, (r.status_code, r.text)

    tasks = wait_cluster(api, [0, 1, 2])
    eps = endpoints(tasks)
    n = 0
    write_keys(eps, n, 30)
    n += 30
    check_keys(eps, n)

    # Each scale is one API call; after each step every key is read back.
    for size, step_keys in ((5, 10), (1, 10), (3, 10)):
        scale(api, size)
        tasks = wait_cluster(api, list(range(size)), timeout=120)
        eps = endpoints(tasks)
        check_keys(eps, n)
        for ep in eps:  # every member holds every key
            wait_until(lambda ep=ep: check_keys([ep], n, local=True), 20,
                       what="all keys on member %s" % ep)
        write_keys(eps, n, step_keys)
        n += step_keys
        check_keys(eps, n)

    # Kill one member's task: it comes back on its volume, as the same member.
    before = members(eps)
    victim = tasks[1]
    assert kill_task_processes(victim["id"])
    wait_replaced(api, victim, 60)
    tasks = wait_cluster(api, [0, 1, 2])
    assert tasks[1]["slaveId"] == victim["slaveId"]
    after = members(endpoints(tasks))
    assert after["etcd1"][0] == before["etcd1"][0], "etcd1 rejoined as a new member: %r" % after
    eps = endpoints(tasks)
    write_keys(eps, n, 5)
    n += 5
    wait_until(lambda: check_keys(["http://127.0.0.1:%d" % tasks[1]["ports"][0]], n, local=True),
               20, what="all keys on the relaunched member")

    # kill -9 the agent of instance 2 (and its task with it: a crash of the machine), then
    # restart the agent: the member comes back there with its data.
    victim = tasks[2]
    agent = a1 if victim["slaveId"] == a1.slave()["id"] else a2
    agent.kill9()
    assert kill_task_processes(victim["id"])
    wait_until(lambda: not task_pids(victim["id"]), 10, what="task processes gone")
    write_keys(endpoints({0: tasks[0], 1: tasks[1]}), n, 5)  # quorum 2 of 3 still writes
    n += 5
    agent.start()
    agent.ready()
    wait_replaced(api, victim, 90)
    tasks = wait_cluster(api, [0, 1, 2])
    assert tasks[2]["slaveId"] == victim["slaveId"]
    after2 = members(endpoints(tasks))
    assert after2["etcd2"][0] == before["etcd2"][0], "etcd2 rejoined as a new member"
    wait_until(lambda: check_keys(["http://127.0.0.1:%d" % tasks[2]["ports"][0]], n, local=True),
               20, what="all keys on the member whose agent restarted")
    check_keys(endpoints(tasks), n)
