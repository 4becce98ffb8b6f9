"""Maintenance on the operator API (docs/operator-api.md): DEACTIVATE_AGENT /
REACTIVATE_AGENT keep new tasks off an agent and survive a master restart; the maintenance
schedule and START/STOP_MAINTENANCE round-trip through the store; `berth node list` shows
the state, `berth node deactivate|reactivate` set it."""
import json

import requests

from mesos_client import JSON
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
