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
