"""Agents from the state cache (issue 12, master/state-cache.c): GET_AGENTS, GET_STATE's
get_agents, /master/state's slaves and /master/slaves (and /master/frameworks, from the
tasks' renderings) are assembled from each agent's cached
renderings. The master runs with BERTH_RENDER_VERIFY=1, which renders every hit and every
whole answer again and logs a stale one, while the agents change: tasks placed (used
resources, task counts), deactivated, reactivated, drained, one stopped."""
import json

import requests

from helpers import wait_until
from mesos_client import JSON
from test_read_cache import raw


def op(m, body):
    r = requests.post(m.url + "/api/v1", data=json.dumps(body), headers=JSON, timeout=10)
    assert r.status_code == 200, (r.status_code, r.text)
    return r


def reads(m):
    """Every agents read; each answered from the cache (an ETag) — their views by host."""
    r = op(m, {"type": "GET_AGENTS"})
    assert r.headers.get("ETag"), r.headers
    v1 = {a["agent_info"]["hostname"]: a for a in r.json()["get_agents"].get("agents", [])}
    r = op(m, {"type": "GET_STATE"})
    assert r.headers.get("ETag"), r.headers
    st_agents = r.json()["get_state"]["get_agents"].get("agents", [])
    # (a separate call: while a drain moves tasks the agents' resources may differ)
    assert sorted(a["agent_info"]["hostname"] for a in st_agents) == sorted(v1)
    st, h, body = raw(m.url, "/master/state")
    assert st == 200 and h.get("etag")
    legacy = {s["hostname"]: s for s in json.loads(body)["slaves"]}
    st, h, body = raw(m.url, "/master/slaves")
    assert st == 200 and h.get("etag"), h
    slaves = {s["hostname"]: s for s in json.loads(body)["slaves"]}
    # /master/frameworks from the same task cache, whole and one framework's
    st, h, body = raw(m.url, "/master/frameworks")
    assert st == 200 and h.get("etag"), h
    fws = json.loads(body)["frameworks"]
    for f in fws:
        st, h, one = raw(m.url, "/master/frameworks?framework_id=" + f["id"])
        assert st == 200 and [x["id"] for x in json.loads(one)["frameworks"]] == [f["id"]]
    st, h, none = raw(m.url, "/master/frameworks?framework_id=nope")
    assert json.loads(none)["frameworks"] == []
    # the same tag answers 304 while nothing changed
    st2, _, b2 = raw(m.url, "/master/slaves", {"If-None-Match": h["etag"]})
    assert st2 in (200, 304)
    return v1, legacy, slaves


def test_agents_follow_changes_in_verify_mode(cluster, monkeypatch):
    monkeypatch.setenv("BERTH_RENDER_VERIFY", "1")
    m = cluster.master()
    a1 = cluster.agent(m, hostname="sca-a")
    a2 = cluster.agent(m, hostname="sca-b")
    a1.ready(), a2.ready()
    v1, legacy, slaves = reads(m)
    assert set(v1) == set(legacy) == set(slaves) == {"sca-a", "sca-b"}
    ids = {h: a["agent_info"]["id"]["value"] for h, a in v1.items()}
    for _ in range(3):  # hits
        assert reads(m)[2] == slaves

    r = m.api.post("/v2/apps", {"id": "/sca", "cmd": "sleep 600", "cpus": 0.1, "mem": 16,
                                "instances": 4})
    assert r.status_code == 201, r.text
    m.api.wait_running("/sca", 4)
    wait_until(lambda: sum(s["berth_tasks"] for s in reads(m)[2].values()) == 4, 20,
               what="4 tasks counted on the agents")
    v1, legacy, slaves = reads(m)
    assert sum(len(a.get("allocated_resources", [])) > 0 for a in v1.values()) >= 1

    op(m, {"type": "DEACTIVATE_AGENT", "deactivate_agent": {"agent_id": {"value": ids["sca-a"]}}})
    v1, legacy, slaves = reads(m)
    assert v1["sca-a"]["deactivated"] is True and legacy["sca-a"]["deactivated"] is True
    assert slaves["sca-a"]["berth_state"] == "deactivated"
    op(m, {"type": "REACTIVATE_AGENT", "reactivate_agent": {"agent_id": {"value": ids["sca-a"]}}})
    v1, legacy, slaves = reads(m)
    assert v1["sca-a"]["deactivated"] is False and slaves["sca-a"]["berth_state"] == "connected"

    op(m, {"type": "DRAIN_AGENT", "drain_agent": {"agent_id": {"value": ids["sca-b"]}}})
    wait_until(lambda: reads(m)[2]["sca-b"]["berth_state"] in ("draining", "drained"), 20,
               what="sca-b draining")
    v1, legacy, slaves = reads(m)
    assert v1["sca-b"]["drain_info"]["state"] in ("DRAINING", "DRAINED")

    a1.stop()
    wait_until(lambda: reads(m)[2]["sca-a"]["berth_state"] != "connected", 30,
               what="sca-a disconnected")
    reads(m)
    log = m.stderr_path.read_text()
    assert "state cache stale" not in log, log[-2000:]
