"""Role weights and quotas through the operator API (UPDATE_WEIGHTS, GET_WEIGHTS,
UPDATE_QUOTA, GET_QUOTA, GET_ROLES) and their enforcement on framework offers and launches
and on the apps framework (docs/operator-api.md "Weights and quotas")."""
import json

import requests

import helpers
from helpers import app_def, port_range, wait_until
from mesos_client import JSON, Framework


def op(m, body, headers=JSON):
    return requests.post(m.url + "/api/v1", data=body if isinstance(body, str)
                         else json.dumps(body), headers=headers, timeout=10)


def update_quota(m, configs, force=False):
    return op(m, {"type": "UPDATE_QUOTA",
                  "update_quota": {"force": force, "quota_configs": configs}})


def q(role, guarantees=None, limits=None):
    c = {"role": role}
    if guarantees:
        c["guarantees"] = {k: {"value": v} for k, v in guarantees.items()}
    if limits:
        c["limits"] = {k: {"value": v} for k, v in limits.items()}
    return c


def get(m, kind):
    r = op(m, {"type": kind})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == kind
    return body[kind.lower()]


def role_entry(m, name):
    roles = get(m, "GET_ROLES")["roles"]
    found = [r for r in roles if r["name"] == name]
    return found[0] if found else None


def agent(cluster, cpus=4):
    m = cluster.master()
    lo, hi = port_range()
    a = cluster.agent(resources="cpus(*):%g; mem(*):4096; disk(*):10000; ports(*):[%d-%d]"
                      % (cpus, lo, hi))
    wait_until(lambda: a.slave(), 20, what="agent registered")
    return m, a


def test_round_trip_validation_and_restart(cluster):
    m, a = agent(cluster)
    assert get(m, "GET_WEIGHTS") == {}
    assert get(m, "GET_QUOTA") == {"status": {}}

    r = op(m, {"type": "UPDATE_WEIGHTS",
               "update_weights": {"weight_infos": [{"role": "prod", "weight": 2.0}]}})
    assert r.status_code == 200, r.text
    r = update_quota(m, [q("prod", {"cpus": 2}, {"cpus": 3, "mem": 1024})])
    assert r.status_code == 200, r.text

    def check():
        assert get(m, "GET_WEIGHTS") == {"weight_infos": [{"role": "prod", "weight": 2.0}]}
        st = get(m, "GET_QUOTA")["status"]
        assert st["configs"] == [{"role": "prod", "guarantees": {"cpus": {"value": 2}},
                                  "limits": {"cpus": {"value": 3}, "mem": {"value": 1024}}}]
        assert st["infos"][0]["role"] == "prod"
        assert st["infos"][0]["guarantee"][0]["name"] == "cpus"
        assert st["infos"][0]["guarantee"][0]["scalar"]["value"] == 2
        r = role_entry(m, "prod")
        assert r["weight"] == 2.0
        assert r["quota"]["limits"]["cpus"]["value"] == 3
        assert r["quota"]["guarantees"]["cpus"]["value"] == 2

    check()
    m.restart()
    wait_until(lambda: a.slave(), 20, what="agent back")
    check()

    # Bad calls: 400 with a message; nothing changes.
    bad = [
        ("{not json", "Failed to parse"),
        ({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [
            {"role": "prod", "weight": -1}]}}, "must be a finite number > 0"),
        ({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [
            {"role": "bad role!", "weight": 1}]}}, "not a valid role"),
        ({"type": "UPDATE_WEIGHTS"}, "weight_infos"),
        ({"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [
            q("prod", {"cpus": -1})]}}, ">= 0"),
        ({"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [
            q("prod", None, {"bogus": 1})]}}, "unknown resource 'bogus'"),
        ({"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [
            q("prod", {"cpus": 3}, {"cpus": 1})]}}, "exceeds its limit"),
        ({"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [
            q("*", {"cpus": 1})]}}, "'*' cannot have a quota"),
        ({"type": "UPDATE_QUOTA", "update_quota": {"force": "yes", "quota_configs": []}},
         "force"),
    ]
    for body, words in bad:
        r = op(m, body)
        assert r.status_code == 400, (body, r.status_code, r.text)
        assert words in r.text, (body, r.text)
    check()

    # A guarantee beyond the cluster's unreserved resources: 409 unless forced.
    r = update_quota(m, [q("dev", {"cpus": 3})])
    assert r.status_code == 409 and "force" in r.text, r.text
    assert "dev" not in json.dumps(get(m, "GET_QUOTA"))
    r = update_quota(m, [q("dev", {"cpus": 3})], force=True)
    assert r.status_code == 200, r.text
    assert [c["role"] for c in get(m, "GET_QUOTA")["status"]["configs"]] == ["dev", "prod"]

    # An empty config removes the quota; weight 1 removes the weight.
    assert update_quota(m, [q("dev"), q("prod")]).status_code == 200
    assert op(m, {"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [
        {"role": "prod", "weight": 1}]}}).status_code == 200
    assert get(m, "GET_QUOTA") == {"status": {}}
    assert get(m, "GET_WEIGHTS") == {}
    m.restart()
    assert get(m, "GET_QUOTA") == {"status": {}}


def test_nulls_read_as_absent(cluster):
    """A null optional field reads as absent (reference/compat.md §10.9); a null map value
    is a map entry without its required value, an error as in Mesos."""
    m = cluster.master()
    r = op(m, {"type": "UPDATE_QUOTA", "update_quota": {"force": None, "quota_configs": [
        {"role": "prod", "guarantees": None, "limits": {"cpus": {"value": 3}}}, None]}})
    assert r.status_code == 200, r.text
    configs = get(m, "GET_QUOTA")["status"]["configs"]
    assert configs == [{"role": "prod", "limits": {"cpus": {"value": 3}}}], configs
    r = op(m, {"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [
        {"role": "prod", "limits": {"mem": None}}]}})
    assert r.status_code == 400 and "limits.mem.value" in r.text, r.text
    r = op(m, {"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [
        {"role": "prod", "weight": 2.0}, None]}})
    assert r.status_code == 200, r.text
    assert get(m, "GET_WEIGHTS") == {"weight_infos": [{"role": "prod", "weight": 2.0}]}
    r = op(m, {"type": "GET_ROLES", "get_roles": None})
    assert r.status_code == 200, r.text
    # A null type is no type; a null call is no Call object.
    r = op(m, {"type": None})
    assert r.status_code == 400 and "Expecting 'type' to be present" in r.text, r.text
    assert op(m, "null").status_code == 400


def task(task_id, offer, cpus, mem=32):
    return {"name": task_id, "task_id": {"value": task_id}, "agent_id": offer["agent_id"],
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
                          {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}}],
            "command": {"value": "exec sleep 300", "environment": {"variables": [
                {"name": helpers.TAG_VAR, "value": helpers.current_tag()}]}}}


def cpus_of(offer):
    return sum(r["scalar"]["value"] for r in offer["resources"] if r["name"] == "cpus")


def offer_after(fw, start, pred=lambda o: True, timeout=20):
    """The first offer satisfying pred in an OFFERS event seen after all_events[start:]
    (wait_update drops the events it skips, so the list is searched, not the queue)."""
    def find():
        for ev in list(fw.all_events[start:]):
            if ev["type"] == "OFFERS":
                for o in ev["offers"]["offers"]:
                    if pred(o):
                        return o
        return None
    return wait_until(find, timeout, what="offer")


def test_framework_limit(cluster):
    m, a = agent(cluster)
    assert update_quota(m, [q("prod", None, {"cpus": 1})]).status_code == 200
    fw = Framework(m.url, name="quota", roles=["prod"])
    fw.subscribe()
    o = fw.wait_offers()[0]
    assert abs(cpus_of(o) - 1) < 1e-9, o["resources"]
    # The limit goes down while the offer is out: a launch past it is refused.
    assert update_quota(m, [q("prod", None, {"cpus": 0.5})]).status_code == 200
    n = len(fw.all_events)
    r = fw.accept([o["id"]["value"]], [task("t1", o, 0.6)])
    assert r.status_code == 202, r.text
    st = fw.wait_update("t1", "TASK_ERROR")
    assert "Quota limit of role 'prod'" in st["message"], st

    # The next offer holds only the headroom.
    o = offer_after(fw, n)
    assert abs(cpus_of(o) - 0.5) < 1e-9, o["resources"]
    n = len(fw.all_events)
    r = fw.accept([o["id"]["value"]], [task("t2", o, 0.5)])
    assert r.status_code == 202, r.text
    fw.wait_update("t2", "TASK_RUNNING")
    wait_until(lambda: abs(role_entry(m, "prod")["quota"]["consumed"]["cpus"]["value"] - 0.5)
               < 1e-9, 10, what="consumed reported")
    o = offer_after(fw, n)
    assert cpus_of(o) < 1e-9, o["resources"]
    n = len(fw.all_events)

    # Raising the limit gives more (agent: 3.5 free, headroom 1.5).
    assert update_quota(m, [q("prod", None, {"cpus": 2})]).status_code == 200
    fw.decline([o["id"]["value"]], refuse_seconds=0)
    o = offer_after(fw, n, lambda x: cpus_of(x) > 0.5)
    assert abs(cpus_of(o) - 1.5) < 1e-9, o["resources"]
    fw.teardown()


def test_guarantee_holds_back(cluster):
    m, a = agent(cluster, cpus=4)
    # dev is guaranteed 3 cpus: a framework of role web is offered only 1.
    assert update_quota(m, [q("dev", {"cpus": 3})]).status_code == 200
    fw = Framework(m.url, name="web", roles=["web"])
    fw.subscribe()
    o = fw.wait_offers()[0]
    assert abs(cpus_of(o) - 1) < 1e-9, o["resources"]
    fw.teardown()


def test_app_limit(cluster):
    m, a = agent(cluster)
    assert update_quota(m, [q("prod", None, {"cpus": 1})]).status_code == 200
    r = m.api.post("/v2/apps", app_def("/qp", "sleep 3600", cpus=0.4, mem=16, instances=4,
                                       role="prod"))
    assert r.status_code == 201, r.text
    wait_until(lambda: len(m.api.running("/qp")) == 2, 20, what="two /qp running")
    wait_until(lambda: any(x["app"]["id"] == "/qp" for x in m.api.queue()), 10,
               what="/qp waiting")
    assert len(m.api.tasks("/qp")) == 2
    assert abs(role_entry(m, "prod")["quota"]["consumed"]["cpus"]["value"] - 0.8) < 1e-9
