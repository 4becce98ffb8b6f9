"""Large polled answers sent from a memory file with sendfile (issue 12, net/http-cond.c): an
identity answer of 64 KiB or more asked for twice in the same state is written once into a
memfd, and later answers of that state come from it — byte for byte what the pieces give,
over one keep-alive connection, with 304s between, and a change of state a new answer."""
import http.client
import json
import os

from helpers import app_def, wait_until


def memfds(pid):
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += "memfd:berth-answer" in os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            pass
    return n


def test_large_answers_from_a_file(cluster):
    m = cluster.master()
    for i in range(80):  # 160 pieces: the file is written in several pwritev calls
        d = app_def("/sf/app-%02d" % i, "exec sleep 3600", instances=0)
        d["labels"] = {"big": "x%d" % i * 400, "n": str(i)}
        r = m.api.post("/v2/apps", d)
        assert r.status_code == 201, r.text
    wait_until(lambda: m.api.get("/v2/deployments").json() == [], 20, what="no deployment")
    host, port = m.url.split("//", 1)[1].rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=10)

    def get():
        c.request("GET", "/v2/apps")
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()

    def get_inm(tag):
        c.request("GET", "/v2/apps", headers={"If-None-Match": tag})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()

    st, h, first = get()
    assert st == 200 and len(first) >= 64 * 1024, len(first)
    assert memfds(m.p.pid) == 0  # seen once: sent from the pieces
    for _ in range(5):  # the same connection, the same bytes, now from the file
        st, h2, body = get()
        assert (st, h2["etag"], body) == (200, h["etag"], first)
    assert memfds(m.p.pid) == 1
    st, h304, b304 = get_inm(h["etag"])
    assert (st, b304) == (304, b"")
    assert get()[2] == first  # the connection goes on after a 304
    apps = {a["id"]: a for a in json.loads(first)["apps"]}
    assert len(apps) == 80 and apps["/sf/app-03"]["labels"]["big"] == "x3" * 400

    # a change: a new state, a new answer (and file), never the old bytes
    r = m.api.put("/v2/apps/sf/app-03", {"labels": {"big": "y" * 3000, "n": "3"}})
    assert r.status_code == 200, r.text

    def changed():
        st, h3, b3 = get()
        a3 = [a for a in json.loads(b3)["apps"] if a["id"] == "/sf/app-03"][0]
        return b3 != first and a3["labels"]["big"] == "y" * 3000
    wait_until(changed, 20, what="the changed label in /v2/apps")
    st, h3, second = get()
    for _ in range(3):
        st, h4, body = get()
        assert (st, h4["etag"], body) == (200, h3["etag"], second)
    assert h3["etag"] != h["etag"]
    # the same through a new connection
    c.close()
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    assert get()[2] == second
    c.close()
