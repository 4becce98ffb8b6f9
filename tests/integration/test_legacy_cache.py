"""/master/tasks and /state-summary from the state cache (issue 12, master/legacy-http.c):
assembled from the tasks' cached renderings (the page's pieces referenced, the summary
counted from the cached entries), with an ETag and If-None-Match -> 304. The master runs
with BERTH_RENDER_VERIFY=1, which compares every such answer with the one rendered from
the whole /master/state and logs a stale one, while tasks are added, killed and an agent
is lost."""
import json

import requests

from helpers import app_def, wait_until
from test_read_cache import raw

LISTS = ("tasks", "unreachable_tasks", "completed_tasks")
PAGES = ["", "?limit=2", "?limit=3&offset=1", "?order=asc", "?order=asc&limit=2&offset=2",
         "?order=des&offset=100", "?limit=0"]


def all_tasks(m):
    st = json.loads(raw(m.url, "/master/state")[2])
    return [t for f in st["frameworks"] for k in LISTS for t in f[k]]


def first_time(t):
    return t["statuses"][0]["timestamp"] if t["statuses"] else 0


def reads(m):
    """Every page and the summary, each from the cache (an ETag, 304 on it while unchanged);
    the pages checked against /master/state's tasks sorted."""
    out = {}
    for q in PAGES:
        for path in ("/master/tasks" + q, "/tasks" + q):
            st, h, body = raw(m.url, path)
            assert st == 200 and h.get("etag"), (path, st, h)
            got = json.loads(body)["tasks"]
            out[path] = got
            times = [first_time(t) for t in got]
            asc = "order=asc" in q
            assert times == sorted(times, reverse=not asc), (path, times)
            limit = 0 if "limit=0" in q else 2 if "limit=2" in q else 3 if "limit=3" in q \
                else 100
            assert len(got) <= limit
            st2, _, b2 = raw(m.url, path, {"If-None-Match": h["etag"]})
            assert (st2, b2) == (304, b"") or st2 == 200, (path, st2)
    # GET_FRAMEWORKS: each framework's entry from the framework cache
    r = requests.post(m.url + "/api/v1", json={"type": "GET_FRAMEWORKS"}, timeout=10)
    assert r.status_code == 200 and r.headers.get("ETag"), (r.status_code, r.headers)
    out["GET_FRAMEWORKS"] = r.json()["get_frameworks"]["frameworks"]
    r2 = requests.post(m.url + "/api/v1", json={"type": "GET_FRAMEWORKS"},
                       headers={"If-None-Match": r.headers["ETag"]}, timeout=10)
    assert r2.status_code in (200, 304)
    for path in ("/master/state-summary", "/state-summary"):
        st, h, body = raw(m.url, path)
        assert st == 200 and h.get("etag"), (path, st, h)
        out[path] = json.loads(body)
        st2, _, b2 = raw(m.url, path, {"If-None-Match": h["etag"]})
        assert (st2, b2) == (304, b"") or st2 == 200, (path, st2)
    return out


def summary_running(r):
    return sum(f["TASK_RUNNING"] for f in r["/state-summary"]["frameworks"])


def test_tasks_and_summary_follow_changes_in_verify_mode(cluster, monkeypatch):
    monkeypatch.setenv("BERTH_RENDER_VERIFY", "1")
    m = cluster.master()
    a1 = cluster.agent(m, hostname="lc-a")
    a2 = cluster.agent(m, hostname="lc-b")
    a1.ready(), a2.ready()
    r = reads(m)
    assert r["/master/tasks"] == [] and len(r["/state-summary"]["slaves"]) == 2
    for i in range(2):
        resp = m.api.post("/v2/apps", app_def("/lc/app-%d" % i, "exec sleep 3600",
                                              instances=3))
        assert resp.status_code == 201, resp.text
    for i in range(2):
        m.api.wait_running("/lc/app-%d" % i, 3)
    wait_until(lambda: summary_running(reads(m)) == 6, 20, what="6 running in the summary")
    r = reads(m)
    fws = r["GET_FRAMEWORKS"]
    assert fws and all(f["framework_info"]["id"]["value"] for f in fws)
    assert any(f.get("allocated_resources") for f in fws), fws
    every = {t["id"] for t in all_tasks(m)}
    assert {t["id"] for t in r["/master/tasks"]} == every and len(every) == 6
    assert [t["id"] for t in r["/master/tasks?order=asc&limit=2&offset=2"]] == \
        [t["id"] for t in r["/master/tasks?order=asc"][2:4]]
    assert r["/master/tasks?order=des&offset=100"] == [] and r["/master/tasks?limit=0"] == []
    slaves = {s["hostname"]: s for s in r["/state-summary"]["slaves"]}
    assert sum(s["TASK_RUNNING"] for s in slaves.values()) == 6
    for _ in range(3):  # hits
        assert reads(m)["/master/tasks"] == r["/master/tasks"]

    # a task killed (replaced): its piece changes or goes, a new one comes
    tid = m.api.get("/v2/apps/lc/app-0/tasks").json()["tasks"][0]["id"]
    assert m.api.delete("/v2/apps/lc/app-0/tasks/" + tid).status_code == 200
    wait_until(lambda: all(t["state"] != "TASK_RUNNING" for t in reads(m)["/master/tasks"]
                           if t["id"] == tid), 20, what="the killed task not running")
    m.api.wait_running("/lc/app-0", 3)
    wait_until(lambda: summary_running(reads(m)) == 6, 20, what="6 running again")
    # an app scaled down
    assert m.api.put("/v2/apps/lc/app-1?force=true", json={"instances": 1}).status_code == 200
    wait_until(lambda: summary_running(reads(m)) == 4, 20, what="4 running after the scale")

    # an agent lost: its tasks and its slave entry follow
    a1.kill9()
    wait_until(lambda: json.loads(raw(m.url, "/master/slaves")[2]) and
               any(s.get("berth_state") != "connected"
                   for s in json.loads(raw(m.url, "/master/slaves")[2])["slaves"]),
               30, what="lc-a disconnected")
    reads(m)

    # bad paging: 400, as before
    for q in ("?limit=-1", "?offset=x", "?limit="):
        assert raw(m.url, "/master/tasks" + q)[0] == 400, q
    log = m.stderr_path.read_text()
    assert "state cache stale" not in log, log[-2000:]
