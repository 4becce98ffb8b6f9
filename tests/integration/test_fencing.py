"""Never two writers (issue 5): an agent cut off from the master kills its volume-holding
tasks after the lease; the master relaunches the instance elsewhere only after the lease plus
a margin. A probe in the task records every writer of the volume."""

import subprocess
import time
import uuid

import pytest

from helpers import app_def, task_pids, wait_replaced, wait_until

AGENT_TIMEOUT = 4  # s; the lease is half of it

# Appends "start <host> <task> <time>" then a heartbeat line every 100 ms to the volume.
PROBE = ('echo "start $HOST $MESOS_TASK_ID $(date +%s.%N)" >> vol/probe; '
         'while :; do echo "hb $HOST $MESOS_TASK_ID $(date +%s.%N)" >> vol/probe; '
         'sleep 0.1; done')


def probe_app(driver):
    a = app_def("/probe", PROBE, container={"type": "MESOS", "volumes": [
        {"containerPath": "vol", "mode": "RW", "external": {
            "name": "fenced", "provider": "dvdi", "options": {"dvdi/driver": driver}}}]})
    return a


def records(path):
    """[(kind, host, task, t)] from the probe file."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) == 4:
                    out.append((p[0], p[1], p[2], float(p[3])))
    except OSError:
        pass
    return out


def check_one_writer_at_a_time(recs):
    """Each writer's lines are contiguous in time: the previous writer's last line is before
    the next writer's first line."""
    spans = {}
    order = []
    for kind, _host, task, t in recs:
        if task not in spans:
            spans[task] = [t, t]
            order.append(task)
        spans[task][0] = min(spans[task][0], t)
        spans[task][1] = max(spans[task][1], t)
    for a, b in zip(order, order[1:]):
        assert spans[a][1] < spans[b][0], (
            "two writers: %s wrote until %.3f, %s started at %.3f"
            % (a, spans[a][1], b, spans[b][0]))
    return spans, order


def sh(*args):
    subprocess.run(args, check=True, capture_output=True, timeout=20)


@pytest.fixture
def netns_pair():
    """Two network namespaces, each linked to the host by a veth pair with link-local
    addresses: host 169.254.1X.1/24 <-> ns 169.254.1X.2/24. Yields
    [(ns, host-side link, ns address, host address)]."""
    tag = uuid.uuid4().hex[:6]
    made = []
    try:
        for i, net in enumerate(("169.254.10", "169.254.11")):
            ns = "itest-%s-%d" % (tag, i)
            host_if, ns_if = "bt%s%dh" % (tag, i), "bt%s%dn" % (tag, i)
            try:
                sh("ip", "netns", "add", ns)
            except (subprocess.CalledProcessError, FileNotFoundError, OSError) as e:
                pytest.skip("cannot create network namespaces here: %s"
                            % getattr(e, "stderr", e))
            made.append((ns, host_if))
            sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
            sh("ip", "link", "set", ns_if, "netns", ns)
            sh("ip", "addr", "add", net + ".1/24", "dev", host_if)
            sh("ip", "link", "set", host_if, "up")
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", net + ".2/24", "dev", ns_if)
            sh("ip", "netns", "exec", ns, "ip", "link", "set", ns_if, "up")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        yield [(ns, hif, "169.254.1%d.2" % i, "169.254.1%d.1" % i)
               for i, (ns, hif) in enumerate(made)]
    finally:
        for ns, hif in made:
            subprocess.run(["ip", "link", "del", hif], capture_output=True)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_partitioned_agent_is_fenced_before_the_instance_moves(cluster, netns_pair):
    m = cluster.master(agent_timeout=AGENT_TIMEOUT, bind="0.0.0.0")
    plug = cluster.volume_plugin()  # on the host; its root is visible from both namespaces
    extra = ["--volume-plugin-dir", str(plug.plugin_dir)]
    agents = []
    for i, (ns, _hif, ns_addr, host_addr) in enumerate(netns_pair):
        agents.append(cluster.agent(hostname="ns%d" % i, extra=extra,
                                    netns=(ns, ns_addr, host_addr)))
    api = m.api
    assert api.post("/v2/apps", probe_app(plug.driver)).status_code == 201
    t = api.wait_running("/probe", 1)[0]
    probe = plug.root / "fenced" / "probe"
    wait_until(lambda: len(records(probe)) > 5, 10, what="probe heartbeats")
    i = int(t["host"][2:])
    cut_if = netns_pair[i][1]

    t_cut = time.time()
    sh("ip", "link", "set", cut_if, "down")
    try:
        new = wait_replaced(api, "/probe", t, 30)
        assert new["host"] != t["host"], new
        wait_until(lambda: any(r[2] == new["id"] for r in records(probe)), 10,
                   what="the new writer's first line")
        spans, order = check_one_writer_at_a_time(records(probe))
        # the old writer was stopped by its own agent, about a lease after the cut
        assert spans[t["id"]][1] < t_cut + AGENT_TIMEOUT / 2 + 1.5, (spans, t_cut)
        assert not task_pids(t["id"])
    finally:
        sh("ip", "link", "set", cut_if, "up")

    # Healed: the old agent reconnects; nothing runs twice.
    wait_until(lambda: agents[i].slave() and agents[i].slave().get("active"), 20,
               what="the cut-off agent back")
    time.sleep(2)
    run = api.running("/probe")
    assert [x["id"] for x in run] == [new["id"]], run
    assert not task_pids(t["id"])
    recs = records(probe)
    spans, order = check_one_writer_at_a_time(recs)
    assert order == [t["id"], new["id"]], order
    assert recs[-1][2] == new["id"]
    assert api.delete("/v2/apps/probe").status_code == 200


def test_agent_process_gone_still_no_two_writers(cluster):
    """The agent process dies (kill -9) while its task holds an external volume: the task must
    not keep writing once the master starts the instance on another agent."""
    m = cluster.master(agent_timeout=AGENT_TIMEOUT)
    plug = cluster.volume_plugin()
    extra = ["--volume-plugin-dir", str(plug.plugin_dir)]
    a1 = cluster.agent(hostname="h1", extra=extra)
    a2 = cluster.agent(hostname="h2", extra=extra)
    api = m.api
    assert api.post("/v2/apps", probe_app(plug.driver)).status_code == 201
    t = api.wait_running("/probe", 1)[0]
    probe = plug.root / "fenced" / "probe"
    wait_until(lambda: len(records(probe)) > 5, 10, what="probe heartbeats")
    (a1 if t["host"] == "h1" else a2).kill9()
    new = wait_replaced(api, "/probe", t, 30)
    wait_until(lambda: any(r[2] == new["id"] for r in records(probe)), 10,
               what="the new writer's first line")
    time.sleep(1)
    check_one_writer_at_a_time(records(probe))
    assert api.delete("/v2/apps/probe").status_code == 200

