"""Mesos's legacy master endpoints that tools scrape (compat.md §2.2, §10.10): their shapes,
and that they agree with /master/state."""
from helpers import app_def, wait_until


def get(api, path, code=200):
    r = api.get(path, allow_redirects=False)
    assert r.status_code == code, (path, r.status_code, r.text)
    return r


def test_legacy_endpoints(one):
    api = one.m.api
    assert api.post("/v2/apps", app_def("/lg", "exec sleep 3600", instances=2)).status_code == 201
    api.wait_running("/lg", 2)
    st = get(api, "/master/state").json()
    fw = [f for f in st["frameworks"] if f["name"] == "marathon"][0]

    snap = get(api, "/metrics/snapshot").json()
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in snap.values())
    for k in ("master/elected", "master/uptime_secs", "master/tasks_running",
              "master/tasks_staging", "master/tasks_finished", "master/tasks_killed",
              "master/slaves_active", "master/slaves_connected", "master/slaves_inactive",
              "master/frameworks_active", "master/outstanding_offers", "master/cpus_total",
              "master/cpus_used", "master/cpus_percent", "master/mem_total",
              "master/disk_used", "master/gpus_total", "master/cpus_revocable_total"):
        assert k in snap, k
    assert snap["master/elected"] == 1.0 and snap["master/slaves_active"] == 1.0
    assert snap["master/tasks_running"] == 2.0 and snap["master/cpus_used"] > 0
    assert 0 < snap["master/cpus_percent"] <= 1 and snap["master/frameworks_active"] >= 1

    fws = get(api, "/master/frameworks").json()
    assert set(fws) == {"frameworks", "completed_frameworks", "unregistered_frameworks"}
    assert [f["id"] for f in fws["frameworks"]] == [f["id"] for f in st["frameworks"]]
    only = get(api, "/frameworks?framework_id=%s" % fw["id"]).json()["frameworks"]
    assert [f["id"] for f in only] == [fw["id"]]

    ts = get(api, "/master/tasks").json()["tasks"]
    assert sorted(t["id"] for t in ts) == sorted(t["id"] for t in fw["tasks"])
    assert len(get(api, "/tasks?limit=1").json()["tasks"]) == 1
    assert len(get(api, "/tasks?offset=1").json()["tasks"]) == 1
    get(api, "/master/tasks?limit=x", 400)

    roles = get(api, "/master/roles").json()["roles"]
    star = [r for r in roles if r["name"] == "*"][0]
    assert fw["id"] in star["frameworks"] and star["resources"]["cpus"] > 0

    summ = get(api, "/state-summary").json()
    assert summ["hostname"] == st["hostname"]
    s0 = summ["slaves"][0]
    assert s0["id"] == st["slaves"][0]["id"] and s0["TASK_RUNNING"] == 2
    assert s0["framework_ids"] == [fw["id"]]
    f0 = [f for f in summ["frameworks"] if f["id"] == fw["id"]][0]
    assert f0["TASK_RUNNING"] == 2 and f0["slave_ids"] == [s0["id"]]
    assert "tasks" not in f0

    r = get(api, "/master/redirect", 307)
    assert r.headers["Location"] == "//%s:%d" % (st["leader_info"]["address"]["hostname"],
                                                 st["leader_info"]["address"]["port"])
    assert get(api, "/master/flags").json()["flags"] == st["flags"]
    v = get(api, "/version").json()
    assert v["version"] == st["version"] and isinstance(v["build_time"], (int, float))
    get(api, "/health")
    r = api.post("/master/tasks")
    assert r.status_code == 405, r.status_code
