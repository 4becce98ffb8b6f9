"""The view_apps rules filter Marathon's lists, view_frameworks /master/state, and
access_sandboxes guards the files API (docs/security.md): GET /v2/apps, /v2/groups
and /v2/tasks (JSON and text) show a principal only the apps it may view, through the real
binary."""
import json

import requests

from helpers import app_def, wait_until
from mesos_client import Framework
from test_acl import ANY, start, vals


def test_view_apps_filters_lists(cluster):
    acls = {"permissive": False,
            "register_agents": [{"principals": vals("agent"), "agents": ANY}],
            "create_apps": [{"principals": vals("ops"), "app_ids": ANY}],
            "access_sandboxes": [{"principals": vals("ops"), "users": ANY}],
            "view_apps": [{"principals": vals("dev"), "app_ids": vals("/dev")},
                          {"principals": vals("ops"), "app_ids": ANY}]}
    m, _ = start(cluster, acls)
    cred = cluster.workdir / "agent-cred"
    cred.write_text(json.dumps({"principal": "agent", "secret": "agent-pw"}))
    cluster.agent(extra=["--credential", str(cred)])
    for app in ("/dev/web", "/prod/db", "/devx"):
        r = m.api.post("/v2/apps", app_def(app, cmd="sleep 600"))
        assert r.status_code == 201, r.text
    wait_until(lambda: len(m.api.get("/v2/tasks").json()["tasks"]) == 3, timeout=60)

    dev = requests.Session()
    dev.auth = ("dev", "dev-pw")
    u = m.url
    ids = sorted(a["id"] for a in dev.get(u + "/v2/apps").json()["apps"])
    assert ids == ["/dev/web"]
    ids = sorted(a["id"] for a in dev.get(u + "/v2/apps/*").json()["*"])
    assert ids == ["/dev/web"]
    tasks = dev.get(u + "/v2/tasks").json()["tasks"]
    assert [t["appId"] for t in tasks] == ["/dev/web"]
    text = dev.get(u + "/v2/tasks", headers={"Accept": "text/plain"}).text
    assert "dev_web" in text and "prod_db" not in text and "devx" not in text
    # ops sees everything.
    assert len(m.api.get("/v2/apps").json()["apps"]) == 3
    assert len(m.api.get("/v2/tasks").json()["tasks"]) == 3
    # access_sandboxes: ops may read a sandbox, dev may not (no rule: permissive false).
    tid = tasks[0]["id"]
    r = dev.get(u + "/api/berth/tasks/%s/files/browse" % tid)
    assert r.status_code == 403, r.text
    assert "access_sandboxes" in r.text
    assert m.api.get("/api/berth/tasks/%s/files/browse" % tid).status_code == 200
    # Nobody's rule: nothing.
    other = requests.get(u + "/v2/apps", auth=("agent", "agent-pw"), timeout=10)
    assert other.status_code == 200 and other.json()["apps"] == []


def test_view_frameworks_filters_state(cluster):
    """view_frameworks (object: the framework's user) filters /master/state and what is built
    from it; here without credentials, where the request's principal is ANY."""
    acls = {"permissive": False,
            "register_frameworks": [{"principals": ANY, "roles": ANY}],
            "view_frameworks": [{"principals": ANY, "users": vals("alice")}]}
    m, _ = start(cluster, acls, creds=False)
    fa = Framework(m.url, name="fa", user="alice", failover_timeout=30)
    fb = Framework(m.url, name="fb", user="bob", failover_timeout=30)
    assert fa.subscribe()["type"] == "SUBSCRIBED"
    assert fb.subscribe()["type"] == "SUBSCRIBED"
    st = m.api.get("/master/state").json()
    assert [f["name"] for f in st["frameworks"]] == ["fa"]
    assert [f["name"] for f in m.api.get("/master/frameworks").json()["frameworks"]] == ["fa"]
    fa.disconnect()
    fb.disconnect()


def test_view_rules_filter_the_v1_operator_reads(cluster):
    """GET_FRAMEWORKS, GET_STATE (and SUBSCRIBE's snapshot) of the v1 operator API obey
    view_frameworks as /master/state does."""
    acls = {"permissive": False,
            "register_frameworks": [{"principals": ANY, "roles": ANY}],
            "view_frameworks": [{"principals": ANY, "users": vals("alice")}],
            "view_tasks": [{"principals": ANY, "users": vals("alice")}]}
    m, _ = start(cluster, acls, creds=False)
    fa = Framework(m.url, name="fa", user="alice", failover_timeout=30)
    fb = Framework(m.url, name="fb", user="bob", failover_timeout=30)
    assert fa.subscribe()["type"] == "SUBSCRIBED"
    assert fb.subscribe()["type"] == "SUBSCRIBED"
    hdr = {"Content-Type": "application/json", "Accept": "application/json"}

    def call(t):
        r = requests.post(m.url + "/api/v1", json={"type": t}, headers=hdr, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()
    names = [f["framework_info"]["name"]
             for f in call("GET_FRAMEWORKS")["get_frameworks"]["frameworks"]]
    assert names == ["fa"]
    st = call("GET_STATE")["get_state"]
    assert [f["framework_info"]["name"] for f in st["get_frameworks"]["frameworks"]] == ["fa"]
    r = requests.post(m.url + "/api/v1", json={"type": "SUBSCRIBE"}, headers=hdr, stream=True,
                      timeout=10)
    size = int(r.raw.readline())
    first = json.loads(r.raw.read(size))
    r.close()
    fws = first["subscribed"]["get_state"]["get_frameworks"]["frameworks"]
    assert [f["framework_info"]["name"] for f in fws] == ["fa"]
    fa.disconnect()
    fb.disconnect()
