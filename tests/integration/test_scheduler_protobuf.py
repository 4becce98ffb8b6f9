"""The v1 scheduler API in protobuf (Content-Type and Accept application/x-protobuf, as
Mesos's Java and Go HTTP clients send by default): the same scenario is driven once in JSON
and once in protobuf, and the answers and events must agree. The protobuf side is encoded and
decoded by tests/integration/pbwire.py, written from Mesos's field numbers independently of
berth's .proto files."""
import json
import time

import requests

import pbwire
from mesos_client import Framework, command_task, read_records

PB = {"Content-Type": "application/x-protobuf", "Accept": "application/x-protobuf"}


class ProtoFramework(Framework):
    """The test client of mesos_client, speaking protobuf on the wire."""

    def subscribe(self, timeout=10, call_extra=None, subscribe_extra=None):
        info = dict(self.info)
        body = {"type": "SUBSCRIBE", "subscribe": {"framework_info": info}}
        self.closed.clear()
        self.resp = requests.post(self.url, data=pbwire.encode("Call", body), headers=PB,
                                  stream=True, timeout=(timeout, 60))
        assert self.resp.status_code == 200, (self.resp.status_code, self.resp.text)
        assert self.resp.headers["Content-Type"] == "application/x-protobuf"
        self.stream_id = self.resp.headers.get("Mesos-Stream-Id")
        import threading
        self.thread = threading.Thread(target=self._reader, args=(self.resp,), daemon=True)
        self.thread.start()
        ev = self.next_event(timeout=timeout)
        if ev["type"] == "SUBSCRIBED":
            self.id = ev["subscribed"]["framework_id"]["value"]
        return ev

    def _reader(self, resp):
        try:
            for rec in read_records(resp.raw):
                ev = pbwire.decode("Event", rec)
                self.all_events.append(ev)
                self.events.put(ev)
        except Exception as e:
            self.events.put({"type": "_CLOSED", "error": repr(e)})
        else:
            self.events.put({"type": "_CLOSED"})
        self.closed.set()

    def call(self, body, stream_id="default", headers=None):
        h = dict(PB, **{"Mesos-Stream-Id": self.stream_id})
        if "framework_id" not in body and self.id:
            body = dict(body, framework_id={"value": self.id})
        return requests.post(self.url, data=pbwire.encode("Call", body), headers=h,
                             timeout=10)


def shape(x):
    """The keys of x, recursively (lists by their first element), for comparing the JSON and
    protobuf forms of events whose values differ run to run."""
    if isinstance(x, dict):  # an empty repeated field is absent in protobuf
        return {k: shape(v) for k, v in x.items() if v != []}
    if isinstance(x, list):
        return [shape(x[0])] if x else []
    return type(x).__name__


def scenario(fw, tag):
    out = {}
    ev = fw.subscribe()
    assert ev["type"] == "SUBSCRIBED", ev
    sub = ev["subscribed"]
    out["subscribed"] = shape(sub)
    assert sub["heartbeat_interval_seconds"] == 15.0
    offer = fw.wait_offers()[0]
    out["offer"] = shape(offer)
    out["offer_resources"] = sorted((r["name"], r["type"]) for r in offer["resources"])
    out["decline"] = fw.decline([offer["id"]["value"]], refuse_seconds=0).status_code
    out["revive"] = fw.call({"type": "REVIVE", "revive": {"roles": ["*"]}}).status_code
    offer = fw.wait_offers()[0]
    tid = "pb-%s-task" % tag
    task = command_task(tid, offer, "exec sleep 3600", env={"X": "1"})
    out["accept"] = fw.accept([offer["id"]["value"]], [task]).status_code
    st = fw.wait_update(tid, "TASK_RUNNING")
    out["running"] = sorted(st)
    out["running_source"] = st.get("source")
    out["reconcile"] = fw.reconcile([tid]).status_code
    st = fw.wait_event(lambda e: e["type"] == "UPDATE" and
                       e["update"]["status"].get("reason") == "REASON_RECONCILIATION",
                       what="the reconciliation update")["update"]["status"]
    out["reconciled"] = (st["state"], sorted(st))
    out["kill"] = fw.kill(tid, offer["agent_id"]["value"]).status_code
    st = fw.wait_update(tid, "TASK_KILLED")
    out["killed"] = sorted(st)
    agent = offer["agent_id"]
    for t, payload in (
            ("SHUTDOWN", {"executor_id": {"value": "nope"}, "agent_id": agent}),
            ("MESSAGE", {"agent_id": agent, "executor_id": {"value": "nope"}, "data": "aGk="}),
            ("REQUEST", {"requests": [{"agent_id": agent}]}),
            ("ACKNOWLEDGE_OPERATION_STATUS", {"agent_id": agent, "uuid": "AAEC",
                                              "operation_id": {"value": "op"}}),
            ("UPDATE_FRAMEWORK", {"framework_info": dict(fw.info, id={"value": fw.id})}),
            ("SHUTDOWN", {"agent_id": agent})):  # a required field missing: the same 400
        r = fw.call({"type": t, t.lower(): payload})
        out.setdefault("more", []).append((t, r.status_code, r.text))
    out["suppress"] = fw.call({"type": "SUPPRESS", "suppress": {"roles": ["*"]}}).status_code
    out["teardown"] = fw.teardown().status_code
    return out


def test_json_and_protobuf_agree(one):
    a = scenario(Framework(one.m.url, name="json-fw"), "json")
    b = scenario(ProtoFramework(one.m.url, name="pb-fw"), "pb")
    for k in a:
        assert a[k] == b[k], (k, a[k], b[k])
    assert a["accept"] == 202 and a["kill"] == 202 and a["teardown"] in (200, 202), a
    assert [c for _, c, _ in a["more"]] == [202, 202, 202, 202, 200, 400], a["more"]
    # nothing the client's schema does not know (a "#<field number>" key)
    assert not [k for k in json.dumps(b) if k == "#"], b


def test_protobuf_transport(one):
    url = one.m.url + "/api/v1/scheduler"
    r = requests.post(url, data=b"\xff\xff\xff", headers=PB, timeout=10)
    assert r.status_code == 400 and r.text.startswith("Failed to parse body into Call protobuf")
    r = requests.post(url, data=b"{}", headers={"Content-Type": "text/plain"}, timeout=10)
    assert r.status_code == 415 and "application/x-protobuf" in r.text
    # a call without its type: the same validation as in JSON
    call = pbwire.encode("Call", {"subscribe": {"framework_info": {"user": "u", "name": "n"}}})
    r = requests.post(url, data=call, headers=PB, timeout=10)
    rj = requests.post(url, data=json.dumps(
        {"subscribe": {"framework_info": {"user": "u", "name": "n"}}}),
        headers={"Content-Type": "application/json"}, timeout=10)
    assert (r.status_code, r.text) == (rj.status_code, rj.text), (r.text, rj.text)
    # Accept: JSON wins when both are allowed, as in Mesos
    sub = pbwire.encode("Call", {"type": "SUBSCRIBE", "subscribe": {
        "framework_info": {"user": "u", "name": "both"}}})
    r = requests.post(url, data=sub, stream=True, timeout=10, headers={
        "Content-Type": "application/x-protobuf",
        "Accept": "application/x-protobuf, application/json"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    first = next(read_records(r.raw))
    assert json.loads(first)["type"] == "SUBSCRIBED"
    r.close()
    r = requests.post(url, data=sub, timeout=10, headers={
        "Content-Type": "application/x-protobuf", "Accept": "text/html"})
    assert r.status_code == 406 and "application/x-protobuf" in r.text


def first_update(fw, tid):
    return fw.wait_event(lambda e: e["type"] == "UPDATE" and
                         e["update"]["status"]["task_id"]["value"] == tid,
                         what="the first update of " + tid)["update"]["status"]


def container_scenario(fw, tag):
    """Tasks carrying a ContainerInfo, a HealthCheck, a CheckInfo and a SECRET variable: each
    must be read the same from protobuf as from JSON (before, protobuf dropped them and a
    task berth refuses in JSON ran in protobuf). None needs an image pull: the containers are
    ones berth refuses, or a MESOS container without an image."""
    out = {}
    ev = fw.subscribe()
    assert ev["type"] == "SUBSCRIBED", ev
    cases = [
        ("docker-no-image", {"container": {"type": "DOCKER", "docker": {
            "network": "BRIDGE", "privileged": False,
            "port_mappings": [{"host_port": 0, "container_port": 80, "protocol": "tcp"}],
            "parameters": [{"key": "label", "value": "x=y"}]}}}),
        ("appc-image", {"container": {"type": "MESOS", "mesos": {"image": {
            "type": "APPC"}}}}),
        ("docker-network", {"container": {"type": "DOCKER", "docker": {
            "image": "busybox", "network": "USER"}}}),
        ("secret-env", {"command": {"shell": True, "value": "exec sleep 3600",
                                    "environment": {"variables": [{
                                        "name": "S", "type": "SECRET",
                                        "secret": {"type": "REFERENCE",
                                                   "reference": {"name": "/s"}}}]}}}),
        ("plain-mesos", {"container": {"type": "MESOS", "hostname": "h", "volumes": [{
            "mode": "RW", "container_path": "data",
            "source": {"type": "HOST_PATH", "host_path": {"path": "/tmp"}}}]},
            "health_check": {"type": "COMMAND", "delay_seconds": 0.0,
                             "interval_seconds": 1.0, "timeout_seconds": 5.0,
                             "consecutive_failures": 3, "grace_period_seconds": 10.0,
                             "command": {"shell": True, "value": "true"}},
            "check": {"type": "COMMAND", "command": {"command": {"value": "true"}},
                      "delay_seconds": 0.0}}),
    ]
    for name, extra in cases:
        fw.call({"type": "REVIVE", "revive": {"roles": ["*"]}})
        offer = fw.wait_offers()[0]
        tid = "pb-%s-%s" % (tag, name)
        task = command_task(tid, offer, "exec sleep 3600")
        task.update(extra)
        r = fw.accept([offer["id"]["value"]], [task])
        res = [r.status_code, r.text]
        if r.status_code == 202:
            st = first_update(fw, tid)
            res += [st["state"], st.get("message"), st.get("reason")]
            if st["state"] not in ("TASK_ERROR", "TASK_FAILED"):
                st = fw.wait_update(tid, "TASK_RUNNING")
                res.append(st["state"])
                assert fw.kill(tid, offer["agent_id"]["value"]).status_code == 202
                fw.wait_update(tid, "TASK_KILLED")
        out[name] = res
    # inverse offers that are unknown, both calls (with and without filters)
    for t in ("ACCEPT_INVERSE_OFFERS", "DECLINE_INVERSE_OFFERS"):
        r = fw.call({"type": t, t.lower(): {"inverse_offer_ids": [{"value": "nope"}],
                                            "filters": {"refuse_seconds": 1.0}}})
        out[t] = (r.status_code, r.text)
        r = fw.call({"type": t, t.lower(): {}})
        out[t + "-empty"] = (r.status_code, r.text)
    # RECONCILE_OPERATIONS with the client's own Accept (protobuf only for the protobuf one)
    r = fw.call({"type": "RECONCILE_OPERATIONS", "reconcile_operations": {
        "operations": [{"operation_id": {"value": "op-" + tag}}]}})
    out["reconcile_operations"] = (r.status_code, r.text)
    st = fw.wait_event(lambda e: e["type"] == "UPDATE_OPERATION_STATUS",
                       what="the operation's status")["update_operation_status"]["status"]
    assert st["operation_id"]["value"] == "op-" + tag, st
    out["operation_status"] = (st["state"], sorted(st))
    fw.teardown()
    return out


def test_containers_checks_inverse_offers_agree(one):
    a = container_scenario(Framework(one.m.url, name="json-ctr"), "j")
    b = container_scenario(ProtoFramework(one.m.url, name="pb-ctr"), "j")
    for k in a:
        assert a[k] == b[k], (k, a[k], b[k])
    # what the JSON calls give: the refusals, and the plain container that runs
    assert a["docker-no-image"][2] == "TASK_ERROR" or a["docker-no-image"][0] == 400, a
    assert "container.docker.image" in json.dumps(a["docker-no-image"]), a
    assert "APPC" in json.dumps(a["appc-image"]), a
    assert "USER" in json.dumps(a["docker-network"]), a
    # a SECRET reference reaches the agent, which has no store here (docs/security.md)
    assert a["secret-env"][2] == "TASK_FAILED", a
    assert "Secret '/s' (source '/s') for S" in a["secret-env"][3], a
    assert "no secret store" in a["secret-env"][3], a
    assert a["plain-mesos"][-1] == "TASK_RUNNING", a
    assert a["reconcile_operations"][0] == 202, a


def test_inverse_offers_both_ways(one):
    """A maintenance window over the agent: a JSON and a protobuf framework, each with a task
    there, get the same INVERSE_OFFERS (every field known to the client), decline and accept
    it the same way, and see it rescinded when the window goes."""
    m = one.m
    fws = [Framework(m.url, name="inv-json"), ProtoFramework(m.url, name="inv-pb")]
    for i, fw in enumerate(fws):
        assert fw.subscribe()["type"] == "SUBSCRIBED"
        offer = fw.wait_offers()[0]
        tid = "inv-pb-%d" % i
        assert fw.accept([offer["id"]["value"]],
                         [command_task(tid, offer, "exec sleep 600", mem=16)]).status_code == 202
        fw.wait_update(tid, "TASK_RUNNING")
    host = requests.post(m.url + "/api/v1", json={"type": "GET_AGENTS"}, timeout=10).json()[
        "get_agents"]["agents"][0]["agent_info"]["hostname"]
    start = (int(time.time()) + 3600) * 10**9
    window = {"machine_ids": [{"hostname": host}],
              "unavailability": {"start": {"nanoseconds": start},
                                 "duration": {"nanoseconds": 3600 * 10**9}}}
    r = requests.post(m.url + "/api/v1", timeout=10, json={
        "type": "UPDATE_MAINTENANCE_SCHEDULE",
        "update_maintenance_schedule": {"schedule": {"windows": [window]}}})
    assert r.status_code == 200, r.text
    got = []
    for fw in fws:
        ev = fw.wait_event(lambda e: e["type"] == "INVERSE_OFFERS", 10, "INVERSE_OFFERS")
        io = ev["inverse_offers"]["inverse_offers"][0]
        assert io["framework_id"] == {"value": fw.id}, io
        assert io["unavailability"] == window["unavailability"], io
        got.append((io, [fw.call({"type": t, t.lower(): body}) for t, body in (
            ("DECLINE_INVERSE_OFFERS", {"inverse_offer_ids": [io["id"]],
                                        "filters": {"refuse_seconds": 3600}}),
            ("ACCEPT_INVERSE_OFFERS", {}),
            ("ACCEPT_INVERSE_OFFERS", {"inverse_offer_ids": [io["id"]]}))]))
    (a, ra), (b, rb) = got
    assert not [k for k in json.dumps(b).split('"') if k.startswith("#")], b
    assert shape(a) == shape(b), (a, b)
    assert [(r.status_code, r.text) for r in ra] == [(r.status_code, r.text) for r in rb]
    assert [r.status_code for r in ra][:2] == [202, 400], [r.text for r in ra]

    def set_windows(windows):
        r = requests.post(m.url + "/api/v1", timeout=10, json={
            "type": "UPDATE_MAINTENANCE_SCHEDULE",
            "update_maintenance_schedule": {"schedule": {"windows": windows}}})
        assert r.status_code == 200, r.text
    # answered, the window gone and back: a new inverse offer, rescinded once it goes again
    set_windows([])
    set_windows([window])
    fresh = [fw.wait_event(lambda e: e["type"] == "INVERSE_OFFERS", 10, "a new INVERSE_OFFERS")[
        "inverse_offers"]["inverse_offers"][0] for fw in fws]
    set_windows([])
    for fw, io in zip(fws, fresh):
        ev = fw.wait_event(lambda e: e["type"] == "RESCIND_INVERSE_OFFER", 10, "the rescind")
        assert ev["rescind_inverse_offer"]["inverse_offer_id"] == io["id"], ev
        fw.teardown()
