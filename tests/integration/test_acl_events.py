"""The view ACLs filter the event streams, not only the reads (docs/security.md):
GET /v2/events delivers to a principal only the events about apps it may view (view_apps),
and the v1 operator API's SUBSCRIBE stream, after its snapshot, only the TASK_* and
FRAMEWORK_* events whose framework and task it may view (view_frameworks, view_tasks), as
Mesos's Subscriber::send does; AGENT_* go to everyone. Through the real binary."""
import json
import os
import pwd
import threading

import requests

from helpers import app_def, wait_until
from mesos_client import Framework
from test_acl import ANY, start, vals
from test_operator_stream import OperatorStream


class AuthSse:
    """GET /v2/events as a principal, read in a thread: (type, data) pairs in self.events."""

    def __init__(self, url, auth, query=""):
        self.resp = requests.get(url + "/v2/events" + query, auth=auth, stream=True,
                                 headers={"Accept": "text/event-stream"}, timeout=(5, 60))
        assert self.resp.status_code == 200, self.resp.text
        self.events = []
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        etype = None
        try:
            for line in self.resp.iter_lines(chunk_size=1):
                line = line.decode()
                if line.startswith("event: "):
                    etype = line[len("event: "):]
                elif line.startswith("data: "):
                    self.events.append((etype, json.loads(line[len("data: "):])))
        except Exception:  # noqa: BLE001 - closed under us at the end
            pass

    def of(self, typ):
        return [d for t, d in list(self.events) if t == typ]

    def close(self):
        self.resp.close()


def _app_ids_in(data):
    """Every app id an event names (the objects the filter checks)."""
    ids = {data.get(k) for k in ("appId", "runSpecId") if data.get(k)}
    if data.get("appDefinition"):
        ids.add(data["appDefinition"]["id"])
    plan = data.get("plan") or {}
    for st in plan.get("steps", []) + [data.get("currentStep") or {}]:
        ids.update(a["app"] for a in st.get("actions", []))
    for g in (plan.get("original"), plan.get("target")):
        ids.update(a["id"] for a in (g or {}).get("apps", []))
    return ids


def test_marathon_events_filtered_by_view_apps(cluster):
    acls = {"permissive": False,
            "register_agents": [{"principals": vals("agent"), "agents": ANY}],
            "create_apps": [{"principals": vals("ops"), "app_ids": ANY}],
            "view_apps": [{"principals": vals("dev"), "app_ids": vals("/dev")},
                          {"principals": vals("ops"), "app_ids": ANY}]}
    m, _ = start(cluster, acls)
    cred = cluster.workdir / "agent-cred"
    cred.write_text(json.dumps({"principal": "agent", "secret": "agent-pw"}))
    cluster.agent(extra=["--credential", str(cred)])
    ops = AuthSse(m.url, ("ops", "ops-pw"))
    dev = AuthSse(m.url, ("dev", "dev-pw"))
    dev_light = AuthSse(m.url, ("dev", "dev-pw"), "?plan-format=light")
    nobody = AuthSse(m.url, ("agent", "agent-pw"))
    try:
        for s in (ops, dev, dev_light, nobody):
            wait_until(lambda s=s: s.of("event_stream_attached"), 10, what="attached")
        # /prod/db first: the heavy plan of /dev/web's deployment then lists it too.
        for app in ("/prod/db", "/dev/web"):
            r = m.api.post("/v2/apps", app_def(app, cmd="sleep 600"))
            assert r.status_code == 201, r.text

        def running(s, app):
            return [d for d in s.of("status_update_event")
                    if d["appId"] == app and d["taskStatus"] == "TASK_RUNNING"]
        wait_until(lambda: running(ops, "/prod/db") and running(ops, "/dev/web"), 60,
                   what="both apps running (ops' stream)")
        wait_until(lambda: running(dev, "/dev/web") and running(dev_light, "/dev/web"), 10,
                   what="/dev/web running on dev's streams")
        wait_until(lambda: len(dev_light.of("deployment_success")) >= 1, 20,
                   what="dev's light deployment_success")
        wait_until(lambda: len(ops.of("deployment_success")) >= 2, 20,
                   what="ops' deployment_success for both apps")

        # ops (view ANY) got the events of both apps.
        for typ in ("api_post_event", "status_update_event", "instance_changed_event",
                    "deployment_info"):
            seen = set().union(*(_app_ids_in(d) for d in ops.of(typ)))
            assert {"/prod/db", "/dev/web"} <= seen, (typ, seen)
        # dev got events about /dev/web only; nothing naming /prod/db.
        for s in (dev, dev_light):
            named = [(t, _app_ids_in(d)) for t, d in list(s.events) if _app_ids_in(d)]
            assert named, s.events
            for t, ids in named:
                assert ids == {"/dev/web"}, (t, ids)
            groups = [d["groupId"] for d in s.of("group_change_success")]
            assert groups and set(groups) == {"/dev"}, groups
            posts = [d["appDefinition"]["id"] for d in s.of("api_post_event")]
            assert posts == ["/dev/web"], posts
        # The heavy plan of /dev/web lists /prod/db in its groups: dev does not get it; the
        # light plan names /dev/web alone: dev_light does.
        assert dev.of("deployment_info") == [] and dev.of("deployment_success") == []
        light = dev_light.of("deployment_info")
        assert [_app_ids_in(d) for d in light] == [{"/dev/web"}], light
        # A principal with no view rule (permissive false) gets only its own attach event.
        assert nobody.of("status_update_event") == [] and nobody.of("api_post_event") == []
        assert {t for t, _ in list(nobody.events)} <= {"event_stream_attached",
                                                       "event_stream_detached"}
    finally:
        for s in (ops, dev, dev_light, nobody):
            s.close()


def test_operator_stream_filtered_after_snapshot(cluster):
    """Without credentials the principal is ANY: the rules below let it view alice's
    frameworks and the master's user's (the built-in Marathon), and alice's tasks only."""
    me = pwd.getpwuid(os.geteuid()).pw_name
    acls = {"permissive": False,
            "register_frameworks": [{"principals": ANY, "roles": ANY}],
            "register_agents": [{"principals": ANY, "agents": ANY}],
            "run_tasks": [{"principals": ANY, "users": ANY}],
            "create_apps": [{"principals": ANY, "app_ids": ANY}],
            "view_apps": [{"principals": ANY, "app_ids": ANY}],
            "view_frameworks": [{"principals": ANY, "users": vals("alice", me)}],
            "view_tasks": [{"principals": ANY, "users": vals("alice")}]}
    m, _ = start(cluster, acls, creds=False)
    s = OperatorStream(m.url)
    fa = Framework(m.url, name="fa", user="alice", failover_timeout=30)
    fb = Framework(m.url, name="fb", user="bob", failover_timeout=30)
    try:
        wait_until(lambda: s.of("SUBSCRIBED"), 10, what="SUBSCRIBED")
        cluster.agent()
        assert fa.subscribe()["type"] == "SUBSCRIBED"
        assert fb.subscribe()["type"] == "SUBSCRIBED"
        # Marathon tasks: the task's user decides view_tasks.
        for app, user in (("/ev/alice", "alice"), ("/ev/bob", "bob")):
            d = app_def(app, cmd="sleep 600")
            d["user"] = user
            r = m.api.post("/v2/apps", d)
            assert r.status_code == 201, r.text
        tasks = wait_until(lambda: (lambda t: len(t) == 2 and all(
            x["state"] == "TASK_RUNNING" for x in t) and t)(
            m.api.get("/v2/tasks").json()["tasks"]), 60, what="two running tasks")
        tid = {t["appId"]: t["id"] for t in tasks}
        fb.teardown()
        fa.teardown()

        def removed():
            return [e["framework_removed"]["framework_info"]["name"]
                    for e in s.of("FRAMEWORK_REMOVED")]
        wait_until(lambda: removed() == ["fa"], 15, what="fa's FRAMEWORK_REMOVED")
        wait_until(lambda: [e for e in s.of("TASK_UPDATED")
                            if e["task_updated"]["status"]["task_id"]["value"]
                            == tid["/ev/alice"]
                            and e["task_updated"]["state"] == "TASK_RUNNING"], 15,
                   what="alice's task RUNNING")
        assert s.error is None, s.error
        assert s.of("AGENT_ADDED"), "agents' events go to everyone"
        added = [e["framework_added"]["framework"]["framework_info"]["name"]
                 for e in s.of("FRAMEWORK_ADDED")]
        assert added == ["fa"], added
        # Nothing of bob's task, alice's announced and updated.
        assert [e["task_added"]["task"]["task_id"]["value"] for e in s.of("TASK_ADDED")] \
            == [tid["/ev/alice"]]
        upd = {e["task_updated"]["status"]["task_id"]["value"] for e in s.of("TASK_UPDATED")}
        assert upd == {tid["/ev/alice"]}, upd
        # The snapshot of a later subscriber agrees (state_filter_v1).
        hdr = {"Content-Type": "application/json", "Accept": "application/json"}
        r = requests.post(m.url + "/api/v1", json={"type": "GET_TASKS"}, headers=hdr, timeout=10)
        got = {t["task_id"]["value"] for t in r.json()["get_tasks"]["tasks"]}
        assert got == {tid["/ev/alice"]}, got
    finally:
        s.close()
        fa.disconnect()
        fb.disconnect()
