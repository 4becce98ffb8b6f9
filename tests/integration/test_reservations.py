"""Dynamic reservations and persistent volumes: the operator API calls RESERVE_RESOURCES,
UNRESERVE_RESOURCES, CREATE_VOLUMES, DESTROY_VOLUMES and the framework ACCEPT operations
RESERVE / UNRESERVE / CREATE / DESTROY (docs/operator-api.md, docs/scheduler-api.md)."""
import json

import requests

import helpers
from helpers import port_range, wait_until
from mesos_client import JSON, Framework

LABELS = {"labels": [{"key": "owner", "value": "itest"}]}


def op(m, body):
    return requests.post(m.url + "/api/v1", data=json.dumps(body), headers=JSON, timeout=10)


def res(name, value, role, extra=None):
    r = {"name": name, "type": "SCALAR", "scalar": {"value": value}, "role": role,
         "reservation": {"principal": "ops", "labels": LABELS}}
    if extra:
        r.update(extra)
    return r


def vol(size, vid, role="db"):
    return res("disk", size, role, {"disk": {"persistence": {"id": vid, "principal": "ops"},
                                             "volume": {"container_path": "data", "mode": "RW"}}})


def call(m, kind, agent_id, items):
    field, lst = {"RESERVE_RESOURCES": ("reserve_resources", "resources"),
                  "UNRESERVE_RESOURCES": ("unreserve_resources", "resources"),
                  "CREATE_VOLUMES": ("create_volumes", "volumes"),
                  "DESTROY_VOLUMES": ("destroy_volumes", "volumes")}[kind]
    return op(m, {"type": kind, field: {"agent_id": {"value": agent_id}, lst: items}})


def slave_state(m, agent_id):
    st = m.api.get("/master/state").json()
    return [s for s in st["slaves"] if s["id"] == agent_id][0]


def reserved(m, agent_id, role, name):
    return slave_state(m, agent_id)["reserved_resources"].get(role, {}).get(name, 0)


def agent_with_static(cluster):
    m = cluster.master()
    lo, hi = port_range()
    a = cluster.agent(resources="cpus(prod):1; cpus(*):3; mem(*):4096; disk(*):10000; "
                                "ports(*):[%d-%d]" % (lo, hi))
    wait_until(lambda: a.slave(), 20, what="agent registered")
    return m, a, a.slave()["id"]


def test_operator_reserve_volume_rules_and_restart(cluster):
    m, a, aid = agent_with_static(cluster)
    # The static reservation shows per role.
    assert reserved(m, aid, "prod", "cpus") == 1

    r = call(m, "RESERVE_RESOURCES", aid, [res("cpus", 1, "db"), res("disk", 1000, "db")])
    assert r.status_code == 202, r.text
    assert reserved(m, aid, "db", "disk") == 1000
    assert reserved(m, aid, "db", "cpus") == 1
    s = slave_state(m, aid)
    assert s["unreserved_resources"]["disk"] == 9000
    assert s["used_resources"]["cpus"] == 0

    # Too much: 409, nothing changes. Malformed: 400. Unknown agent: 400.
    r = call(m, "RESERVE_RESOURCES", aid, [res("disk", 1, "db"), res("disk", 99999, "db")])
    assert r.status_code == 409 and "Insufficient" in r.text
    assert reserved(m, aid, "db", "disk") == 1000
    r = call(m, "RESERVE_RESOURCES", aid, [{"name": "disk"}])
    assert r.status_code == 400
    r = call(m, "RESERVE_RESOURCES", aid, [res("disk", 1, "*")])
    assert r.status_code == 400
    r = call(m, "RESERVE_RESOURCES", "no-such-agent", [res("disk", 1, "db")])
    assert r.status_code == 400
    r = op(m, {"type": "RESERVE_RESOURCES"})
    assert r.status_code == 400

    # Volumes: only on reserved disk, unique ids, within the reserved disk.
    r = call(m, "CREATE_VOLUMES", aid, [vol(100, "v0", role="*")])
    assert r.status_code == 400 and "reserved" in r.text
    r = call(m, "CREATE_VOLUMES", aid, [vol(600, "v1")])
    assert r.status_code == 202, r.text
    r = call(m, "CREATE_VOLUMES", aid, [vol(10, "v1")])
    assert r.status_code == 409
    r = call(m, "CREATE_VOLUMES", aid, [vol(500, "v2")])
    assert r.status_code == 409

    # No unreserve of disk holding a volume; the plain part may go.
    r = call(m, "UNRESERVE_RESOURCES", aid, [res("disk", 1000, "db")])
    assert r.status_code == 409 and "DESTROY" in r.text
    assert reserved(m, aid, "db", "disk") == 1000
    r = call(m, "UNRESERVE_RESOURCES", aid, [res("disk", 400, "db")])
    assert r.status_code == 202, r.text
    assert reserved(m, aid, "db", "disk") == 600
    r = call(m, "DESTROY_VOLUMES", aid, [vol(600, "nope")])
    assert r.status_code == 409
    r = call(m, "DESTROY_VOLUMES", aid, [vol(600, "v1")])
    assert r.status_code == 202, r.text
    r = call(m, "UNRESERVE_RESOURCES", aid, [res("disk", 600, "db")])
    assert r.status_code == 202, r.text
    assert reserved(m, aid, "db", "disk") == 0
    assert slave_state(m, aid)["unreserved_resources"]["disk"] == 10000
    # Static reservations are not dynamic ones.
    r = call(m, "UNRESERVE_RESOURCES", aid, [res("cpus", 1, "prod")])
    assert r.status_code == 409

    # A master restart keeps the dynamic reservation (cpus(db):1).
    m.restart()
    wait_until(lambda: (a.slave() or {}).get("active"), 20, what="agent re-registered")
    wait_until(lambda: reserved(m, aid, "db", "cpus") == 1, 10, what="reservation re-applied")
    assert slave_state(m, aid)["unreserved_resources"]["cpus"] == 2
    # And an agent restart (its resources text holds only the static part).
    a.restart()
    wait_until(lambda: (a.slave() or {}).get("active"), 20, what="agent restarted")
    wait_until(lambda: reserved(m, aid, "db", "cpus") == 1, 10, what="re-applied again")
    assert reserved(m, aid, "prod", "cpus") == 1
    r = call(m, "UNRESERVE_RESOURCES", aid, [res("cpus", 1, "db")])
    assert r.status_code == 202, r.text
    assert slave_state(m, aid)["unreserved_resources"]["cpus"] == 3


def test_operator_nulls_read_as_absent(cluster):
    """Resources as generated clients send them, every unset optional field null
    (reference/compat.md §10.9): reserved and unreserved as without the nulls."""
    m, a, aid = agent_with_static(cluster)
    nulls = {"reservations": None, "disk": None, "revocable": None, "shared": None,
             "provider_id": None, "allocation_info": None, "ranges": None, "set": None}
    item = res("cpus", 1, "db", nulls)
    item["reservation"]["labels"] = None
    r = op(m, {"type": "RESERVE_RESOURCES", "reserve_resources": {
        "agent_id": {"value": aid}, "resources": [item, None], "source": None}})
    assert r.status_code == 202, r.text
    assert reserved(m, aid, "db", "cpus") == 1
    r = call(m, "UNRESERVE_RESOURCES", aid, [item])
    assert r.status_code == 202, r.text
    assert reserved(m, aid, "db", "cpus") == 0


def find(offer, name, pred=lambda r: True):
    return [r for r in offer["resources"] if r["name"] == name and pred(r)]


def test_framework_reserve_create_launch(cluster):
    m, a, aid = agent_with_static(cluster)
    fw = Framework(m.url, name="resv", roles=["db"])
    fw.subscribe()
    o = fw.wait_offers()[0]
    oid = o["id"]["value"]
    ops = [{"type": "RESERVE", "reserve": {"resources": [
              res("cpus", 1, "db"), res("mem", 128, "db"), res("disk", 100, "db")]}},
           {"type": "CREATE", "id": {"value": "op-create"},
            "create": {"volumes": [vol(100, "fv1")]}}]
    r = fw.call({"type": "ACCEPT", "accept": {"offer_ids": [{"value": oid}],
                 "operations": ops, "filters": {"refuse_seconds": 0}}})
    assert r.status_code == 202, r.text
    ev = fw.wait_event(lambda e: e["type"] == "UPDATE_OPERATION_STATUS", 10, "op status")
    assert ev["update_operation_status"]["status"]["state"] == "OPERATION_FINISHED"
    assert reserved(m, aid, "db", "disk") == 100

    def offer_with_volume():
        ev = fw.wait_event(lambda e: e["type"] == "OFFERS", 15, "offer with the volume")
        o = ev["offers"]["offers"][0]
        return o if find(o, "disk", lambda r: "disk" in r) else None

    o = wait_until(offer_with_volume, 30, what="offer with the volume")
    v = find(o, "disk", lambda r: "disk" in r)[0]
    assert v["disk"]["persistence"]["id"] == "fv1"
    assert v["disk"]["volume"]["container_path"] == "data"
    assert v["role"] == "db" and v["reservation"]["principal"] == "ops"
    assert v["reservation"]["labels"] == LABELS
    cpus_db = find(o, "cpus", lambda r: r["role"] == "db" and "reservation" in r)
    assert cpus_db and cpus_db[0]["scalar"]["value"] == 1
    assert cpus_db[0]["allocation_info"] == {"role": "db"}
    # The static reservation for prod is not offered to a framework of role db.
    assert not find(o, "cpus", lambda r: r["role"] == "prod")

    # LAUNCH on the reservation and the volume.
    task = {"name": "vt", "task_id": {"value": "vt"}, "agent_id": o["agent_id"],
            "resources": [res("cpus", 0.5, "db"), res("mem", 64, "db"), v],
            "command": {"value": "exec sleep 300", "environment": {"variables": [
                {"name": helpers.TAG_VAR, "value": helpers.current_tag()}]}}}
    r = fw.accept([o["id"]["value"]], [task])
    assert r.status_code == 202, r.text
    fw.wait_update("vt", "TASK_RUNNING")
    # No destroy while in use; the used volume is not offered.
    r = call(m, "DESTROY_VOLUMES", aid, [vol(100, "fv1")])
    assert r.status_code == 409 and "in use" in r.text
    o = fw.wait_offers()[0]
    assert not find(o, "disk", lambda r: "disk" in r)
    # A second task on the same volume is refused.
    t2 = dict(task, task_id={"value": "vt2"}, name="vt2",
              resources=[res("cpus", 0.1, "db"), v])
    fw.accept([o["id"]["value"]], [t2])
    st = fw.wait_update("vt2", "TASK_ERROR")
    assert "in use" in st["message"]

    fw.kill("vt")
    fw.wait_update("vt", "TASK_KILLED")
    # DESTROY and UNRESERVE through the framework.
    o = wait_until(offer_with_volume, 30, what="volume offered again")
    ops = [{"type": "DESTROY", "destroy": {"volumes": [vol(100, "fv1")]}},
           {"type": "UNRESERVE", "unreserve": {"resources": [
               res("cpus", 1, "db"), res("mem", 128, "db"), res("disk", 100, "db")]}}]
    r = fw.call({"type": "ACCEPT", "accept": {"offer_ids": [{"value": o["id"]["value"]}],
                 "operations": ops, "filters": {"refuse_seconds": 0}}})
    assert r.status_code == 202
    wait_until(lambda: reserved(m, aid, "db", "disk") == 0, 10, what="unreserved")
    assert reserved(m, aid, "db", "cpus") == 0
    fw.teardown()


def test_refinement_format(cluster):
    m, a, aid = agent_with_static(cluster)
    assert call(m, "RESERVE_RESOURCES", aid, [res("cpus", 1, "db")]).status_code == 202
    fw = Framework(m.url, name="refine", roles=["db"], capabilities=["RESERVATION_REFINEMENT"])
    fw.subscribe()
    o = fw.wait_offers()[0]
    c = find(o, "cpus", lambda r: r["role"] == "db")[0]
    assert c["reservations"] == [{"type": "DYNAMIC", "role": "db", "principal": "ops",
                                  "labels": LABELS}]
    fw.teardown()


def test_reconcile_operations(cluster):
    """RECONCILE_OPERATIONS (202, then UPDATE_OPERATION_STATUS events without a uuid): an
    operation's last status, OPERATION_UNKNOWN for one never seen, OPERATION_RECOVERING while
    its agent is away; implicit reconciliation lists every operation kept; bad calls 400 and
    a refused Accept header 406, with nothing sent."""
    m, a, aid = agent_with_static(cluster)
    fw = Framework(m.url, name="recops", roles=["db"])
    fw.subscribe()
    o = fw.wait_offers()[0]
    ops = [{"type": "RESERVE", "id": {"value": "op-ok"},
            "reserve": {"resources": [res("cpus", 1, "db")]}},
           {"type": "UNRESERVE", "id": {"value": "op-bad"},
            "unreserve": {"resources": [res("mem", 64, "db")]}}]
    r = fw.call({"type": "ACCEPT", "accept": {"offer_ids": [o["id"]],
                 "operations": ops, "filters": {"refuse_seconds": 0}}})
    assert r.status_code == 202, r.text
    sent = {}
    for _ in range(2):
        ev = fw.wait_event(lambda e: e["type"] == "UPDATE_OPERATION_STATUS", 10, "op status")
        st = ev["update_operation_status"]["status"]
        sent[st["operation_id"]["value"]] = st
    assert sent["op-ok"]["state"] == "OPERATION_FINISHED"
    assert sent["op-bad"]["state"] == "OPERATION_ERROR"

    def statuses(n):
        got = {}
        for _ in range(n):
            ev = fw.wait_event(lambda e: e["type"] == "UPDATE_OPERATION_STATUS", 10,
                               "reconciliation status")
            st = ev["update_operation_status"]["status"]
            assert "uuid" not in st
            got[st["operation_id"]["value"]] = st
        return got

    def reconcile(items, headers=None):
        return fw.call({"type": "RECONCILE_OPERATIONS", "reconcile_operations": {
            "operations": items}}, headers=headers)

    r = reconcile([{"operation_id": {"value": "op-ok"}, "agent_id": {"value": aid}},
                   {"operation_id": {"value": "op-bad"}},
                   {"operation_id": {"value": "op-never"}, "agent_id": {"value": aid}},
                   {"operation_id": {"value": "op-ghost"}, "agent_id": {"value": "no-such"}}])
    assert r.status_code == 202 and r.text == "", r.text
    got = statuses(4)
    assert got["op-ok"]["state"] == "OPERATION_FINISHED"
    assert got["op-ok"]["agent_id"] == {"value": aid}
    assert got["op-bad"]["state"] == "OPERATION_ERROR" and got["op-bad"]["message"]
    assert got["op-never"]["state"] == "OPERATION_UNKNOWN"
    assert got["op-ghost"]["state"] == "OPERATION_UNKNOWN"

    assert reconcile([]).status_code == 202
    assert set(statuses(2)) == {"op-ok", "op-bad"}

    # Bad calls change nothing and send nothing.
    r = reconcile([{"operation_id": {"value": "op-ok"}}, {"agent_id": {"value": aid}}])
    assert r.status_code == 400 and "operations[1].operation_id" in r.text, r.text
    r = reconcile([{"operation_id": {"value": "op-ok"}}], headers={"Accept": "text/plain"})
    assert r.status_code == 406, r.text
    r = fw.call({"type": "RECONCILE_OPERATIONS",
                 "reconcile_operations": {"operations": {"operation_id": "x"}}})
    assert r.status_code == 400, r.text

    # The agent goes away: what became of an operation on it is not known until it is back.
    a.kill9()
    wait_until(lambda: not (a.slave() or {}).get("active"), 10, what="agent seen gone")
    assert reconcile([{"operation_id": {"value": "op-late"},
                       "agent_id": {"value": aid}}]).status_code == 202
    got = statuses(1)
    assert got["op-late"]["state"] == "OPERATION_RECOVERING"
    fw.teardown()
