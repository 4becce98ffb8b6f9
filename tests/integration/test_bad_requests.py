"""Bad requests and their exact answers; a rejected request changes nothing. Unknown fields
are kept."""
import http.client
import json
import socket

import pytest

from helpers import app_def

OK_APP = {"id": "/base", "cmd": "sleep 3600", "cpus": 0.01, "mem": 16, "instances": 0}


@pytest.fixture(scope="module")
def m(shared_master):
    api = shared_master.m.api
    if api.get("/v2/apps/base").status_code == 404:
        r = api.post("/v2/apps", OK_APP)
        assert r.status_code == 201, r.text
    return shared_master.m


def snapshot(api):
    r = api.get("/v2/apps")
    assert r.status_code == 200
    return r.json()


def with_(**kw):
    d = {"id": "/new", "cmd": "sleep 1", "cpus": 0.01, "mem": 16, "instances": 0}
    for k, v in kw.items():
        if v is None:
            d.pop(k, None)
        else:
            d[k] = v
    return json.dumps(d)


# (name, method, path, raw body, status, expected validation paths or None)
INVALID = [
    ("negative cpus", "POST", "/v2/apps", with_(cpus=-1), ["/cpus"]),
    ("negative mem", "POST", "/v2/apps", with_(mem=-5), ["/mem"]),
    ("negative instances", "POST", "/v2/apps", with_(instances=-1), ["/instances"]),
    ("bad id chars", "POST", "/v2/apps", with_(id="/Bad_ID!"), ["/id"]),
    ("id segment starting with a dash", "POST", "/v2/apps", with_(id="/-web"), ["/id"]),
    ("id with upper case", "POST", "/v2/apps", with_(id="/Web"), ["/id"]),
    ("missing id", "POST", "/v2/apps", with_(id=None), ["/id"]),
    ("cmd and args", "POST", "/v2/apps", with_(args=["/bin/true"]), ["/", "/cmd", "/args"]),
    ("backoffFactor below 1", "POST", "/v2/apps", with_(backoffFactor=0.5), ["/backoffFactor"]),
    ("bad killSelection", "POST", "/v2/apps", with_(killSelection="RANDOM"), ["/killSelection"]),
    ("bad constraint op", "POST", "/v2/apps", with_(constraints=[["hostname", "NOPE"]]),
     ["/constraints", "/constraints/0", "/constraints(0)"]),
    ("negative port", "POST", "/v2/apps", with_(portDefinitions=[{"port": -1}]),
     ["/portDefinitions/0/port", "/portDefinitions(0)/port", "/portDefinitions"]),
    ("put negative cpus", "PUT", "/v2/apps/base", json.dumps({"cpus": -1}), ["/cpus"]),
    ("patch negative instances", "PATCH", "/v2/apps/base", json.dumps({"instances": -2}),
     ["/instances"]),
]

WRONG_TYPES = [
    ("instances string", with_(instances="three"), "/instances"),
    ("cpus string", with_(cpus="lots"), "/cpus"),
    ("cmd number", with_(cmd=5), "/cmd"),
    ("env not object", with_(env=["A=1"]), "/env"),
    ("labels value number", with_(labels={"a": 1}), "/labels"),
    ("args not strings", with_(cmd=None, args=[1, 2]), "/args"),
]


@pytest.mark.parametrize("name,method,path,body,paths", INVALID, ids=[x[0] for x in INVALID])
def test_invalid_field_is_422_object_is_not_valid(m, name, method, path, body, paths):
    before = snapshot(m.api)
    r = m.api.req(method, path, data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, (r.status_code, r.text)
    j = r.json()
    assert j["message"] == "Object is not valid", j
    assert isinstance(j["details"], list) and j["details"], j
    for d in j["details"]:
        assert set(d) >= {"path", "errors"}, d
        assert isinstance(d["errors"], list) and d["errors"], d
        assert all(isinstance(e, str) and e for e in d["errors"]), d
    got = [d["path"] for d in j["details"]]
    assert any(p in paths for p in got), (got, paths)
    assert snapshot(m.api) == before


@pytest.mark.parametrize("name,body,path", WRONG_TYPES, ids=[x[0] for x in WRONG_TYPES])
def test_wrong_type_is_422_with_path(m, name, body, path):
    before = snapshot(m.api)
    r = m.api.req("POST", "/v2/apps", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, (r.status_code, r.text)
    j = r.json()
    assert j["message"] in ("Object is not valid", "Invalid JSON"), j
    assert any(d["path"].startswith(path) for d in j["details"]), j
    assert snapshot(m.api) == before


MALFORMED = [
    ("truncated", '{"id": "/x", '),
    ("not json", "hello"),
    ("trailing garbage", '{"id": "/x"} xyz'),
    ("empty body", ""),
]


@pytest.mark.parametrize("name,body", MALFORMED, ids=[x[0] for x in MALFORMED])
def test_malformed_json_is_400(m, name, body):
    before = snapshot(m.api)
    for method, path in (("POST", "/v2/apps"), ("PUT", "/v2/apps/base")):
        r = m.api.req(method, path, data=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (method, r.status_code, r.text)
        j = r.json()
        assert j["message"] in ("Invalid JSON", "Please specify data in JSON format"), j
    assert snapshot(m.api) == before


def test_body_over_the_limit_is_413(m):
    before = snapshot(m.api)
    host, port = m.addr.split(":")
    total = 4 * 1024 * 1024
    head = ("POST /v2/apps HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % (m.addr, total)).encode()
    chunk = b'{"id":"/big","cmd":"' + b"x" * 65536
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(head)
        sent = 0
        try:
            while sent < total:
                s.settimeout(2)
                s.sendall(chunk)
                sent += len(chunk)
                chunk = b"x" * 65536
        except (socket.timeout, BrokenPipeError, ConnectionResetError):
            pass
        s.settimeout(10)
        status, ctype, body = read_answer(s)
    assert status == 413, body[:300]
    assert ctype == "application/json", ctype
    assert json.loads(body) == {"message": "Request Entity Too Large"}
    assert snapshot(m.api) == before


def read_answer(s):
    """The status, Content-Type and body of the one answer on socket s."""
    resp = http.client.HTTPResponse(s, method="GET")
    resp.begin()
    return resp.status, resp.getheader("Content-Type"), resp.read()


def exchange(m, raw):
    host, port = m.addr.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(raw)
        return read_answer(s)


# Requests libevent answers by itself (the handler never runs): JSON all the same.
EVHTTP_ERRORS = [
    ("no request line", b"GARBAGE\r\n\r\n", 400, "Bad Request"),
    ("no HTTP version", b"GET /v2/apps\r\nHost: x\r\n\r\n", 400, "Bad Request"),
    ("bad HTTP version", b"GET /v2/apps HTTP/x.y\r\nHost: x\r\n\r\n", 400, "Bad Request"),
    ("header line without colon", b"GET /v2/apps HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n",
     400, "Bad Request"),
    ("negative Content-Length",
     b"POST /v2/apps HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, "Bad Request"),
    ("unknown Expect",
     b"POST /v2/apps HTTP/1.1\r\nHost: x\r\nExpect: magic\r\nContent-Length: 2\r\n\r\n{}",
     417, "Expectation Failed"),
    ("TRACE", b"TRACE /v2/apps HTTP/1.1\r\nHost: x\r\n\r\n", 501, "Not Implemented"),
]


@pytest.mark.parametrize("name,raw,status,message", EVHTTP_ERRORS,
                         ids=[x[0] for x in EVHTTP_ERRORS])
def test_libevent_own_errors_are_json(m, name, raw, status, message):
    before = snapshot(m.api)
    got, ctype, body = exchange(m, raw)
    assert got == status, body[:300]
    assert ctype == "application/json", ctype
    assert json.loads(body) == {"message": message}
    assert snapshot(m.api) == before


def test_unknown_path_and_wrong_method_are_json(m):
    r = m.api.get("/v2/nope")
    assert r.status_code == 404, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"message": "Not found: '/v2/nope'"}
    r = m.api.req("POST", "/v2/tasks", body={})
    assert r.status_code == 405, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"message": "Method not allowed"}


NOT_FOUND = [
    ("GET", "/v2/apps/nope", "App '/nope' does not exist"),
    ("GET", "/v2/apps/deep/nope", "App '/deep/nope' does not exist"),
    ("DELETE", "/v2/apps/nope", "App '/nope' does not exist"),
    ("PATCH", "/v2/apps/nope", "App '/nope' does not exist"),
    ("POST", "/v2/apps/nope/restart", "App '/nope' does not exist"),
    ("GET", "/v2/apps/nope/tasks", "App '/nope' does not exist"),
    ("DELETE", "/v2/apps/nope/tasks", "App '/nope' does not exist"),
    ("DELETE", "/v2/apps/base/tasks/base.instance-00000000-0000-0000-0000-000000000000._app.1",
     "Task 'base.instance-00000000-0000-0000-0000-000000000000._app.1' does not exist"),
]


@pytest.mark.parametrize("method,path,message", NOT_FOUND,
                         ids=["%s %s" % (x[0], x[1]) for x in NOT_FOUND])
def test_unknown_is_404_with_message(m, method, path, message):
    before = snapshot(m.api)
    body = {"instances": 1} if method == "PATCH" else None
    r = m.api.req(method, path, body=body)
    assert r.status_code == 404, (r.status_code, r.text)
    assert r.json() == {"message": message}
    assert snapshot(m.api) == before


def test_tasks_delete_with_invalid_id_is_400(m):
    before = snapshot(m.api)
    r = m.api.post("/v2/tasks/delete", {"ids": ["not a task id"]})
    assert r.status_code == 400, r.text
    assert r.json()["message"].startswith("Invalid task id"), r.json()
    assert snapshot(m.api) == before


def test_duplicate_is_409_and_changes_nothing(m):
    before = snapshot(m.api)
    r = m.api.post("/v2/apps", dict(OK_APP, cmd="sleep 5"))
    assert r.status_code == 409
    assert r.json() == {"message": "An app with id [/base] already exists."}
    assert snapshot(m.api) == before


def test_unknown_fields_are_kept_and_returned(m):
    d = app_def("/extra", "sleep 3600", instances=0)
    d["someFutureField"] = {"nested": [1, "two", {"three": 3.5}], "flag": True}
    d["upgradeStrategy"] = {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.2}
    d["fetch"] = [{"uri": "https://example.com/x.tgz", "extract": True}]
    r = m.api.post("/v2/apps", d)
    assert r.status_code == 201, r.text
    assert r.json()["someFutureField"] == d["someFutureField"]
    app = m.api.app("/extra")
    assert app["someFutureField"] == d["someFutureField"]
    assert app["upgradeStrategy"] == d["upgradeStrategy"]
    assert app["fetch"][0]["uri"] == "https://example.com/x.tgz"
    # a partial update keeps them
    r = m.api.put("/v2/apps/extra", {"instances": 0, "anotherOne": "x"})
    assert r.status_code == 200, r.text
    app = m.api.app("/extra")
    assert app["someFutureField"] == d["someFutureField"]
    assert app["anotherOne"] == "x"
    listed = [a for a in m.api.get("/v2/apps").json()["apps"] if a["id"] == "/extra"][0]
    assert listed["someFutureField"] == d["someFutureField"]
    assert m.api.delete("/v2/apps/extra").status_code == 200
