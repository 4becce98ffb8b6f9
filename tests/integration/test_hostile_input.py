"""Hostile input answered, never silently misread (issue 16): a query string over the parser's
bounds (414 / 400, the request not run with defaults), conflicting Content-Length headers and
Content-Length with Transfer-Encoding (400), NUL bytes in app ids and env values (422, nothing
created), failover_timeout and taskKillGracePeriodSeconds bounded."""
import json
import socket

import requests

from helpers import app_def


def raw_http(m, data, timeout=10):
    s = socket.create_connection(("127.0.0.1", m.port), timeout=timeout)
    s.sendall(data)
    out = b""
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        out += chunk
        if b"\r\n\r\n" in out:
            head, _, body = out.partition(b"\r\n\r\n")
            n = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
                 if l.lower().startswith(b"content-length:")]
            if n and len(body) >= n[0]:
                break
    s.close()
    return out


def test_query_over_limits_is_refused(cluster):
    m = cluster.master()
    r = m.api.post("/v2/apps", app_def("/web", cmd="sleep 600", instances=0))
    assert r.status_code == 201
    many = "&".join("p%d=1" % i for i in range(300))
    r = m.api.delete("/v2/apps/web?force=true&" + many)
    assert r.status_code == 400
    assert r.json() == {"message": "Too many query parameters: more than 256"}
    r = m.api.get("/v2/apps?" + "embed=" + "x" * 17000)
    assert r.status_code == 414
    assert "16384" in r.json()["message"]
    assert m.api.get("/v2/apps/web").status_code == 200  # the DELETE did not run
    # At the bounds: 256 parameters are accepted.
    ok = "&".join("p%d=1" % i for i in range(255))
    assert m.api.get("/v2/apps?embed=apps.tasks&" + ok).status_code == 200


def test_ambiguous_body_length(cluster):
    m = cluster.master()
    body = json.dumps(app_def("/smuggled", cmd="sleep 1", instances=0)).encode()
    req = (b"POST /v2/apps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % (len(body), len(body) + 5)
           + body + b"12345")
    out = raw_http(m, req)
    assert out.startswith(b"HTTP/1.1 400"), out[:200]
    assert b"Conflicting Content-Length headers" in out
    req = (b"POST /v2/apps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % (len(body),
                                                                              len(body))
           + body + b"\r\n0\r\n\r\n")
    out = raw_http(m, req)
    assert out.startswith(b"HTTP/1.1 400"), out[:200]
    assert m.api.get("/v2/apps/smuggled").status_code == 404


def test_nul_bytes_and_bounds(cluster):
    m = cluster.master()
    r = m.api.post("/v2/apps", app_def("/x\u0000y", cmd="sleep 1", instances=0))
    assert r.status_code == 422, r.text
    assert {"path": "/id", "errors": ["must not contain a NUL character"]} in r.json()["details"]
    d = app_def("/envnul", cmd="sleep 1", instances=0)
    d["env"]["SECRET"] = "a\u0000b"
    r = m.api.post("/v2/apps", d)
    assert r.status_code == 422, r.text
    assert any(e["path"] == "/env/SECRET" for e in r.json()["details"])
    assert m.api.get("/v2/apps").json()["apps"] == []
    d = app_def("/grace", cmd="sleep 1", instances=0, taskKillGracePeriodSeconds=1e300)
    r = m.api.post("/v2/apps", d)
    assert r.status_code == 422, r.text
    assert any(e["path"] == "/taskKillGracePeriodSeconds" for e in r.json()["details"])
    d["taskKillGracePeriodSeconds"] = 604800
    assert m.api.post("/v2/apps", d).status_code == 201

    hdr = {"Content-Type": "application/json", "Accept": "application/json"}
    for ft, want in [(1e308, 400), (9223372037.0, 400), (-1, 400)]:
        call = {"type": "SUBSCRIBE", "subscribe": {"framework_info": {
            "user": "root", "name": "fw", "failover_timeout": ft}}}
        r = requests.post(m.url + "/api/v1/scheduler", json=call, headers=hdr, timeout=10)
        assert r.status_code == want, (ft, r.text)
        assert "failover_timeout" in r.text
    call = {"type": "SUBSCRIBE", "subscribe": {"framework_info": {
        "user": "root", "name": "fw", "failover_timeout": 9223372036.0}}}
    r = requests.post(m.url + "/api/v1/scheduler", json=call, headers=hdr, timeout=10,
                      stream=True)
    assert r.status_code == 200
    r.close()
