"""Custom executors across a master failover (issue 19, docs/internals/executor-api.md):
the new leader learns the running executors from the re-registering agent, lists them in
/master/state and GET_EXECUTORS, accounts their resources, and the framework's executor
keeps running and gets new tasks."""
import requests

from helpers import wait_until
from mesos_client import Framework
from test_custom_executor import events, executor_info, sandbox, task
from test_ha import SESSION, ha_master, leader_of
from zk_ensemble import zk_ensemble  # noqa: F401 (fixture)


def state_executors(m):
    st = m.api.get("/master/state").json()
    return {e["executor_id"]: (f["id"], e) for f in st["frameworks"]
            for e in f.get("executors", [])}


def test_executor_known_again_after_failover(cluster, zk_ensemble):  # noqa: F811
    masters = [ha_master(cluster, zk_ensemble) for _ in range(3)]
    m1 = masters[0]
    wait_until(lambda: leader_of(masters[1]) == m1.addr, 10, what="m1 leads")
    ag = cluster.agent(master=m1, extra=["--master", ",".join(m.url for m in masters)])
    fw = Framework(m1.url, failover_timeout=60)
    fw.subscribe()
    o = fw.wait_offers()[0]
    assert fw.accept([o["id"]["value"]], [task("hold-1", o, "fx")]).status_code == 202
    fw.wait_update("hold-1", "TASK_RUNNING")
    assert "fx" in state_executors(m1)
    assert (sandbox(ag, fw, "fx") / "env.json").exists()
    fid = fw.id

    m1.kill9()
    fw.disconnect()
    rest = masters[1:]
    new = wait_until(lambda: [m for m in rest if leader_of(m) == m.addr], SESSION + 10,
                     what="a new leader")[0]
    wait_until(lambda: any(s.get("active") and str(s.get("pid", "")).endswith(
        ":%d" % ag.port) for s in new.api.slaves()), 20, what="agent on the new leader")
    # Learnt from the agent: listed, its resources counted for its framework and agent.
    ex = wait_until(lambda: state_executors(new).get("fx"), 10, what="executor on new leader")
    assert ex[0] == fid and ex[1]["slave_id"] == o["agent_id"]["value"]
    assert ex[1]["resources"]["cpus"] == 0.1 and ex[1]["resources"]["mem"] == 32
    r = requests.post(new.url + "/api/v1", json={"type": "GET_EXECUTORS"}, timeout=5)
    assert r.status_code == 200, r.text
    got = r.json()["get_executors"]["executors"]
    assert [e["executor_info"]["executor_id"]["value"] for e in got] == ["fx"]
    assert got[0]["agent_id"] == o["agent_id"]
    slave = [s for s in new.api.get("/master/state").json()["slaves"]
             if s["id"] == o["agent_id"]["value"]][0]
    # the task (0.1) and its executor (0.1) are used on the agent
    assert abs(slave["used_resources"]["cpus"] - 0.2) < 1e-6, slave["used_resources"]

    # The framework comes back: the same executor gets a new task (no second executor).
    fw2 = Framework(new.url, failover_timeout=60, framework_id=fid)
    fw2.subscribe()
    fw2.reconcile(["hold-1"])
    # An offer may come before the reconciliation's update: keep it (waiting drops events).
    offers = []

    def running(e):
        if e["type"] == "OFFERS":
            offers.extend(e["offers"]["offers"])
        if e["type"] != "UPDATE" or e["update"]["status"]["task_id"]["value"] != "hold-1":
            return False
        if "uuid" in e["update"]["status"]:
            fw2.acknowledge(e["update"]["status"])
        return e["update"]["status"]["state"] == "TASK_RUNNING"
    fw2.wait_event(running, 20, "TASK_RUNNING of hold-1")
    o = offers[0] if offers else fw2.wait_offers()[0]
    assert [e["value"] for e in o.get("executor_ids", [])] == ["fx"]
    assert fw2.accept([o["id"]["value"]], [task("after", o, "fx")]).status_code == 202
    st = fw2.wait_update("after", ["TASK_FINISHED", "TASK_FAILED"])
    assert st["state"] == "TASK_FINISHED", st
    evs = events(ag, fw2, "fx")
    assert [e["type"] for e in evs].count("SUBSCRIBED") == 1
    assert [e["launch"]["task"]["task_id"]["value"] for e in evs if e["type"] == "LAUNCH"] \
        == ["hold-1", "after"]
    fw2.teardown()
