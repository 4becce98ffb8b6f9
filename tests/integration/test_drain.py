"""Maintenance on the operator API (docs/operator-api.md): DRAIN_AGENT moves app instances
within their upgradeStrategy (local-volume ones wait) and kills external frameworks' tasks;
DEACTIVATE_AGENT / REACTIVATE_AGENT keep new tasks off an agent and survive a master
restart; the maintenance
schedule and START/STOP_MAINTENANCE round-trip through the store; `berth node list` shows
the state, `berth node deactivate|reactivate` set it."""
import json
import threading
import time

import requests

from mesos_client import JSON, Framework, command_task
from helpers import wait_until


def op(m, body):
    return requests.post(m.url + "/api/v1", data=json.dumps(body), headers=JSON, timeout=10)


def payload(m, body):
    r = op(m, body)
    assert r.status_code == 200, (r.status_code, r.text)
    j = r.json()
    assert j["type"] == body["type"]
    return j[body["type"].lower()]


def agents_by_host(m):
    return {a["agent_info"]["hostname"]: a for a in payload(m, {"type": "GET_AGENTS"})["agents"]}


def test_deactivate_keeps_tasks_off_and_survives_restart(cluster):
    m = cluster.master()
    a1 = cluster.agent(m, hostname="drain-a")
    a2 = cluster.agent(m, hostname="drain-b")
    a1.ready(), a2.ready()
    ids = {h: a["agent_info"]["id"]["value"] for h, a in agents_by_host(m).items()}
    r = op(m, {"type": "DEACTIVATE_AGENT",
               "deactivate_agent": {"agent_id": {"value": ids["drain-a"]}}})
    assert r.status_code == 200, r.text
    r = op(m, {"type": "DEACTIVATE_AGENT", "deactivate_agent": {"agent_id": {"value": "nope"}}})
    assert r.status_code == 404 and "nope" in r.text
    r = op(m, {"type": "DEACTIVATE_AGENT", "deactivate_agent": {}})
    assert r.status_code == 400 and "agent_id" in r.text
    ag = agents_by_host(m)
    assert ag["drain-a"]["deactivated"] is True and ag["drain-a"]["active"] is False
    assert ag["drain-b"]["deactivated"] is False
    st = requests.get(m.url + "/master/state", timeout=5).json()
    sl = {s["hostname"]: s for s in st["slaves"]}
    assert sl["drain-a"]["deactivated"] is True and sl["drain-b"]["deactivated"] is False

    r = m.api.post("/v2/apps", {"id": "/drained", "cmd": "sleep 600", "cpus": 0.1,
                                "mem": 16, "instances": 3})
    assert r.status_code == 201, r.text
    tasks = m.api.wait_running("/drained", 3)
    assert {t["host"] for t in tasks} == {"drain-b"}, tasks

    # The flag is in the store: a restarted master still keeps the agent out.
    m.restart()
    a1.ready(timeout=30)
    wait_until(lambda: agents_by_host(m)["drain-a"]["deactivated"] is True, 10,
               what="drain-a still deactivated after the restart")

    rc, out, err = cluster.cli("node", "list")
    assert rc == 0, err
    rows = {ln.split()[1]: ln.split()[2] for ln in out.splitlines()[1:]}
    assert rows == {"drain-a": "deactivated", "drain-b": "active"}, out
    rc, out, err = cluster.cli("node", "reactivate", "no-such-host")
    assert rc == 1 and "no-such-host" in err
    rc, out, err = cluster.cli("node", "reactivate", "drain-a")
    assert rc == 0 and "reactivated" in out, (out, err)
    assert agents_by_host(m)["drain-a"]["deactivated"] is False
    rc, out, err = cluster.cli("node", "deactivate", ids["drain-a"])
    assert rc == 0 and agents_by_host(m)["drain-a"]["deactivated"] is True, err
    r = op(m, {"type": "REACTIVATE_AGENT",
               "reactivate_agent": {"agent_id": {"value": ids["drain-a"]}}})
    assert r.status_code == 200, r.text
    assert agents_by_host(m)["drain-a"]["deactivated"] is False
    r = m.api.put("/v2/apps/drained", {"instances": 8})
    assert r.status_code == 200, r.text
    tasks = m.api.wait_running("/drained", 8, timeout=30)
    assert "drain-a" in {t["host"] for t in tasks}, tasks


def test_maintenance_schedule_round_trip(cluster):
    m = cluster.master()
    assert payload(m, {"type": "GET_MAINTENANCE_SCHEDULE"}) == {"schedule": {"windows": []}}
    assert payload(m, {"type": "GET_MAINTENANCE_STATUS"}) == {"status": {}}
    sched = {"windows": [{"machine_ids": [{"hostname": "m1", "ip": "10.0.0.1"},
                                          {"hostname": "m2"}],
                          "unavailability": {"start": {"nanoseconds": 1700000000000000000},
                                             "duration": {"nanoseconds": 3600000000000}}}]}
    r = op(m, {"type": "UPDATE_MAINTENANCE_SCHEDULE",
               "update_maintenance_schedule": {"schedule": sched}})
    assert r.status_code == 200, r.text
    # Bad schedules change nothing.
    bad = {"windows": [{"machine_ids": [], "unavailability": {"start": {"nanoseconds": 1}}}]}
    r = op(m, {"type": "UPDATE_MAINTENANCE_SCHEDULE",
               "update_maintenance_schedule": {"schedule": bad}})
    assert r.status_code == 400 and "empty" in r.text
    dup = {"windows": [{"machine_ids": [{"hostname": "x"}, {"hostname": "x"}],
                        "unavailability": {"start": {"nanoseconds": 1}}}]}
    r = op(m, {"type": "UPDATE_MAINTENANCE_SCHEDULE",
               "update_maintenance_schedule": {"schedule": dup}})
    assert r.status_code == 400 and "more than once" in r.text
    assert payload(m, {"type": "GET_MAINTENANCE_SCHEDULE"}) == {"schedule": sched}
    st = payload(m, {"type": "GET_MAINTENANCE_STATUS"})["status"]
    assert st == {"draining_machines": [{"id": {"hostname": "m1", "ip": "10.0.0.1"}},
                                        {"id": {"hostname": "m2"}}]}
    r = op(m, {"type": "START_MAINTENANCE", "start_maintenance": {"machines": [{"hostname": "zz"}]}})
    assert r.status_code == 400 and "schedule" in r.text
    r = op(m, {"type": "START_MAINTENANCE", "start_maintenance": {"machines": [{"hostname": "m2"}]}})
    assert r.status_code == 200, r.text
    m.restart()
    st = payload(m, {"type": "GET_MAINTENANCE_STATUS"})["status"]
    assert st == {"draining_machines": [{"id": {"hostname": "m1", "ip": "10.0.0.1"}}],
                  "down_machines": [{"hostname": "m2"}]}
    r = op(m, {"type": "STOP_MAINTENANCE", "stop_maintenance": {"machines": [{"hostname": "m2"}]}})
    assert r.status_code == 200, r.text
    assert payload(m, {"type": "GET_MAINTENANCE_STATUS"})["status"] == {
        "draining_machines": [{"id": {"hostname": "m1", "ip": "10.0.0.1"}}]}
    assert payload(m, {"type": "GET_MAINTENANCE_SCHEDULE"})["schedule"]["windows"][0][
        "machine_ids"] == [{"hostname": "m1", "ip": "10.0.0.1"}]


class Bounds(threading.Thread):
    """Samples an app's tasks: the fewest running and the most live at any moment."""

    def __init__(self, api, app_id):
        super().__init__(daemon=True)
        self.api, self.app_id = api, app_id
        self.min_running, self.max_live = 10**9, 0
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            ts = self.api.tasks(self.app_id)
            self.min_running = min(self.min_running,
                                   sum(t["state"] == "TASK_RUNNING" for t in ts))
            self.max_live = max(self.max_live, len(ts))
            time.sleep(0.02)

    def stop(self):
        self.stop_ev.set()
        self.join(10)


def test_drain_moves_instances_within_upgrade_strategy(cluster):
    m = cluster.master()
    a1 = cluster.agent(m, hostname="drain-a")
    a2 = cluster.agent(m, hostname="drain-b")
    a1.ready(), a2.ready()
    ids = {h: a["agent_info"]["id"]["value"] for h, a in agents_by_host(m).items()}
    # Everything starts on drain-a: drain-b is kept out meanwhile.
    assert op(m, {"type": "DEACTIVATE_AGENT",
                  "deactivate_agent": {"agent_id": {"value": ids["drain-b"]}}}).status_code == 200
    r = m.api.post("/v2/apps", {"id": "/web", "cmd": "sleep 600", "cpus": 0.1, "mem": 16,
                                "instances": 3, "upgradeStrategy": {
                                    "minimumHealthCapacity": 1, "maximumOverCapacity": 0.34}})
    assert r.status_code == 201, r.text
    r = m.api.post("/v2/apps", {"id": "/db", "cmd": "sleep 600", "cpus": 0.1, "mem": 16,
                                "instances": 1, "container": {"type": "MESOS", "volumes": [
                                    {"containerPath": "data", "mode": "RW",
                                     "persistent": {"size": 4}}]}})
    assert r.status_code == 201, r.text
    before = m.api.wait_running("/web", 3)
    db = m.api.wait_running("/db", 1)
    assert {t["host"] for t in before + db} == {"drain-a"}
    assert op(m, {"type": "REACTIVATE_AGENT",
                  "reactivate_agent": {"agent_id": {"value": ids["drain-b"]}}}).status_code == 200

    bw = Bounds(m.api, "/web")
    bw.start()
    try:
        r = op(m, {"type": "DRAIN_AGENT", "drain_agent": {
            "agent_id": {"value": ids["drain-a"]}, "max_grace_period": {"nanoseconds": 10**9}}})
        assert r.status_code == 200, r.text
        ag = agents_by_host(m)["drain-a"]
        assert ag["deactivated"] is True
        assert ag["drain_info"] == {"state": "DRAINING", "config": {
            "mark_gone": False, "max_grace_period": {"nanoseconds": 10**9}}}

        def moved():
            ts = m.api.tasks("/web")
            return (len(ts) == 3 and all(t["state"] == "TASK_RUNNING" for t in ts)
                    and {t["host"] for t in ts} == {"drain-b"}) and ts
        after = wait_until(moved, 60, what="/web's 3 instances on drain-b")
    finally:
        bw.stop()
    assert not ({t["id"] for t in after} & {t["id"] for t in before})
    assert sorted(t["index"] for t in after) == [0, 1, 2]
    assert bw.min_running >= 3, bw.min_running  # minimumHealthCapacity 1
    assert bw.max_live <= 4, bw.max_live        # 3 + floor(3 * 0.34)

    # The instance with a local volume stays where its data is; the agent is not drained.
    ts = m.api.tasks("/db")
    assert [(t["id"], t["host"]) for t in ts] == [(db[0]["id"], "drain-a")], ts
    assert ts[0]["drain"] == "waiting: local volumes on this agent", ts
    assert "drain" not in m.api.tasks("/web")[0]
    assert agents_by_host(m)["drain-a"]["drain_info"]["state"] == "DRAINING"
    st = requests.get(m.url + "/master/state", timeout=5).json()
    sl = {s["hostname"]: s for s in st["slaves"]}
    assert sl["drain-a"]["drain_info"]["state"] == "DRAINING"
    rc, out, err = cluster.cli("node", "list")
    assert rc == 0, err
    rows = {ln.split()[1]: ln.split()[2] for ln in out.splitlines()[1:]}
    assert rows == {"drain-a": "draining", "drain-b": "active"}, out

    # Once /db is gone the agent is drained; --wait returns then.
    assert m.api.delete("/v2/apps/db").status_code == 200
    rc, out, err = cluster.cli("node", "drain", "drain-a", "--wait", "--timeout", "60")
    assert rc == 0 and "drained" in out, (out, err)
    assert agents_by_host(m)["drain-a"]["drain_info"]["state"] == "DRAINED"
    # The drain is in the store.
    m.restart()
    a1.ready(timeout=30)
    assert agents_by_host(m)["drain-a"]["drain_info"]["state"] == "DRAINED"
    rc, out, err = cluster.cli("node", "reactivate", "drain-a")
    assert rc == 0, err
    ag = agents_by_host(m)["drain-a"]
    assert ag["deactivated"] is False and "drain_info" not in ag


def test_drain_bad_calls(cluster):
    m = cluster.master()
    a = cluster.agent(m, hostname="drain-x").ready()
    aid = a.slave()["id"]
    for body, code, word in (
            ({}, 400, "agent_id"),
            ({"agent_id": {"value": "nope"}}, 404, "nope"),
            ({"agent_id": {"value": aid}, "max_grace_period": {"nanoseconds": -1}}, 400,
             "max_grace_period"),
            ({"agent_id": {"value": aid}, "max_grace_period": {"seconds": "1"}}, 400,
             "max_grace_period"),
            ({"agent_id": {"value": aid}, "mark_gone": "yes"}, 400, "mark_gone"),
            ({"agent_id": {"value": aid}, "mark_gone": {"value": 1}}, 400, "mark_gone")):
        r = op(m, {"type": "DRAIN_AGENT", "drain_agent": body})
        assert r.status_code == code and word in r.text, (body, r.status_code, r.text)
    assert "drain_info" not in agents_by_host(m)["drain-x"]
    # An agent without tasks is drained at once. master.proto's Duration; a {"value"} mark_gone
    # (berth's leniency; master.proto's is a plain bool, as above) is taken too.
    r = op(m, {"type": "DRAIN_AGENT", "drain_agent": {
        "agent_id": {"value": aid}, "max_grace_period": {"seconds": 2, "nanos": 5},
        "mark_gone": {"value": False}}})
    assert r.status_code == 200, r.text
    assert agents_by_host(m)["drain-x"]["drain_info"] == {"state": "DRAINED", "config": {
        "mark_gone": False, "max_grace_period": {"nanoseconds": 2000000005}}}


def test_drain_kills_external_framework_tasks(cluster):
    m = cluster.master()
    a = cluster.agent(m, hostname="drain-fw").ready()
    aid = a.slave()["id"]
    fw = Framework(m.url, failover_timeout=30)
    try:
        assert fw.subscribe()["type"] == "SUBSCRIBED"
        o = fw.wait_offers()[0]
        # Deactivating the agent rescinds its outstanding offer; reactivating offers it again.
        r = op(m, {"type": "DEACTIVATE_AGENT", "deactivate_agent": {"agent_id": {"value": aid}}})
        assert r.status_code == 200, r.text
        fw.wait_event(lambda e: e["type"] == "RESCIND" and
                      e["rescind"]["offer_id"]["value"] == o["id"]["value"], 10, "RESCIND")
        r = op(m, {"type": "REACTIVATE_AGENT", "reactivate_agent": {"agent_id": {"value": aid}}})
        assert r.status_code == 200, r.text
        o = fw.wait_offers()[0]
        r = fw.accept([o["id"]["value"]], [command_task("drain-t1", o, "sleep 600")])
        assert r.status_code == 202, r.text
        fw.wait_update("drain-t1", "TASK_RUNNING")
        r = op(m, {"type": "DRAIN_AGENT", "drain_agent": {
            "agent_id": {"value": aid}, "max_grace_period": {"nanoseconds": 0}}})
        assert r.status_code == 200, r.text
        st = fw.wait_update("drain-t1", "TASK_KILLED")
        assert st["agent_id"]["value"] == aid
        wait_until(lambda: agents_by_host(m)["drain-fw"]["drain_info"]["state"] == "DRAINED",
                   15, what="drain-fw drained")
    finally:
        fw.disconnect()
