"""Persistent volumes of v1 frameworks (issue 19): a task launched through ACCEPT on a volume
made by ACCEPT CREATE gets it mounted at its container_path, its data outlives it and is
seen by the next task on the volume; GROW_VOLUME and SHRINK_VOLUME (offer operations and
operator calls) change the volume's size as Mesos validates them; DESTROY removes its
directory on the agent (docs/scheduler-api.md)."""
import json
import os

import requests

import helpers
from helpers import port_range, wait_until
from mesos_client import JSON, Framework

LABELS = {"labels": [{"key": "owner", "value": "itest"}]}


def res(name, value, role="db", extra=None):
    r = {"name": name, "type": "SCALAR", "scalar": {"value": value}, "role": role,
         "reservation": {"principal": "ops", "labels": LABELS}}
    if extra:
        r.update(extra)
    return r


def vol(size, vid="fv", path="data"):
    return res("disk", size, extra={"disk": {"persistence": {"id": vid, "principal": "ops"},
                                             "volume": {"container_path": path,
                                                        "mode": "RW"}}})


def find(offer, name, pred=lambda r: True):
    return [r for r in offer["resources"] if r["name"] == name and pred(r)]


def volumes_of(offer):
    return find(offer, "disk", lambda r: "persistence" in r.get("disk", {}))


class Fw:
    def __init__(self, m, name):
        self.fw = Framework(m.url, name=name, roles=["db"])
        self.fw.subscribe()
        self.n = 0

    def offer(self, pred=lambda o: True, what="offer"):
        def one():
            ev = self.fw.wait_event(lambda e: e["type"] == "OFFERS", 15, what)
            for o in ev["offers"]["offers"]:
                if pred(o):
                    return o
                self.fw.decline([o["id"]["value"]], 0)
            return None
        return wait_until(one, 40, what=what)

    def ops(self, offer, ops):
        """ACCEPTs offer with ops (each given an id); the operations' statuses by id."""
        for o in ops:
            self.n += 1
            o["id"] = {"value": "op-%d" % self.n}
        r = self.fw.call({"type": "ACCEPT", "accept": {
            "offer_ids": [{"value": offer["id"]["value"]}], "operations": ops,
            "filters": {"refuse_seconds": 0}}})
        assert r.status_code == 202, r.text
        want = {o["id"]["value"] for o in ops if o["type"] not in ("LAUNCH",)}
        got = {}
        while want - set(got):
            ev = self.fw.wait_event(lambda e: e["type"] == "UPDATE_OPERATION_STATUS", 10,
                                    "operation status")
            st = ev["update_operation_status"]["status"]
            got[st["operation_id"]["value"]] = st
        return [got.get(o["id"]["value"]) for o in ops]


def task(offer, tid, cmd, v):
    return {"name": tid, "task_id": {"value": tid}, "agent_id": offer["agent_id"],
            "resources": [res("cpus", 0.1), res("mem", 32), v],
            "command": {"value": cmd, "environment": {"variables": [
                {"name": helpers.TAG_VAR, "value": helpers.current_tag()}]}}}


def vol_offer(f, size):
    return f.offer(lambda o: any(v["scalar"]["value"] == size for v in volumes_of(o)),
                   "offer with the volume of size %g" % size)


def test_volume_mounted_grown_shrunk_destroyed(cluster):
    m = cluster.master()
    lo, hi = port_range()
    a = cluster.agent(resources="cpus(*):2; mem(*):2048; disk(*):5000; ports(*):[%d-%d]"
                      % (lo, hi))
    aid = wait_until(lambda: a.slave(), 20, what="agent registered")["id"]
    f = Fw(m, "fwvol")
    o = f.offer()
    st = f.ops(o, [{"type": "RESERVE", "reserve": {"resources": [
                        res("cpus", 1), res("mem", 256), res("disk", 400)]}},
                   {"type": "CREATE", "create": {"volumes": [vol(100)]}}])
    assert [s["state"] for s in st] == ["OPERATION_FINISHED"] * 2, st

    # The first task writes into the volume, through its container path in the sandbox.
    o = vol_offer(f, 100)
    v = volumes_of(o)[0]
    t1 = task(o, "w1", "test -d data && echo kept > data/f && test \"$BERTH_VOLUME_0\" "
                       "&& exit 0", v)
    assert f.fw.accept([o["id"]["value"]], [t1]).status_code == 202
    s = f.fw.wait_update("w1", ["TASK_FINISHED", "TASK_FAILED", "TASK_ERROR"])
    assert s["state"] == "TASK_FINISHED", s
    d = a.work_dir / "volumes" / "mesos#db#fv"
    assert (d / "f").read_text() == "kept\n"

    # GROW by 50: the offer shows 150, a launch must say 150.
    o = vol_offer(f, 100)
    v = volumes_of(o)[0]
    grow = {"type": "GROW_VOLUME", "grow_volume": {"volume": v, "addition": res("disk", 50)}}
    st = f.ops(o, [grow])
    assert st[0]["state"] == "OPERATION_FINISHED", st
    o = vol_offer(f, 150)
    v150 = volumes_of(o)[0]
    # the old size is refused
    bad = task(o, "old", "true", v)
    assert f.fw.accept([o["id"]["value"]], [bad]).status_code == 202
    s = f.fw.wait_update("old", "TASK_ERROR")
    assert "has size 150, not 100" in s["message"], s
    o = vol_offer(f, 150)
    t2 = task(o, "r2", "grep -qx kept data/f && echo more >> data/f", v150)
    assert f.fw.accept([o["id"]["value"]], [t2]).status_code == 202
    s = f.fw.wait_update("r2", ["TASK_FINISHED", "TASK_FAILED"])
    assert s["state"] == "TASK_FINISHED", s
    assert (d / "f").read_text() == "kept\nmore\n"

    # Mesos's validation: each refused operation changes nothing.
    o = vol_offer(f, 150)
    cases = [
        ({"type": "GROW_VOLUME", "grow_volume": {"volume": v150,
                                                 "addition": res("disk", 0)}},
         "The size of 'GrowVolume.addition' field must be greater than zero"),
        ({"type": "GROW_VOLUME", "grow_volume": {"volume": v150,
                                                 "addition": res("disk", 5000)}},
         "Insufficient reserved disk for role 'db'"),
        ({"type": "GROW_VOLUME", "grow_volume": {"volume": v150, "addition": dict(
            res("disk", 10), reservation={"principal": "other"})}},
         "Incompatible resources in the 'GrowVolume.volume' and 'GrowVolume.addition' fields"),
        ({"type": "GROW_VOLUME", "grow_volume": {"volume": res("disk", 150),
                                                 "addition": res("disk", 10)}},
         "Invalid persistent volume in the 'GrowVolume.volume' field"),
        ({"type": "SHRINK_VOLUME", "shrink_volume": {"volume": v150,
                                                     "subtract": {"value": 150}}},
         "Value of 'ShrinkVolume.subtract' must be smaller than the size of "
         "'ShrinkVolume.volume'"),
        ({"type": "SHRINK_VOLUME", "shrink_volume": {"volume": v150,
                                                     "subtract": {"value": -1}}},
         "Value of 'ShrinkVolume.subtract' must be greater than zero"),
        ({"type": "SHRINK_VOLUME", "shrink_volume": {"volume": dict(
            v150, shared={}), "subtract": {"value": 1}}},
         "Shrinking a shared persistent volume is not supported"),
        ({"type": "SHRINK_VOLUME", "shrink_volume": {"volume": vol(150, vid="nope"),
                                                     "subtract": {"value": 1}}},
         "No persistent volume 'nope' of role 'db'"),
    ]
    st = f.ops(o, [c for c, _ in cases])
    for (c, msg), s in zip(cases, st):
        assert s["state"] == "OPERATION_ERROR" and msg in s["message"], (c["type"], s)
    # SHRINK by 120.
    o = vol_offer(f, 150)
    st = f.ops(o, [{"type": "SHRINK_VOLUME", "shrink_volume": {
        "volume": volumes_of(o)[0], "subtract": {"value": 120}}}])
    assert st[0]["state"] == "OPERATION_FINISHED", st
    o = vol_offer(f, 30)
    assert (d / "f").exists()  # resizing keeps the data

    # A volume in use can be neither grown nor shrunk (operator API: 409).
    v30 = volumes_of(o)[0]
    t3 = task(o, "busy", "exec sleep 300", v30)
    assert f.fw.accept([o["id"]["value"]], [t3]).status_code == 202
    f.fw.wait_update("busy", "TASK_RUNNING")
    body = {"type": "GROW_VOLUME", "grow_volume": {"agent_id": {"value": aid},
                                                   "volume": v30,
                                                   "addition": res("disk", 10)}}
    r = requests.post(m.url + "/api/v1", data=json.dumps(body), headers=JSON, timeout=10)
    assert r.status_code == 409 and "in use by task 'busy'" in r.text, r.text
    f.fw.kill("busy")
    f.fw.wait_update("busy", "TASK_KILLED")
    # The operator calls: 400 malformed, 202 applied.
    r = requests.post(m.url + "/api/v1", data=json.dumps(
        {"type": "SHRINK_VOLUME", "shrink_volume": {"agent_id": {"value": aid}}}),
        headers=JSON, timeout=10)
    assert r.status_code == 400 and "shrink_volume" in r.text, r.text
    wait_until(lambda: not requests.post(m.url + "/api/v1", data=json.dumps(body),
                                         headers=JSON, timeout=10).status_code == 409,
               20, what="volume idle")
    o = vol_offer(f, 40)
    shrink = {"type": "SHRINK_VOLUME", "shrink_volume": {
        "agent_id": {"value": aid}, "volume": volumes_of(o)[0], "subtract": {"value": 20}}}
    r = requests.post(m.url + "/api/v1", data=json.dumps(shrink), headers=JSON, timeout=10)
    assert r.status_code == 202, r.text
    o = vol_offer(f, 20)

    # The size survives a master restart (it is stored).
    m.stop()
    m.start()
    m.ready()
    f.fw.disconnect()
    f.fw.subscribe()
    o = vol_offer(f, 20)

    # DESTROY removes the data on the agent.
    st = f.ops(o, [{"type": "DESTROY", "destroy": {"volumes": [volumes_of(o)[0]]}}])
    assert st[0]["state"] == "OPERATION_FINISHED", st
    wait_until(lambda: not d.exists(), 10, what="volume directory removed")
    f.fw.teardown()


def test_bad_volume_id_refused(cluster):
    """A volume whose id cannot name a directory on the agent is refused at launch."""
    m = cluster.master()
    a = cluster.agent(resources="cpus(*):2; mem(*):1024; disk(*):1000")
    wait_until(lambda: a.slave(), 20, what="agent registered")
    f = Fw(m, "fwvol-bad")
    o = f.offer()
    st = f.ops(o, [{"type": "RESERVE", "reserve": {"resources": [
                        res("cpus", 1), res("mem", 128), res("disk", 100)]}},
                   {"type": "CREATE", "create": {"volumes": [vol(50, vid="a..b")]}}])
    assert st[1]["state"] == "OPERATION_FINISHED", st
    o = vol_offer(f, 50)
    t = task(o, "bad", "true", volumes_of(o)[0])
    assert f.fw.accept([o["id"]["value"]], [t]).status_code == 202
    s = f.fw.wait_update("bad", "TASK_ERROR")
    assert "cannot be mounted" in s["message"], s
    assert not os.path.exists(a.work_dir / "volumes" / "mesos#db#a..b")
    f.fw.teardown()
