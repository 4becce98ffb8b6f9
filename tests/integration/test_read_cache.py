"""Conditional and compressed answers of the polled Marathon reads (issue 12): an ETag on
every 200, If-None-Match on it answered 304 with no body, Accept-Encoding: gzip served
compressed, and the identity body unchanged by any of it."""
import gzip
import http.client

from helpers import app_def, wait_until

PATHS = ["/v2/apps", "/v2/apps?embed=apps.tasks", "/v2/apps?embed=apps.tasks&id=rc",
         "/v2/apps/rc/app-0", "/v2/apps/rc/app-0/tasks", "/v2/tasks", "/v2/deployments", "/v2/queue",
         "/v2/apps/*"]


def raw(url, path, headers=None):
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def test_etag_304_and_gzip(one):
    api = one.m.api
    url = one.m.url
    for i in range(3):
        r = api.post("/v2/apps", app_def("/rc/app-%d" % i, "exec sleep 3600", instances=2))
        assert r.status_code == 201, r.text

    def running():
        return len(api.get("/v2/tasks?status=running").json()["tasks"]) == 6
    wait_until(running, 30, interval=0.1, what="6 running tasks")
    wait_until(lambda: api.get("/v2/deployments").json() == [], 20, what="no deployment")

    for path in PATHS:
        st, h, body = raw(url, path)
        assert st == 200, (path, st, body[:200])
        tag = h["etag"]
        assert tag.startswith('"') and tag.endswith('"') and "-gz" not in tag, (path, tag)
        assert "content-encoding" not in h
        # the same state: the same tag, the same bytes
        st2, h2, body2 = raw(url, path)
        assert (st2, h2["etag"], body2) == (200, tag, body)

        st, h304, b304 = raw(url, path, {"If-None-Match": tag})
        assert (st, b304, h304["etag"]) == (304, b"", tag), path
        st, _, _ = raw(url, path, {"If-None-Match": '"nope", W/%s' % tag})
        assert st == 304, path
        st, _, b = raw(url, path, {"If-None-Match": '"0000000000000000-1"'})
        assert (st, b) == (200, body), path

        st, hz, bz = raw(url, path, {"Accept-Encoding": "gzip, deflate"})
        assert st == 200
        if len(body) >= 1024:
            assert hz.get("content-encoding") == "gzip", path
            assert gzip.decompress(bz) == body, path
            assert hz["etag"] == tag[:-1] + '-gz"'
            # either tag validates the state, answered with the gzip tag
            for t in (tag, hz["etag"]):
                st, h3, b3 = raw(url, path, {"Accept-Encoding": "gzip", "If-None-Match": t})
                assert (st, b3, h3["etag"]) == (304, b"", hz["etag"])
        else:
            assert "content-encoding" not in hz and bz == body
        st, hq, bq = raw(url, path, {"Accept-Encoding": "gzip;q=0, identity"})
        assert st == 200 and "content-encoding" not in hq and bq == body

    # a change gives a new tag; the old one no longer validates
    st, h, _ = raw(url, "/v2/apps?embed=apps.tasks")
    old = h["etag"]
    r = api.put("/v2/apps/rc/app-0", {"instances": 1})
    assert r.status_code == 200, r.text
    wait_until(lambda: len(api.get("/v2/apps/rc/app-0/tasks").json()["tasks"]) == 1, 20,
               what="app-0 scaled to 1")
    st, h, body = raw(url, "/v2/apps?embed=apps.tasks", {"If-None-Match": old})
    assert st == 200 and h["etag"] != old and body

    # errors carry no ETag
    st, h, _ = raw(url, "/v2/apps/nope")
    assert st == 404 and "etag" not in h


def test_cached_answers_follow_status_updates(cluster, monkeypatch):
    """While health results flow (a check that passes and fails on alternate seconds: a
    status update per task per second or two, each changing its healthCheckResults), every answer is what a render from scratch gives: the master
    runs with BERTH_RENDER_VERIFY=1, which renders every cache hit again and logs a stale
    one. Answers change with the updates (the cache is invalidated by real change), one body
    always has one ETag, and a changed body a new one."""
    monkeypatch.setenv("BERTH_RENDER_VERIFY", "1")
    m = cluster.master()
    cluster.agent()
    hc = {"protocol": "COMMAND", "command": {"value": "test $(( $(date +%s) % 2 )) -eq 0"},
          "gracePeriodSeconds": 0, "intervalSeconds": 1, "timeoutSeconds": 1,
          "maxConsecutiveFailures": 100000}
    for i in range(2):
        r = m.api.post("/v2/apps", app_def("/flow/app-%d" % i, "exec sleep 3600", instances=3,
                                           healthChecks=[hc]))
        assert r.status_code == 201, r.text

    def checked():
        tasks = m.api.get("/v2/tasks").json()["tasks"]
        return len(tasks) == 6 and all(t["healthCheckResults"] for t in tasks)
    wait_until(checked, 40, interval=0.2, what="6 tasks with health results")
    paths = ["/v2/apps?embed=apps.tasks", "/v2/apps?embed=apps.tasks&embed=apps.failures",
             "/v2/apps/flow/app-1", "/v2/apps/flow/app-0/tasks", "/v2/tasks",
             "/v2/tasks?status=running", "/v2/apps?label=nope", "/v2/queue",
             "/v2/deployments", "/v2/apps/*?embed=berth"]
    tags = {}       # etag -> body
    seen = {p: set() for p in paths}
    import time
    end = time.monotonic() + 6
    while time.monotonic() < end:
        for p in paths:
            st, h, body = raw(m.url, p)
            assert st == 200, (p, st, body[:200])
            tag = h["etag"]
            assert tags.setdefault(tag, body) == body, p  # one tag, one body
            seen[p].add(body)
    # the health results moved on: the answers with tasks changed, many times
    for p in paths[:6]:
        assert len(seen[p]) >= 3, (p, len(seen[p]))
    log = m.stderr_path.read_text()
    assert "render cache stale" not in log, log[-2000:]
