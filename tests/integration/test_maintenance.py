"""Agents marked gone and machines in maintenance (docs/operator-api.md, Mesos's
markGone and Machine DOWN): MARK_AGENT_GONE and DRAIN_AGENT with mark_gone end the
agent's tasks as TASK_GONE_BY_OPERATOR, shut the agent down and keep it out for good (a
restarted master too); START_MAINTENANCE puts a machine DOWN (its agents' tasks killed,
the agent refused until STOP_MAINTENANCE brings it UP)."""
import json
import os
import time

import requests

from mesos_client import JSON, Framework, command_task
from helpers import task_pids, wait_until


def op(m, body):
    return requests.post(m.url + "/api/v1", data=json.dumps(body), headers=JSON, timeout=10)


def payload(m, body):
    r = op(m, body)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()[body["type"].lower()]


def agent_hosts(m):
    return {a["agent_info"]["hostname"] for a in payload(m, {"type": "GET_AGENTS"}).get("agents", [])}


def berth_state(m, aid):
    for s in m.api.slaves():
        if s["id"] == aid:
            return s["berth_state"]
    return None


def gone(m, aid):
    return op(m, {"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {"value": aid}}})


def launch_on(fw, aid, task_id, other_aid):
    """Launches task_id on agent aid, and declines the other agent's offer for an hour so
    that the apps framework may place there (an outstanding offer holds the agent)."""
    o = fw.wait_event(lambda e: e["type"] == "OFFERS" and any(
        x["agent_id"]["value"] == aid for x in e["offers"]["offers"]), 15, "offer of " + aid)
    o = [x for x in o["offers"]["offers"] if x["agent_id"]["value"] == aid][0]
    assert fw.accept([o["id"]["value"]], [command_task(task_id, o, "sleep 600")]) \
        .status_code == 202
    fw.wait_update(task_id, "TASK_RUNNING")

    def other():
        for e in list(fw.all_events):
            for x in (e.get("offers") or {}).get("offers", []) if e["type"] == "OFFERS" else []:
                if x["agent_id"]["value"] == other_aid:
                    return x
        return None
    x = wait_until(other, 15, what="an offer of the other agent")
    assert fw.decline([x["id"]["value"]], refuse_seconds=3600).status_code == 202


def test_mark_agent_gone(cluster):
    m = cluster.master()
    a = cluster.agent(m, hostname="gone-a")
    b = cluster.agent(m, hostname="gone-b")
    a.ready(), b.ready()
    aid = a.slave()["id"]
    r = m.api.post("/v2/apps", {"id": "/keep", "cmd": "sleep 600", "cpus": 0.1, "mem": 16,
                                "instances": 4, "constraints": [["hostname", "GROUP_BY"]]})
    assert r.status_code == 201, r.text
    tasks = m.api.wait_running("/keep", 4)
    on_a = [t["id"] for t in tasks if t["host"] == "gone-a"]
    assert on_a, tasks
    fw = Framework(m.url, failover_timeout=60, capabilities=("PARTITION_AWARE",))
    try:
        assert fw.subscribe()["type"] == "SUBSCRIBED"
        o = fw.wait_event(lambda e: e["type"] == "OFFERS" and any(
            x["agent_id"]["value"] == aid for x in e["offers"]["offers"]), 15, "offer of gone-a")
        o = [x for x in o["offers"]["offers"] if x["agent_id"]["value"] == aid][0]
        r = fw.accept([o["id"]["value"]], [command_task("gone-t1", o, "sleep 600")])
        assert r.status_code == 202, r.text
        fw.wait_update("gone-t1", "TASK_RUNNING")
        pids = task_pids("gone-t1") + [p for t in on_a for p in task_pids(t)]
        assert pids

        for body, code, word in (({}, 400, "agent_id"),
                                 ({"agent_id": {"value": "nope"}}, 404, "nope")):
            r = op(m, {"type": "MARK_AGENT_GONE", "mark_agent_gone": body})
            assert r.status_code == code and word in r.text, (body, r.status_code, r.text)
        assert "gone-a" in agent_hosts(m)

        r = gone(m, aid)
        assert r.status_code == 200, r.text
        st = fw.wait_update("gone-t1", "TASK_GONE_BY_OPERATOR")
        assert st["reason"] == "REASON_SLAVE_REMOVED_BY_OPERATOR", st
        # The agent is told to shut down: it kills its tasks and exits.
        assert a.wait_exit(15) == 0, a.stderr_text()[-2000:]
        a.expect_dead = True
        wait_until(lambda: not any(os.path.exists("/proc/%d" % p) for p in pids), 10,
                   what="the gone agent's tasks killed")
        assert "marked gone" in a.stderr_text()
        assert not (a.work_dir / "agent_id").exists()
        assert agent_hosts(m) == {"gone-b"}
        assert berth_state(m, aid) == "gone"
        # Its app instances start again on the other agent.
        tasks = m.api.wait_running("/keep", 4, timeout=30)
        assert {t["host"] for t in tasks} == {"gone-b"}, tasks
        # Again: 200, nothing changes. Other calls on it are refused.
        assert gone(m, aid).status_code == 200
        for call in ({"type": "DRAIN_AGENT", "drain_agent": {"agent_id": {"value": aid}}},
                     {"type": "REACTIVATE_AGENT",
                      "reactivate_agent": {"agent_id": {"value": aid}}}):
            r = op(m, call)
            assert r.status_code == 400 and "marked gone" in r.text, (call, r.text)
    finally:
        fw.disconnect()

    # Durable: a restarted master still refuses the agent's id, and the agent stops again.
    m.restart()
    b.ready(timeout=30)
    assert berth_state(m, aid) == "gone"
    (a.work_dir / "agent_id").write_text(aid)
    a.start()
    assert a.wait_exit(20) == 0, a.stderr_text()[-2000:]
    a.expect_dead = True
    assert "gone-a" not in agent_hosts(m)
    st = requests.get(m.url + "/master/state", timeout=5).json()
    assert st["unreachable_slaves"] == 0 and len(st["slaves"]) == 1
    # Started afresh (no agent id), the machine is a new agent.
    a.start()
    wait_until(lambda: "gone-a" in agent_hosts(m), 20, what="gone-a registered anew")
    assert a.alive()
    new = [s for s in m.api.slaves() if s["hostname"] == "gone-a" and s["id"] != aid]
    assert len(new) == 1 and new[0]["active"] is True, new
    rc, out, err = cluster.cli("node", "list")
    assert rc == 0, err
    assert [ln.split()[2] for ln in out.splitlines()[1:] if ln.split()[0] == aid] == ["gone"], out
    # `berth node gone HOST`: the hostname names the live agent (the gone one is skipped).
    rc, out, err = cluster.cli("node", "gone", "gone-a")
    assert rc == 0 and "marked gone" in out and new[0]["id"] in out, (out, err)
    assert a.wait_exit(15) == 0, a.stderr_text()[-2000:]
    a.expect_dead = True
    rc, out, err = cluster.cli("node", "gone", "nope")
    assert rc == 1 and "nope" in err


def test_drain_mark_gone(cluster):
    m = cluster.master()
    a = cluster.agent(m, hostname="dg-a").ready()
    aid = a.slave()["id"]
    fw = Framework(m.url, failover_timeout=60, capabilities=("PARTITION_AWARE",))
    try:
        assert fw.subscribe()["type"] == "SUBSCRIBED"
        o = fw.wait_offers()[0]
        r = fw.accept([o["id"]["value"]], [command_task("dg-t1", o, "sleep 600")])
        assert r.status_code == 202, r.text
        fw.wait_update("dg-t1", "TASK_RUNNING")
        r = op(m, {"type": "DRAIN_AGENT", "drain_agent": {
            "agent_id": {"value": aid}, "mark_gone": True,
            "max_grace_period": {"seconds": 0}}})
        assert r.status_code == 200, r.text
        # As a Mesos agent reports a kill when the drain marks it gone.
        st = fw.wait_update("dg-t1", "TASK_GONE_BY_OPERATOR")
        assert st["reason"] == "REASON_AGENT_DRAINING", st
        # Drained, then gone: the agent shuts down.
        assert a.wait_exit(20) == 0, a.stderr_text()[-2000:]
        a.expect_dead = True
        assert berth_state(m, aid) == "gone"
        assert "dg-a" not in agent_hosts(m)
    finally:
        fw.disconnect()


def test_machine_down_and_up(cluster):
    m = cluster.master()
    a = cluster.agent(m, hostname="mnt-a")
    aid = a.slave()["id"]
    r = m.api.post("/v2/apps", {"id": "/mnt", "cmd": "sleep 600", "cpus": 0.1, "mem": 16,
                                "instances": 4})
    assert r.status_code == 201, r.text
    tasks = m.api.wait_running("/mnt", 4)
    b = cluster.agent(m, hostname="mnt-b")
    # A framework's task there: frameworks decide on inverse offers, DOWN kills it.
    fw = Framework(m.url, failover_timeout=60)
    assert fw.subscribe()["type"] == "SUBSCRIBED"
    launch_on(fw, aid, "mnt-t1", b.slave()["id"])
    pids = task_pids("mnt-t1")
    assert pids
    sched = {"windows": [{"machine_ids": [{"hostname": "MNT-A", "ip": "127.0.0.1"}],
                          "unavailability": {"start": {"nanoseconds": 1}}}]}
    r = op(m, {"type": "UPDATE_MAINTENANCE_SCHEDULE",
               "update_maintenance_schedule": {"schedule": sched}})
    assert r.status_code == 200, r.text
    r = op(m, {"type": "START_MAINTENANCE",
               "start_maintenance": {"machines": [{"hostname": "MNT-A", "ip": "127.0.0.1"}]}})
    assert r.status_code == 200, r.text
    # DOWN: the agent's tasks are killed, the agent is out, its instances move.
    wait_until(lambda: not any(os.path.exists("/proc/%d" % p) for p in pids), 10,
               what="mnt-a's tasks killed")
    st = fw.wait_update("mnt-t1", "TASK_LOST")
    assert st["message"] == "Operator initiated 'Machine DOWN'", st
    fw.disconnect()
    assert agent_hosts(m) == {"mnt-b"}
    assert a.alive()
    tasks = m.api.wait_running("/mnt", 4, timeout=30)
    assert {t["host"] for t in tasks} == {"mnt-b"}, tasks
    assert payload(m, {"type": "GET_MAINTENANCE_STATUS"})["status"] == {
        "down_machines": [{"hostname": "MNT-A", "ip": "127.0.0.1"}]}
    # A restarted master still keeps it out; the agent keeps trying.
    m.restart()
    b.ready(timeout=30)
    wait_until(lambda: "refusing agent" in m.stderr_text() and "DOWN" in m.stderr_text(), 15,
               what="mnt-a refused by the restarted master")
    assert "mnt-a" not in agent_hosts(m) and a.alive()
    r = op(m, {"type": "STOP_MAINTENANCE",
               "stop_maintenance": {"machines": [{"hostname": "MNT-A", "ip": "127.0.0.1"}]}})
    assert r.status_code == 200, r.text
    wait_until(lambda: "mnt-a" in agent_hosts(m), 20, what="mnt-a UP and registered again")
    assert payload(m, {"type": "GET_MAINTENANCE_STATUS"})["status"] == {}
    r = m.api.put("/v2/apps/mnt", {"instances": 8})
    assert r.status_code == 200, r.text
    tasks = m.api.wait_running("/mnt", 8, timeout=30)
    assert "mnt-a" in {t["host"] for t in tasks}, tasks


def schedule(m, machines):
    """One window (in an hour, for an hour) for those machines; [] empties the schedule."""
    start = (int(time.time()) + 3600) * 10**9
    windows = [{"machine_ids": machines,
                "unavailability": {"start": {"nanoseconds": start},
                                   "duration": {"nanoseconds": 3600 * 10**9}}}] if machines else []
    r = op(m, {"type": "UPDATE_MAINTENANCE_SCHEDULE",
               "update_maintenance_schedule": {"schedule": {"windows": windows}}})
    assert r.status_code == 200, r.text
    return windows


def test_inverse_offers(cluster):
    m = cluster.master()
    a = cluster.agent(m, hostname="inv-a")
    aid = a.slave()["id"]
    r = m.api.post("/v2/apps", {"id": "/inv", "cmd": "sleep 600", "cpus": 0.1, "mem": 16,
                                "instances": 4})
    assert r.status_code == 201, r.text
    assert {t["host"] for t in m.api.wait_running("/inv", 4)} == {"inv-a"}
    b = cluster.agent(m, hostname="inv-b")
    fw = Framework(m.url, failover_timeout=60)
    try:
        assert fw.subscribe()["type"] == "SUBSCRIBED"
        launch_on(fw, aid, "inv-t1", b.slave()["id"])

        machine = {"hostname": "inv-a"}
        windows = schedule(m, [machine])
        ev = fw.wait_event(lambda e: e["type"] == "INVERSE_OFFERS", 10, "INVERSE_OFFERS")
        ios = ev["inverse_offers"]["inverse_offers"]
        assert len(ios) == 1, ev
        io = ios[0]
        assert io["agent_id"] == {"value": aid}
        assert io["framework_id"] == {"value": fw.id}
        assert io["unavailability"] == windows[0]["unavailability"]
        assert io["url"]["address"]["hostname"] == "inv-a" and io["url"]["scheme"] == "http"
        # The apps framework treats it as a drain: its instances move off inv-a.
        wait_until(lambda: {t["host"] for t in m.api.running("/inv")} == {"inv-b"} and
                   len(m.api.running("/inv")) == 4, 30, what="/inv off inv-a")
        # The framework's task keeps running: it decides.
        assert task_pids("inv-t1")
        st = payload(m, {"type": "GET_MAINTENANCE_STATUS"})["status"]
        assert st == {"draining_machines": [{"id": machine}]}, st
        r = fw.call({"type": "DECLINE_INVERSE_OFFERS", "decline_inverse_offers": {
            "inverse_offer_ids": [io["id"]], "filters": {"refuse_seconds": 1}}})
        assert r.status_code == 202, r.text
        r = fw.call({"type": "ACCEPT_INVERSE_OFFERS", "accept_inverse_offers": {}})
        assert r.status_code == 400 and "inverse_offer_ids" in r.text, r.text
        st = payload(m, {"type": "GET_MAINTENANCE_STATUS"})["status"]
        sts = st["draining_machines"][0]["statuses"]
        assert [(s["status"], s["framework_id"]["value"]) for s in sts] == \
            [("DECLINE", fw.id)], st
        assert sts[0]["timestamp"]["nanoseconds"] > 0
        r = fw.call({"type": "DECLINE_INVERSE_OFFERS", "decline_inverse_offers": {
            "inverse_offer_ids": [io["id"]], "filters": {"refuse_seconds": -1}}})
        assert r.status_code == 400 and "refuse_seconds" in r.text, r.text
        # Once its refuse_seconds are over, the framework is asked again, and may accept.
        t0 = time.monotonic()
        ev = fw.wait_event(lambda e: e["type"] == "INVERSE_OFFERS", 10, "INVERSE_OFFERS again")
        assert time.monotonic() - t0 < 5
        io = ev["inverse_offers"]["inverse_offers"][0]
        r = fw.call({"type": "ACCEPT_INVERSE_OFFERS", "accept_inverse_offers": {
            "inverse_offer_ids": [io["id"]], "filters": {"refuse_seconds": 3600}}})
        assert r.status_code == 202, r.text
        sts = payload(m, {"type": "GET_MAINTENANCE_STATUS"})["status"][
            "draining_machines"][0]["statuses"]
        assert [s["status"] for s in sts] == ["ACCEPT"], sts

        # The window gone: answers go; a new window offers again; removed, it is rescinded.
        schedule(m, [])
        assert payload(m, {"type": "GET_MAINTENANCE_STATUS"})["status"] == {}
        schedule(m, [machine])
        ev = fw.wait_event(lambda e: e["type"] == "INVERSE_OFFERS", 10, "a new INVERSE_OFFERS")
        io2 = ev["inverse_offers"]["inverse_offers"][0]
        assert io2["id"] != io["id"]
        schedule(m, [])
        ev = fw.wait_event(lambda e: e["type"] == "RESCIND_INVERSE_OFFER", 10,
                           "RESCIND_INVERSE_OFFER")
        assert ev["rescind_inverse_offer"]["inverse_offer_id"] == io2["id"]
        # Out of the window, inv-a takes instances again.
        r = m.api.post("/v2/apps", {"id": "/inv-back", "cmd": "sleep 600", "cpus": 0.1,
                                    "mem": 16, "constraints": [["hostname", "LIKE", "inv-a"]]})
        assert r.status_code == 201, r.text
        assert m.api.wait_running("/inv-back", 1, timeout=20)[0]["host"] == "inv-a"
    finally:
        fw.disconnect()
