"""The polled Marathon reads under view ACLs (issue 12): /v2/tasks, /v2/apps, /v2/deployments
and /v2/queue are assembled from the render cache's pieces with the view_apps filter applied
per principal, and one principal's ETag never answers 304 for another principal who sees
different bytes (the tag is of the representation sent). The master runs with
BERTH_RENDER_VERIFY=1 (every cache hit rendered again and compared)."""
import json

import requests

from helpers import app_def, wait_until
from test_acl import ANY, start, vals

PATHS = ["/v2/tasks", "/v2/apps?embed=apps.tasks", "/v2/deployments", "/v2/queue"]
AUTH = {"ops": ("ops", "ops-pw"), "dev": ("dev", "dev-pw")}


def get(m, who, path, enc, inm=None):
    h = {"Accept-Encoding": enc}
    if inm:
        h["If-None-Match"] = inm
    r = requests.get(m.url + path, auth=AUTH[who], headers=h, timeout=10)
    assert r.status_code in (200, 304), (who, path, r.status_code, r.text[:200])
    return r


def test_views_do_not_share_tags(cluster, monkeypatch):
    monkeypatch.setenv("BERTH_RENDER_VERIFY", "1")
    acls = {"permissive": False,
            "register_agents": [{"principals": ANY, "agents": ANY}],
            "run_tasks": [{"principals": ANY, "users": ANY}],
            "create_apps": [{"principals": vals("ops"), "app_ids": ANY}],
            "view_frameworks": [{"principals": vals("ops"), "users": ANY}],
            "view_apps": [{"principals": vals("dev"), "app_ids": vals("/dev")},
                          {"principals": vals("ops"), "app_ids": ANY}]}
    m, _ = start(cluster, acls)
    cred = cluster.workdir / "agent-cred"
    cred.write_text(json.dumps({"principal": "agent", "secret": "agent-pw"}))
    cluster.agent(m, extra=["--credential", str(cred)])
    for app, n in (("/dev/a", 2), ("/ops/b", 2)):
        r = m.api.post("/v2/apps", app_def(app, "exec sleep 3600", instances=n))
        assert r.status_code == 201, r.text
    # one that cannot be placed: a deployment and a queue entry only ops may see
    r = m.api.post("/v2/apps", app_def("/ops/big", "exec sleep 3600", instances=1, cpus=1000))
    assert r.status_code == 201, r.text
    wait_until(lambda: len(get(m, "ops", "/v2/tasks?status=running", "identity")
                           .json()["tasks"]) == 4, 40, what="4 running tasks")
    wait_until(lambda: get(m, "ops", "/v2/queue", "identity").json()["queue"], 20,
               what="/ops/big queued")

    for enc in ("identity", "gzip"):
        for path in PATHS:
            ro, rd = get(m, "ops", path, enc), get(m, "dev", path, enc)
            to, td = ro.headers["ETag"], rd.headers["ETag"]
            assert ro.content != rd.content, path
            assert to != td, (path, to, td)
            dev_text = rd.text
            assert "/ops/" not in dev_text, (path, dev_text[:300])
            assert "/dev/a" in ro.text or path in ("/v2/deployments", "/v2/queue")
            if path == "/v2/tasks":
                assert {t["appId"] for t in rd.json()["tasks"]} == {"/dev/a"}
                assert {t["appId"] for t in ro.json()["tasks"]} == {"/dev/a", "/ops/b"}
            for _ in range(3):  # both polling, each with the other's tag then its own
                r = get(m, "dev", path, enc, inm=to)
                assert r.status_code == 200 and r.content == rd.content, path
                assert r.headers["ETag"] == td
                r = get(m, "ops", path, enc, inm=td)
                assert r.status_code == 200 and r.content == ro.content, path
                assert get(m, "dev", path, enc, inm=td).status_code == 304, path
                assert get(m, "ops", path, enc, inm=to).status_code == 304, path
                r = get(m, "dev", path, enc, inm=", ".join([to, td]))
                assert r.status_code == 304 and r.headers["ETag"] == td, path
    # GET_FRAMEWORKS (the framework cache): ops sees the built-in frameworks, dev none
    def gf(who, inm=None):
        h = {"If-None-Match": inm} if inm else {}
        r = requests.post(m.url + "/api/v1", json={"type": "GET_FRAMEWORKS"},
                          auth=AUTH[who], headers=h, timeout=10)
        assert r.status_code in (200, 304), r.text
        return r
    ro, rd = gf("ops"), gf("dev")
    assert ro.json()["get_frameworks"]["frameworks"]
    assert rd.json()["get_frameworks"]["frameworks"] == []
    assert ro.headers["ETag"] != rd.headers["ETag"]
    for _ in range(3):
        assert gf("dev", ro.headers["ETag"]).status_code == 200
        assert gf("ops", rd.headers["ETag"]).status_code == 200
        assert gf("dev", rd.headers["ETag"]).status_code == 304
        assert gf("ops", ro.headers["ETag"]).status_code == 304
    log = m.stderr_path.read_text()
    assert "stale" not in log, log[-2000:]
