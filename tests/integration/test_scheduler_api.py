"""The Mesos v1 scheduler HTTP API (docs/scheduler-api.md), driven by a small framework that
speaks it over HTTP exactly as a client would (mesos_client.py)."""
import base64
import json
import os
import time

import requests

import helpers
from helpers import wait_until
from mesos_client import JSON, Framework, command_task, read_records, scalar

def env():
    return {helpers.TAG_VAR: helpers.current_tag()}


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def sched(m):
    return m.url + "/api/v1/scheduler"


def agent_used_cpus(agent):
    return agent.slave()["used_resources"]["cpus"]


# ---- transport and call validation ----

def test_transport_errors(one):
    m = one.m
    url = sched(m)
    r = requests.get(url, timeout=10)
    assert r.status_code == 405
    assert "POST" in r.headers.get("Allow", "")
    r = requests.post(url, data="{}", timeout=10)
    assert r.status_code == 400 and "Content-Type" in r.text
    r = requests.post(url, data="{}", headers={"Content-Type": "text/plain"}, timeout=10)
    assert r.status_code == 415
    r = requests.post(url, data="{not json", headers=JSON, timeout=10)
    assert r.status_code == 400 and r.text.startswith("Failed to parse body into JSON")
    r = requests.post(url, data=json.dumps({"type": "NOPE"}), headers=JSON, timeout=10)
    assert r.status_code == 400 and "Call protobuf" in r.text
    sub = {"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n"}}}
    r = requests.post(url, data=json.dumps(sub),
                      headers={"Content-Type": "application/json", "Accept": "text/html"},
                      timeout=10)
    assert r.status_code == 406
    r = requests.post(url, data=json.dumps(sub), headers=dict(JSON, **{"Mesos-Stream-Id": "x"}),
                      timeout=10)
    assert r.status_code == 400 and "Mesos-Stream-Id" in r.text
    bad = {"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u"}}}
    r = requests.post(url, data=json.dumps(bad), headers=JSON, timeout=10)
    assert r.status_code == 400 and r.text.startswith("Failed to validate scheduler::Call")
    r = requests.post(url, data=json.dumps({"type": "REVIVE", "framework_id": {"value": "nope"}}),
                      headers=dict(JSON, **{"Mesos-Stream-Id": "x"}), timeout=10)
    assert r.status_code == 400 and r.text == "Framework cannot be found"

    fw = Framework(m.url, failover_timeout=60)
    ev = fw.subscribe()
    assert ev["type"] == "SUBSCRIBED"
    r = fw.call({"type": "REVIVE"}, stream_id=None)
    assert r.status_code == 400 and "Mesos-Stream-Id" in r.text
    r = fw.call({"type": "REVIVE"}, stream_id="0f0f0f0f-0000-4000-8000-000000000000")
    assert r.status_code == 400 and "didn't match" in r.text
    r = fw.call({"type": "REVIVE"})
    assert r.status_code == 202
    r = fw.call({"type": "UPDATE_FRAMEWORK", "update_framework": {
        "framework_info": dict(fw.info, id={"value": fw.id}, failover_timeout=60)}})
    assert r.status_code == 200, r.text
    fw.disconnect()
    r = wait_until(lambda: (lambda x: [x] if x.status_code == 403 else None)(
        fw.call({"type": "REVIVE"})), 10, what="403 after disconnect")[0]
    assert r.text == "Framework is not subscribed"


def test_subscribe_offer_launch_kill(one):
    m, a = one.m, one.a
    fw = Framework(m.url, failover_timeout=30)
    ev = fw.subscribe()
    assert ev["type"] == "SUBSCRIBED"
    sub = ev["subscribed"]
    assert sub["heartbeat_interval_seconds"] == 15
    assert sub["framework_id"]["value"].endswith("-0001")
    assert sub["master_info"]["port"] == m.port
    assert len(fw.stream_id) == 36

    offers = fw.wait_offers()
    assert len(offers) == 1
    o = offers[0]
    assert o["framework_id"]["value"] == fw.id
    assert o["hostname"] and o["agent_id"]["value"] == a.slave()["id"]
    assert o["id"]["value"].split("-O")[-1].isdigit()
    assert o["url"]["address"]["port"] == a.port
    assert scalar(o, "cpus") == 4 and scalar(o, "mem") == 4096
    for r in o["resources"]:
        assert r["role"] == "*" and r["allocation_info"] == {"role": "*"}
    ports = [r for r in o["resources"] if r["name"] == "ports"][0]
    assert ports["type"] == "RANGES"
    assert ports["ranges"]["range"] == [{"begin": a.port_lo, "end": a.port_hi}]

    port = a.port_lo + 3
    marker = a.work_dir / "env.txt"
    task = command_task("t1", o, "echo $MESOS_TASK_ID $PORT0 $FOO > %s; exec sleep 300" % marker,
                        cpus=1, mem=64, ports=[port], env=dict(env(), FOO="bar"))
    r = fw.accept([o["id"]["value"]], [task])
    assert r.status_code == 202, r.text
    st = fw.wait_update("t1", "TASK_RUNNING")
    assert st["agent_id"] == o["agent_id"]
    assert st["source"] == "SOURCE_EXECUTOR"
    assert len(base64.b64decode(st["uuid"])) == 16
    assert isinstance(st["timestamp"], float)
    wait_until(lambda: marker.exists() and marker.read_text().strip(), 10, what="env file")
    assert marker.read_text().split() == ["t1", str(port), "bar"]
    assert wait_until(lambda: agent_used_cpus(a) == 1, 10, what="cpus used")

    # The next offer holds what is left.
    rest = fw.wait_offers()[0]
    assert scalar(rest, "cpus") == 3

    # Explicit, implicit and unknown-task reconciliation.
    assert fw.reconcile(["t1"]).status_code == 202
    st = fw.wait_update("t1", "TASK_RUNNING")
    assert st["reason"] == "REASON_RECONCILIATION" and "uuid" not in st
    assert st["source"] == "SOURCE_MASTER"
    assert fw.reconcile([]).status_code == 202
    fw.wait_update("t1", "TASK_RUNNING")
    assert fw.reconcile(["nope"]).status_code == 202
    st = fw.wait_update("nope", "TASK_LOST")
    assert st["reason"] == "REASON_RECONCILIATION"

    # Kill: TASK_KILLED, resources back.
    assert fw.kill("t1").status_code == 202
    st = fw.wait_update("t1", "TASK_KILLED")
    assert wait_until(lambda: agent_used_cpus(a) == 0, 10, what="cpus freed")
    # A kill of an unknown task is answered by reconciliation.
    assert fw.kill("ghost").status_code == 202
    fw.wait_update("ghost", "TASK_LOST")

    # A shell=false command with arguments, on the offer still outstanding.
    o = rest
    t2 = command_task("t2", o, "/bin/sh", env=env(), shell=False)
    t2["command"]["arguments"] = ["sh", "-c", "exit 3"]
    assert fw.accept([o["id"]["value"]], [t2]).status_code == 202
    st = fw.wait_update("t2", "TASK_FAILED")
    assert "3" in st.get("message", "")

    # MESSAGE, SHUTDOWN, REQUEST are accepted no-ops; TEARDOWN removes the framework.
    assert fw.call({"type": "MESSAGE", "message": {"agent_id": o["agent_id"],
                   "executor_id": {"value": "x"}, "data": "aGk="}}).status_code == 202
    assert fw.call({"type": "SHUTDOWN", "shutdown": {"agent_id": o["agent_id"],
                   "executor_id": {"value": "x"}}}).status_code == 202
    assert fw.call({"type": "REQUEST", "request": {"requests": []}}).status_code == 202
    assert fw.teardown().status_code == 202
    fw.closed.wait(5)
    assert fw.closed.is_set()
    r = requests.post(sched(m), data=json.dumps({"type": "REVIVE", "framework_id":
                      {"value": fw.id}}), headers=dict(JSON, **{"Mesos-Stream-Id": "x"}),
                      timeout=10)
    assert r.status_code == 400 and r.text == "Framework cannot be found"


def test_bad_accepts_and_optimistic_conflict(one):
    m, a = one.m, one.a
    f1 = Framework(m.url, name="one")
    f2 = Framework(m.url, name="two", capabilities=["PARTITION_AWARE"])
    f1.subscribe()
    f2.subscribe()
    o1 = f1.wait_offers()[0]
    o2 = f2.wait_offers()[0]
    # The same free resources are offered to both.
    assert scalar(o1, "cpus") == scalar(o2, "cpus") == 4

    # Unknown offer: the task is lost with REASON_INVALID_OFFERS.
    t = command_task("x1", o1, "sleep 300", env=env())
    assert f1.accept(["no-such-offer"], [t]).status_code == 202
    st = f1.wait_update("x1", "TASK_LOST")
    assert st["reason"] == "REASON_INVALID_OFFERS" and "no longer valid" in st["message"]

    # Over-committing an offer: TASK_ERROR.
    t = command_task("x2", o1, "sleep 300", cpus=5, env=env())
    assert f1.accept([o1["id"]["value"]], [t]).status_code == 202
    st = f1.wait_update("x2", "TASK_ERROR")
    assert st["reason"] == "REASON_TASK_INVALID" and "more resources" in st["message"]
    # The offer is used up by that ACCEPT.
    t = command_task("x3", o1, "sleep 300", env=env())
    assert f1.accept([o1["id"]["value"]], [t]).status_code == 202
    f1.wait_update("x3", "TASK_LOST")

    # Optimistic conflict: f1 takes all the cpus, f2's launch on its older offer is dropped.
    o1 = f1.wait_offers()[0]
    big = command_task("big", o1, "sleep 300", cpus=4, env=env())
    assert f1.accept([o1["id"]["value"]], [big]).status_code == 202
    f1.wait_update("big", "TASK_RUNNING")
    t = command_task("late", o2, "sleep 300", cpus=1, env=env())
    assert f2.accept([o2["id"]["value"]], [t]).status_code == 202
    st = f2.wait_update("late", "TASK_DROPPED")
    assert st["reason"] == "REASON_INVALID_OFFERS" and "taken" in st["message"]

    # A duplicate task id is an error; so is a missing command.
    f1.kill("big")
    f1.wait_update("big", "TASK_KILLED")
    o1 = f1.wait_offers()[0]
    dup = command_task("d", o1, "sleep 300", env=env())
    nocmd = command_task("d2", o1, "x")
    del nocmd["command"]
    assert f1.accept([o1["id"]["value"]], [dup, dict(dup), nocmd]).status_code == 202
    seen = {}
    want = {("d", "TASK_RUNNING"), ("d", "TASK_ERROR"), ("d2", "TASK_ERROR")}
    while not want <= set(seen):
        ev = f1.wait_event(lambda e: e["type"] == "UPDATE", 20, "updates of d, d2")
        st = ev["update"]["status"]
        if "uuid" in st:
            f1.acknowledge(st)
        seen[(st["task_id"]["value"], st["state"])] = st
    assert "duplicate" in seen[("d", "TASK_ERROR")]["message"]
    assert "command" in seen[("d2", "TASK_ERROR")]["message"]

    # Malformed calls: 400.
    r = f1.call({"type": "ACCEPT", "accept": {"offer_ids": "x"}})
    assert r.status_code == 400
    r = f1.call({"type": "ACKNOWLEDGE", "acknowledge": {"agent_id": {"value": "a"},
                 "task_id": {"value": "d"}, "uuid": "not base64!"}})
    assert r.status_code == 400
    r = f1.call({"type": "KILL", "kill": {}})
    assert r.status_code == 400
    f1.teardown()
    f2.teardown()


def test_decline_revive_suppress_rescind(one):
    m, a = one.m, one.a
    fw = Framework(m.url)
    fw.subscribe()
    o = fw.wait_offers()[0]
    t0 = time.monotonic()
    assert fw.decline([o["id"]["value"]], refuse_seconds=1).status_code == 202
    last = fw.wait_offers(timeout=10)[0]
    assert time.monotonic() - t0 >= 0.9
    # A long filter keeps the agent away until REVIVE.
    assert fw.decline([last["id"]["value"]], refuse_seconds=3600).status_code == 202
    time.sleep(2.5)
    assert not [e for e in list(fw.events.queue) if e["type"] == "OFFERS"]
    assert fw.call({"type": "REVIVE", "revive": {"roles": []}}).status_code == 202
    o = fw.wait_offers(timeout=5)[0]
    # SUPPRESS: no new offers after the current one is declined.
    assert fw.call({"type": "SUPPRESS", "suppress": {}}).status_code == 202
    fw.decline([o["id"]["value"]], refuse_seconds=0)
    time.sleep(2.5)
    assert not [e for e in list(fw.events.queue) if e["type"] == "OFFERS"]
    assert fw.call({"type": "REVIVE"}).status_code == 202
    o = fw.wait_offers(timeout=5)[0]
    # REVIVE of a role the framework does not have is invalid.
    r = fw.call({"type": "REVIVE", "revive": {"roles": ["other"]}})
    assert r.status_code == 400
    # The agent goes away: its offer is rescinded.
    a.kill9()
    ev = fw.wait_event(lambda e: e["type"] == "RESCIND", 15, "RESCIND")
    assert ev["rescind"]["offer_id"] == o["id"]
    fw.teardown()


def test_failover_within_and_after_timeout(one):
    m, a = one.m, one.a
    fw = Framework(m.url, failover_timeout=4)
    fw.subscribe()
    o = fw.wait_offers()[0]
    t = command_task("ft", o, "exec sleep 300", env=env())
    fw.accept([o["id"]["value"]], [t])
    fw.wait_update("ft", "TASK_RUNNING")
    # The host's pid ($$ would be the task's pid in its own pid namespace).
    pid = wait_until(lambda: helpers.task_pids("ft"), 10, what="the task's process")[0]
    fid = fw.id

    # Within the timeout: same id, task kept.
    fw.disconnect()
    time.sleep(1)
    fw2 = Framework(m.url, failover_timeout=4, framework_id=fid)
    ev = fw2.subscribe()
    assert ev["type"] == "SUBSCRIBED" and ev["subscribed"]["framework_id"]["value"] == fid
    assert fw2.stream_id != fw.stream_id
    fw2.reconcile(["ft"])
    fw2.wait_update("ft", "TASK_RUNNING")
    assert pid_alive(pid)

    # A second subscription fails the first one over.
    fw3 = Framework(m.url, failover_timeout=4, framework_id=fid)
    fw3.subscribe()
    ev = fw2.wait_event(lambda e: e["type"] in ("ERROR", "_CLOSED"), 10, "failover ERROR")
    assert ev["type"] == "ERROR" and "failed over" in ev["error"]["message"]

    # After the timeout: the task is killed and the framework removed.
    fw3.disconnect()
    wait_until(lambda: not pid_alive(pid), 20, what="task killed after failover timeout")
    fw4 = Framework(m.url, failover_timeout=4, framework_id=fid)
    ev = fw4.subscribe()
    assert ev["type"] == "ERROR" and ev["error"]["message"] == "Framework has been removed"
    assert wait_until(lambda: agent_used_cpus(a) == 0, 10, what="resources freed")


def test_master_restart_keeps_frameworks_and_tasks(one):
    m, a = one.m, one.a
    fw = Framework(m.url, failover_timeout=120)
    fw.subscribe()
    o = fw.wait_offers()[0]
    t = command_task("rt", o, "sleep 300", cpus=2, env=env())
    fw.accept([o["id"]["value"]], [t])
    fw.wait_update("rt", "TASK_RUNNING")
    fid = fw.id
    m.restart()
    fw.closed.wait(5)
    wait_until(lambda: (a.slave() or {}).get("active"), 20, what="agent re-registered")
    fw2 = Framework(m.url, failover_timeout=120, framework_id=fid)
    ev = fw2.subscribe()
    assert ev["type"] == "SUBSCRIBED"
    fw2.reconcile(["rt"])
    st = fw2.wait_update("rt", "TASK_RUNNING")
    assert st["reason"] == "REASON_RECONCILIATION"
    assert wait_until(lambda: agent_used_cpus(a) == 2, 10, what="resources held again")
    # The first offer may come before the reconciliation's UPDATE (wait_update drops it from
    # the queue): look for it among every event seen.
    o = wait_until(lambda: next((e["offers"]["offers"][0] for e in list(fw2.all_events)
                                 if e["type"] == "OFFERS"), None), 15, what="an offer")
    assert scalar(o, "cpus") == 2
    fw2.kill("rt")
    fw2.wait_update("rt", "TASK_KILLED")
    # A new framework after the restart gets a fresh id.
    fw3 = Framework(m.url)
    fw3.subscribe()
    assert fw3.id != fid
    fw2.teardown()
    fw3.teardown()


def test_heartbeat(one):
    fw = Framework(one.m.url)
    fw.subscribe()
    ev = fw.wait_event(lambda e: e["type"] == "HEARTBEAT", 20, "HEARTBEAT")
    assert ev == {"type": "HEARTBEAT"}
    fw.teardown()


def test_launch_group_all_or_nothing(one):
    m, a = one.m, one.a
    fw = Framework(m.url)
    fw.subscribe()
    o = fw.wait_offers()[0]

    def group(offer, tasks):
        return fw.call({"type": "ACCEPT", "accept": {
            "offer_ids": [{"value": offer["id"]["value"]}],
            "operations": [{"type": "LAUNCH_GROUP", "launch_group": {
                "executor": {"type": "DEFAULT", "executor_id": {"value": "ex"},
                             "resources": []},
                "task_group": {"tasks": tasks}}}],
            "filters": {"refuse_seconds": 0}}})

    # One task asks for more than the offer holds: the whole group is refused.
    bad = [command_task("g1", o, "exec sleep 300", cpus=1, env=env()),
           command_task("g2", o, "exec sleep 300", cpus=100, env=env())]
    assert group(o, bad).status_code == 202
    for t in ("g1", "g2"):
        st = fw.wait_update(t, "TASK_ERROR")
        assert st["message"].startswith("Task group refused:"), st["message"]
    assert agent_used_cpus(a) == 0

    # A good group: both tasks run.
    o = fw.wait_offers()[0]
    good = [command_task("g3", o, "exec sleep 300", cpus=1, env=env()),
            command_task("g4", o, "exec sleep 300", cpus=1, env=env())]
    assert group(o, good).status_code == 202
    fw.wait_update("g3", "TASK_RUNNING")
    fw.wait_update("g4", "TASK_RUNNING")
    assert wait_until(lambda: agent_used_cpus(a) == 2, 10, what="the group's cpus used")
    fw.teardown()


# ---- the state views: a framework's tasks are listed as the apps framework's are ----

def test_framework_tasks_in_state_views(one):
    m, a = one.m, one.a
    fw = Framework(m.url, name="state-fw", roles=["eng"], failover_timeout=60)
    fw.subscribe()
    o = fw.wait_offers()[0]
    task = command_task("s1", o, "exec sleep 300", cpus=1, mem=32, env=env())
    assert fw.accept([o["id"]["value"]], [task]).status_code == 202
    fw.wait_update("s1", "TASK_RUNNING")
    # An app task beside it: both frameworks are listed, each with its tasks.
    r = requests.post(m.url + "/v2/apps", json={"id": "/st", "cmd": "sleep 300", "cpus": 0.1,
                      "mem": 16, "instances": 1, "env": env()}, timeout=10)
    assert r.status_code == 201, r.text
    wait_until(lambda: requests.get(m.url + "/v2/apps/st", timeout=10).json()["app"]
               ["tasksRunning"] == 1, 20, what="app task running")

    st = requests.get(m.url + "/master/state", timeout=10).json()
    fws = {f["name"]: f for f in st["frameworks"]}
    assert set(fws) == {"marathon", "state-fw"}
    f = fws["state-fw"]
    assert f["id"] == fw.id and "pid" not in f
    assert f["active"] is True and f["connected"] is True
    assert f["roles"] == ["eng"] and "role" not in f
    assert f["user"] == "root" and f["failover_timeout"] == 60
    assert f["capabilities"] == ["MULTI_ROLE"]
    assert f["used_resources"]["cpus"] == 1
    [t] = f["tasks"]
    assert t["id"] == "s1" and t["framework_id"] == fw.id
    assert t["slave_id"] == o["agent_id"]["value"]
    assert t["state"] == "TASK_RUNNING" and t["role"] == "eng"  # its allocation role
    assert t["resources"]["cpus"] == 1 and t["resources"]["mem"] == 32
    running = [s for s in t["statuses"] if s["state"] == "TASK_RUNNING"]
    assert running and isinstance(running[0]["timestamp"], float)
    assert [x["name"] for x in fws["marathon"]["tasks"]] == ["st"]
    # The agent's used resources hold both tasks.
    [slave] = st["slaves"]
    assert abs(slave["used_resources"]["cpus"] - 1.1) < 1e-9

    def call(t):
        r = requests.post(m.url + "/api/v1", json={"type": t}, headers=JSON, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    tasks = call("GET_TASKS")["get_tasks"]["tasks"]
    by_id = {x["task_id"]["value"]: x for x in tasks}
    assert set(by_id) >= {"s1"} and len(by_id) == 2
    v = by_id["s1"]
    assert v["framework_id"] == {"value": fw.id} and v["agent_id"] == o["agent_id"]
    assert v["state"] == "TASK_RUNNING" and v["name"] == task["name"]
    assert v["status_update_state"] == "TASK_RUNNING"
    frameworks = call("GET_FRAMEWORKS")["get_frameworks"]["frameworks"]
    names = {x["framework_info"]["name"]: x for x in frameworks}
    assert set(names) == {"marathon", "state-fw"}
    g = names["state-fw"]
    assert g["framework_info"]["id"] == {"value": fw.id}
    assert g["framework_info"]["roles"] == ["eng"]
    assert g["active"] is True and g["connected"] is True and g["recovered"] is False
    assert "nanoseconds" in g["registered_time"]
    state = call("GET_STATE")["get_state"]
    assert {x["task_id"]["value"] for x in state["get_tasks"]["tasks"]} == set(by_id)
    assert len(state["get_frameworks"]["frameworks"]) == 2
    roles = {x["name"]: x for x in call("GET_ROLES")["get_roles"]["roles"]}
    assert {"value": fw.id} in roles["eng"]["frameworks"]

    # Killed, it leaves the live tasks.
    assert fw.kill("s1").status_code == 202
    fw.wait_update("s1", "TASK_KILLED")
    wait_until(lambda: not [f for f in requests.get(m.url + "/master/state", timeout=10)
                            .json()["frameworks"] if f["name"] == "state-fw"][0]["tasks"],
               10, what="task gone from the state")
# ---- JSON null reads as absent (reference/compat.md §10.9) ----

def test_nulls_read_as_absent(one):
    """Generated clients send every unset optional field as null; Mesos's JSON-to-protobuf
    parser skips them, and so must berth: each call here behaves as without its nulls."""
    m, a = one.m, one.a
    fw = Framework(m.url, name="nulls")
    fw.info.update({"id": None, "role": None, "roles": None, "capabilities": None,
                    "failover_timeout": None, "checkpoint": None, "hostname": None,
                    "principal": None, "webui_url": None, "labels": None,
                    "offer_filters": None})
    # The operator stream shows the framework as it was understood (and stored).
    ops = requests.post(m.url + "/api/v1", data=json.dumps({"type": "SUBSCRIBE"}),
                        headers=JSON, stream=True, timeout=(10, 30))
    assert ops.status_code == 200, ops.text
    records = read_records(ops.raw)
    assert json.loads(next(records))["type"] == "SUBSCRIBED"
    ev = fw.subscribe(call_extra={"framework_id": None},
                      subscribe_extra={"suppressed_roles": None, "offer_constraints": None})
    assert ev["type"] == "SUBSCRIBED", ev
    for rec in records:
        added = json.loads(rec)
        if added["type"] == "FRAMEWORK_ADDED":
            break
    ops.close()
    info = added["framework_added"]["framework"]["framework_info"]
    assert info == {"user": "root", "name": "nulls", "id": {"value": fw.id}}, info

    # ACCEPT: null filters, a null operation id, null optional TaskInfo fields.
    o = fw.wait_offers()[0]
    assert all(r["role"] == "*" for r in o["resources"]), o
    task = command_task("n1", o, "exec sleep 300", cpus=1, env=env())
    task.update({"executor": None, "container": None, "health_check": None, "check": None,
                 "labels": None, "discovery": None, "data": None, "kill_policy": None,
                 "max_completion_time": None})
    r = fw.call({"type": "ACCEPT", "accept": {
        "offer_ids": [{"value": o["id"]["value"]}],
        "operations": [{"type": "LAUNCH", "id": None, "launch": {"task_infos": [task]}}],
        "filters": None}})
    assert r.status_code == 202, r.text
    fw.wait_update("n1", "TASK_RUNNING")

    # RECONCILE with null tasks is an implicit reconciliation: the running task is reported.
    r = fw.call({"type": "RECONCILE", "reconcile": {"tasks": None}})
    assert r.status_code == 202, r.text
    fw.wait_update("n1", "TASK_RUNNING")
    assert fw.call({"type": "REVIVE", "revive": {"roles": None}}).status_code == 202
    assert fw.call({"type": "SUPPRESS", "suppress": None}).status_code == 202
    assert fw.call({"type": "REVIVE", "revive": None}).status_code == 202

    # DECLINE with null filters gets the default filter (5 s), as without them; a null
    # element of offer_ids is skipped.
    o = fw.wait_offers()[0]
    t0 = time.monotonic()
    r = fw.call({"type": "DECLINE", "decline": {
        "offer_ids": [None, {"value": o["id"]["value"]}], "filters": None}})
    assert r.status_code == 202, r.text
    fw.wait_offers(timeout=15)
    assert time.monotonic() - t0 >= 4.5

    # KILL with null agent_id and kill_policy.
    r = fw.call({"type": "KILL", "kill": {"task_id": {"value": "n1"}, "agent_id": None,
                                          "kill_policy": None}})
    assert r.status_code == 202, r.text
    fw.wait_update("n1", "TASK_KILLED")
    # A required field sent as null is missing, as in Mesos.
    r = fw.call({"type": "KILL", "kill": {"task_id": None}})
    assert r.status_code == 400, r.text
    fw.teardown()
