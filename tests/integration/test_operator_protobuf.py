"""The operator API in protobuf (Content-Type and Accept application/x-protobuf): every call
is made once in JSON and once in protobuf and the answers must agree. The protobuf side is
encoded and decoded by tests/integration/pbwire.py, written from Mesos's field numbers
(master.proto, mesos.proto, quota.proto, maintenance.proto) independently of berth's."""
import json
import time

import requests

import pbwire
from helpers import app_def
from mesos_client import Framework, read_records

JSON_H = {"Content-Type": "application/json", "Accept": "application/json"}
PB_H = {"Content-Type": "application/x-protobuf", "Accept": "application/x-protobuf"}


def norm(x):
    """Drops what protobuf cannot tell from absent (empty lists and objects), recursively;
    numbers compare by value (15 == 15.0), reals to the millisecond."""
    if isinstance(x, dict):
        out = {k: norm(v) for k, v in x.items()}
        return {k: v for k, v in out.items() if v not in ([], {})}
    if isinstance(x, list):
        return [norm(v) for v in x]
    if isinstance(x, float):  # berth's JSON writes 15 significant digits, protobuf all
        return round(x, 3)
    return x


def unknown_fields(x, path=""):
    """The "#<number>" keys pbwire.decode left for fields its schema lacks."""
    if isinstance(x, dict):
        return [path + "/" + k for k in x if k.startswith("#")] + [
            f for k, v in x.items() for f in unknown_fields(v, path + "/" + k)]
    if isinstance(x, list):
        return [f for v in x for f in unknown_fields(v, path)]
    return []


def first_diff(a, b, path=""):
    """Where a and b first differ, as a path and the two values."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return (path + "/" + k, a.get(k, "<absent>"), b.get(k, "<absent>"))
            d = first_diff(a[k], b[k], path + "/" + k)
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return (path + "[len]", len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_diff(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    return None if a == b else (path, a, b)


def both(m, body):
    url = m.url + "/api/v1"
    rj = requests.post(url, data=json.dumps(body), headers=JSON_H, timeout=10)
    rp = requests.post(url, data=pbwire.encode("MasterCall", body), headers=PB_H, timeout=10)
    return rj, rp


def test_every_operator_call_agrees(one):
    m = one.m
    assert m.api.post("/v2/apps", app_def("/opb", "exec sleep 3600")).status_code == 201
    m.api.wait_running("/opb", 1)
    fw = Framework(m.url, name="opb-fw")
    fw.subscribe()
    fw.wait_offers()
    for body in ({"type": "UPDATE_WEIGHTS", "update_weights": {
                     "weight_infos": [{"role": "opb", "weight": 2.0}]}},
                 {"type": "UPDATE_QUOTA", "update_quota": {"force": True, "quota_configs": [
                     {"role": "opb", "guarantees": {"cpus": {"value": 0.5}},
                      "limits": {"cpus": {"value": 1.0}}}]}}):
        rp = requests.post(m.url + "/api/v1", data=pbwire.encode("MasterCall", body),
                           headers=PB_H, timeout=10)
        assert rp.status_code == 200, (body["type"], rp.status_code, rp.text)
    reads = ["GET_HEALTH", "GET_FLAGS", "GET_VERSION", "GET_LOGGING_LEVEL", "GET_STATE",
             "GET_AGENTS", "GET_FRAMEWORKS", "GET_EXECUTORS", "GET_TASKS", "GET_ROLES",
             "GET_WEIGHTS", "GET_MASTER", "GET_MAINTENANCE_STATUS",
             "GET_MAINTENANCE_SCHEDULE", "GET_QUOTA"]
    for t in reads:
        rj, rp = both(m, {"type": t})
        assert rj.status_code == rp.status_code == 200, (t, rj.status_code, rp.status_code,
                                                         rp.text)
        assert rp.headers["Content-Type"] == "application/x-protobuf", t
        j = rj.json()
        if t == "GET_ROLES":
            # berth's JSON extras (docs/operator-api.md); Mesos's Role has no field for them
            for r in j["get_roles"]["roles"]:
                r.pop("allocated", None)
                r.pop("quota", None)
        j = norm(j)
        p = norm(pbwire.decode("Response", rp.content))
        assert not unknown_fields(p), (t, unknown_fields(p))
        assert j == p, (t, first_diff(j, p))
    # metrics: the same names (values move between the two calls)
    rj, rp = both(m, {"type": "GET_METRICS", "get_metrics": {}})
    assert rj.status_code == rp.status_code == 200
    names_j = {x["name"] for x in rj.json()["get_metrics"]["metrics"]}
    names_p = {x["name"] for x in pbwire.decode("Response", rp.content)["get_metrics"]["metrics"]}
    assert names_j == names_p and "master/elected" in names_j
    # errors are the same, in plain text
    for body in ({"type": "LIST_FILES", "list_files": {"path": "/master/log"}},
                 {"type": "READ_FILE", "read_file": {"path": "/nope", "offset": 0}},
                 {"type": "SET_LOGGING_LEVEL", "set_logging_level": {"level": 1}},
                 {"type": "TEARDOWN", "teardown": {"framework_id": {"value": "nope"}}}):
        rj, rp = both(m, body)
        assert (rj.status_code, rj.text) == (rp.status_code, rp.text), (body, rj.text, rp.text)
    rp = requests.post(m.url + "/api/v1", headers=PB_H, timeout=10, data=pbwire.encode(
        "MasterCall", {"type": "TEARDOWN", "teardown": {"framework_id": {"value": fw.id}}}))
    assert rp.status_code == 200 and rp.content == b"", (rp.status_code, rp.text)
    fw.wait_event(lambda e: e["type"] in ("ERROR", "_CLOSED"), what="the stream's end")


def test_operator_protobuf_transport(one):
    url = one.m.url + "/api/v1"
    r = requests.post(url, data=b"\xff\xff\xff", headers=PB_H, timeout=10)
    assert r.status_code == 400 and r.text.startswith("Failed to parse body into Call protobuf")
    r = requests.post(url, data=b"{}", headers={"Content-Type": "text/plain"}, timeout=10)
    assert r.status_code == 415 and "application/x-protobuf" in r.text
    # JSON wins when both are allowed
    r = requests.post(url, data=pbwire.encode("MasterCall", {"type": "GET_HEALTH"}), timeout=10,
                      headers={"Content-Type": "application/x-protobuf",
                               "Accept": "application/x-protobuf, application/json"})
    assert r.status_code == 200 and r.json() == {"type": "GET_HEALTH",
                                                 "get_health": {"healthy": True}}
    r = requests.post(url, data=pbwire.encode("MasterCall", {"type": "GET_HEALTH"}), timeout=10,
                      headers={"Content-Type": "application/x-protobuf", "Accept": "text/html"})
    assert r.status_code == 406
    # q=0 excludes a type
    h = {"Content-Type": "application/x-protobuf",
         "Accept": "application/json;q=0, application/x-protobuf"}
    r = requests.post(url, data=pbwire.encode("MasterCall", {"type": "GET_HEALTH"}), timeout=10,
                      headers=h)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/x-protobuf"
    assert pbwire.decode("Response", r.content) == {"type": "GET_HEALTH",
                                                    "get_health": {"healthy": True}}
    h["Accept"] = "application/x-protobuf; q=0"
    r = requests.post(url, data=pbwire.encode("MasterCall", {"type": "GET_HEALTH"}), timeout=10,
                      headers=h)
    assert r.status_code == 406, r.status_code


def test_event_stream_in_both_encodings(one):
    m = one.m
    url = m.url + "/api/v1"
    rj = requests.post(url, data=json.dumps({"type": "SUBSCRIBE"}), stream=True, timeout=10,
                       headers=JSON_H)
    rp = requests.post(url, data=pbwire.encode("MasterCall", {"type": "SUBSCRIBE"}),
                       stream=True, timeout=10, headers=PB_H)
    assert rj.status_code == rp.status_code == 200
    assert rp.headers["Content-Type"] == "application/x-protobuf"
    ej, ep = read_records(rj.raw), read_records(rp.raw)
    sj = json.loads(next(ej))
    sp = pbwire.decode("MasterEvent", next(ep))
    assert sj["type"] == sp["type"] == "SUBSCRIBED"
    assert not unknown_fields(sp), unknown_fields(sp)
    assert norm(sj) == norm(sp), first_diff(norm(sj), norm(sp))
    assert m.api.post("/v2/apps", app_def("/opbs", "exec sleep 3600")).status_code == 201

    def until(records, decode, kind):
        for rec in records:
            ev = decode(rec)
            if ev["type"] == kind:
                return ev
    for kind in ("TASK_ADDED", "TASK_UPDATED"):
        a = until(ej, json.loads, kind)
        b = until(ep, lambda r: pbwire.decode("MasterEvent", r), kind)
        assert not unknown_fields(b), unknown_fields(b)
        assert norm(a) == norm(b), (kind, first_diff(norm(a), norm(b)))
    rj.close()
    rp.close()


def test_operator_writes_agree(one):
    """Every operator write, made once in JSON and once in protobuf on the same agent (each
    undone before the other encoding's turn): the same status codes and texts, and the same
    state read after each step."""
    m = one.m
    url = m.url + "/api/v1"
    aid = requests.post(url, data=json.dumps({"type": "GET_AGENTS"}), headers=JSON_H,
                        timeout=10).json()["get_agents"]["agents"][0]["agent_info"]["id"]
    agent = requests.post(url, data=json.dumps({"type": "GET_AGENTS"}), headers=JSON_H,
                          timeout=10).json()["get_agents"]["agents"][0]
    host = agent["agent_info"]["hostname"]
    resv = [{"type": "DYNAMIC", "role": "opw", "principal": "p"}]
    cpus = {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.25}, "reservations": resv}
    disk = {"name": "disk", "type": "SCALAR", "scalar": {"value": 8.0}, "reservations": resv}
    vol = dict(disk, disk={"persistence": {"id": "opw-vol", "principal": "p"},
                           "volume": {"container_path": "data", "mode": "RW"}})
    machine = {"hostname": host, "ip": "127.0.0.1"}
    other = {"hostname": "opw-elsewhere", "ip": "10.9.9.9"}  # DOWN would remove the agent
    window = {"machine_ids": [machine], "unavailability": {
        "start": {"nanoseconds": int(time.time() * 1e9) + 3600 * 10**9},
        "duration": {"nanoseconds": 600 * 10**9}}}
    steps = [
        {"type": "RESERVE_RESOURCES", "reserve_resources": {"agent_id": aid,
                                                            "resources": [cpus, disk]}},
        {"type": "CREATE_VOLUMES", "create_volumes": {"agent_id": aid, "volumes": [vol]}},
        {"type": "GET_OPERATIONS"},
        {"type": "DESTROY_VOLUMES", "destroy_volumes": {"agent_id": aid, "volumes": [vol]}},
        {"type": "UNRESERVE_RESOURCES", "unreserve_resources": {"agent_id": aid,
                                                                "resources": [cpus, disk]}},
        {"type": "UNRESERVE_RESOURCES", "unreserve_resources": {"agent_id": aid,
                                                                "resources": [cpus]}},
        {"type": "UPDATE_MAINTENANCE_SCHEDULE",
         "update_maintenance_schedule": {"schedule": {"windows": [window]}}},
        {"type": "GET_MAINTENANCE_SCHEDULE"},
        {"type": "UPDATE_MAINTENANCE_SCHEDULE", "update_maintenance_schedule": {"schedule": {
            "windows": [window, dict(window, machine_ids=[other])]}}},
        {"type": "START_MAINTENANCE", "start_maintenance": {"machines": [other]}},
        {"type": "GET_MAINTENANCE_STATUS"},
        {"type": "STOP_MAINTENANCE", "stop_maintenance": {"machines": [other]}},
        {"type": "UPDATE_MAINTENANCE_SCHEDULE",
         "update_maintenance_schedule": {"schedule": {}}},
        {"type": "DEACTIVATE_AGENT", "deactivate_agent": {"agent_id": aid}},
        {"type": "REACTIVATE_AGENT", "reactivate_agent": {"agent_id": aid}},
        {"type": "DRAIN_AGENT", "drain_agent": {"agent_id": aid, "mark_gone": False,
                                                "max_grace_period": {"seconds": 1}}},
        {"type": "REACTIVATE_AGENT", "reactivate_agent": {"agent_id": aid}},
        {"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {"value": "nope"}}},
        {"type": "DRAIN_AGENT", "drain_agent": {"agent_id": {"value": "nope"}}},
    ]

    def agents_view():
        got = requests.post(url, data=json.dumps({"type": "GET_AGENTS"}), headers=JSON_H,
                            timeout=10).json()["get_agents"]
        assert got.get("agents"), got
        a = got["agents"][0]
        return norm({k: a.get(k) for k in ("total_resources", "deactivated", "drain_info")})

    def run(encode):
        out = []
        for body in steps:
            if encode:
                r = requests.post(url, data=pbwire.encode("MasterCall", body), headers=PB_H,
                                  timeout=10)
                answer = pbwire.decode("Response", r.content) if r.status_code == 200 and \
                    r.content else r.text
                if isinstance(answer, dict):
                    assert not unknown_fields(answer), (body["type"], unknown_fields(answer))
            else:
                r = requests.post(url, data=json.dumps(body), headers=JSON_H, timeout=10)
                answer = r.json() if r.content and r.headers.get(
                    "Content-Type", "").startswith("application/json") else r.text
            if body["type"] == "DRAIN_AGENT" and r.status_code == 200:
                # drained (no tasks) before the next step, whichever encoding asked
                deadline = time.time() + 10
                while agents_view().get("drain_info", {}).get("state") != "DRAINED":
                    assert time.time() < deadline, agents_view()
                    time.sleep(0.1)
            out.append((body["type"], r.status_code, norm(answer) if isinstance(
                answer, dict) else answer, agents_view()))
        return out

    a, b = run(False), run(True)
    for x, y in zip(a, b):
        assert x == y, (x[0], first_diff({"v": list(x)}, {"v": list(y)}))
    codes = [c for _, c, _, _ in a]
    assert codes[:5] == [202, 202, 200, 202, 202], a
    assert codes[5] == 409, a[5]  # nothing left to unreserve: the same refusal both ways
    assert codes[6:17] == [200] * 11, a
    assert codes[17] == codes[18] and codes[17] in (400, 404), a[17:]
    assert a[10][2]["get_maintenance_status"]["status"]["down_machines"] == [other], a[10]
    reserved = [r for r in a[0][3]["total_resources"] if r.get("reservations")]
    assert {r["name"] for r in reserved} == {"cpus", "disk"}, a[0][3]
    assert a[13][3].get("deactivated") is True and not a[14][3].get("deactivated"), a[13:15]
    # and the real MARK_AGENT_GONE, in protobuf
    r = requests.post(url, headers=PB_H, timeout=10, data=pbwire.encode(
        "MasterCall", {"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": aid}}))
    assert r.status_code == 200, (r.status_code, r.text)
