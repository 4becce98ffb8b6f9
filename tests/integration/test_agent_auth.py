"""Authentication on the agent's own HTTP server (docs/security.md, "The agent's HTTP
server"), through the real binaries: with `berth agent --credentials FILE` every endpoint but
/health wants an operator's credentials, the leading master's token (the master's sandbox
proxy keeps working) or, on /api/v1/executor, the executor's own token
(MESOS_EXECUTOR_AUTHENTICATION_TOKEN); refused without, refused with wrong ones, allowed
with the right ones; no token or secret in any answer or log."""
import json

import requests

from helpers import app_def, wait_until
from mesos_client import Framework
import test_custom_executor as cx

SECRET = "agent-ops-S3cr3t"
CREDS = {"credentials": [{"principal": "ops", "secret": SECRET}]}
HDR = {"Content-Type": "application/json", "Accept": "application/json"}


def authed_agent(cluster, doc=CREDS):
    p = cluster.workdir / "agent-credentials.json"
    p.write_text(json.dumps(doc))
    return cluster.agent(extra=["--credentials", str(p)])


def raw(a, method, path, **kw):
    return requests.request(method, a.url + path, timeout=10, **kw)


def read_paths(tid):
    return [("GET", "/state", None), ("GET", "/files/browse", {"path": tid}),
            ("GET", "/files/read", {"path": tid + "/stdout", "offset": 0}),
            ("GET", "/monitor/statistics", None),
            ("POST", "/api/v1", {"type": "GET_STATE"}),
            ("POST", "/api/v1", {"type": "READ_FILE",
                                 "read_file": {"path": tid + "/stdout", "offset": 0}})]


def call(a, method, path, arg, **kw):
    if method == "GET":
        return raw(a, method, path, params=arg, **kw)
    return raw(a, method, path, data=json.dumps(arg), headers=dict(HDR, **kw.pop("headers", {})),
               **kw)


def test_operator_and_master_authenticated(cluster):
    m = cluster.master()
    a = authed_agent(cluster)
    r = m.api.post("/v2/apps", app_def("/web", cmd="echo hello-from-task; sleep 600"))
    assert r.status_code == 201, r.text
    tid = m.api.wait_running("/web", 1)[0]["id"]
    wait_until(lambda: (a.sandbox(tid) / "stdout").exists() and
               b"hello-from-task" in (a.sandbox(tid) / "stdout").read_bytes(),
               what="task output")
    assert raw(a, "GET", "/health").status_code == 200  # stays open for probes
    wrong = [{}, {"auth": ("ops", "nope")}, {"auth": ("nobody", SECRET)},
             {"headers": {"Authorization": "Bearer nope"}},
             {"headers": {"Authorization": "token=nope"}},
             {"headers": {"Authorization": "Bearer "}}]
    for method, path, arg in read_paths(tid):
        for kw in wrong:
            r = call(a, method, path, arg, **dict(kw))
            assert r.status_code == 401, (method, path, kw, r.status_code, r.text)
            realm = "readwrite" if method == "POST" else "readonly"
            assert r.headers["WWW-Authenticate"] == 'Basic realm="mesos-agent-%s"' % realm
            assert "hello-from-task" not in r.text
        for kw in [{"auth": ("ops", SECRET)},
                   {"headers": {"Authorization": "Bearer " + SECRET}},
                   {"headers": {"Authorization": "token=" + SECRET}}]:
            r = call(a, method, path, arg, **dict(kw))
            assert r.status_code == 200, (method, path, kw, r.status_code, r.text)
    r = raw(a, "GET", "/files/read", params={"path": tid + "/stdout", "offset": 0},
            auth=("ops", SECRET))
    assert "hello-from-task" in r.json()["data"]
    # The executor API takes neither an operator's credentials nor nothing.
    for kw in [{}, {"auth": ("ops", SECRET)}]:
        r = raw(a, "POST", "/api/v1/executor", data="{}", headers=HDR, **kw)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == 'Bearer realm="mesos-agent-executor"'
    # The leading master reaches the sandbox with the agent's token, unasked.
    r = m.api.get("/api/berth/tasks/%s/files/read" % tid, params={"path": "stdout",
                                                                    "offset": 0})
    assert r.status_code == 200, r.text
    assert "hello-from-task" in r.json()["data"]
    # The token and the secret appear in no answer and no log.
    for path in ["/master/state", "/master/slaves", "/v2/tasks", "/state.json"]:
        body = m.api.get(path).text
        assert SECRET not in body and "http_token" not in body, path
    for d in (m, a):
        assert SECRET not in d.stderr_text()


def test_master_token_follows_the_subscription(cluster):
    """After the agent subscribes again (the master restarted), the new master's proxy works
    and a request with no token is still refused."""
    m = cluster.master()
    a = authed_agent(cluster)
    r = m.api.post("/v2/apps", app_def("/w2", cmd="echo twice; sleep 600"))
    assert r.status_code == 201, r.text
    tid = m.api.wait_running("/w2", 1)[0]["id"]
    m.restart()
    wait_until(lambda: a.slave() is not None and a.slave().get("active"), timeout=30,
               what="agent re-registered")

    def proxied():
        r = m.api.get("/api/berth/tasks/%s/files/read" % tid, params={"path": "stdout",
                                                                        "offset": 0})
        return r.status_code == 200 and "twice" in r.json()["data"]
    wait_until(proxied, timeout=20, what="sandbox through the new master")
    assert raw(a, "GET", "/state").status_code == 401


def test_executor_token(cluster):
    m = cluster.master()
    a = authed_agent(cluster)
    fw = Framework(m.url, failover_timeout=30)
    fw.subscribe()
    o = fw.wait_offers()[0]
    r = fw.accept([o["id"]["value"]], [cx.task("k1", o, "ea", name="hold-k1"),
                                       cx.task("k2", o, "eb", name="hold-k2")])
    assert r.status_code == 202, r.text
    # The executors authenticate with their tokens: their updates get through.
    for tid in ("k1", "k2"):
        fw.wait_update(tid, "TASK_RUNNING")
    env_a = json.loads((cx.sandbox(a, fw, "ea") / "env.json").read_text())
    env_b = json.loads((cx.sandbox(a, fw, "eb") / "env.json").read_text())
    tok_a = env_a["MESOS_EXECUTOR_AUTHENTICATION_TOKEN"]
    tok_b = env_b["MESOS_EXECUTOR_AUTHENTICATION_TOKEN"]
    assert len(tok_a) == 64 and tok_a != tok_b

    def hb(eid, hdrs):
        body = {"type": "HEARTBEAT", "framework_id": {"value": fw.id},
                "executor_id": {"value": eid}}
        return raw(a, "POST", "/api/v1/executor", data=json.dumps(body),
                   headers=dict(HDR, **hdrs))
    for h in [{}, {"Authorization": "Bearer " + tok_a[:-1] + "x"},
              {"Authorization": "Bearer " + SECRET}, {"Authorization": "Basic b3BzOm5vcGU="}]:
        r = hb("ea", h)
        assert r.status_code == 401, (h, r.status_code)
        assert r.headers["WWW-Authenticate"] == 'Bearer realm="mesos-agent-executor"'
    # One executor's token does not speak for another.
    r = hb("eb", {"Authorization": "Bearer " + tok_a})
    assert r.status_code == 403, r.text
    # A spoofed UPDATE with another executor's token changes nothing.
    st = {"task_id": {"value": "k2"}, "state": "TASK_FAILED", "source": "SOURCE_EXECUTOR",
          "uuid": "AAAAAAAAAAAAAAAAAAAAAA=="}
    r = raw(a, "POST", "/api/v1/executor",
            data=json.dumps({"type": "UPDATE", "framework_id": {"value": fw.id},
                             "executor_id": {"value": "eb"}, "update": {"status": st}}),
            headers=dict(HDR, Authorization="Bearer " + tok_a))
    assert r.status_code == 403
    assert hb("ea", {"Authorization": "Bearer " + tok_a}).status_code == 202
    assert hb("eb", {"Authorization": "Bearer " + tok_b}).status_code == 202
    state = requests.get(m.url + "/master/state", timeout=10).json()
    k2 = [t for f in state["frameworks"] for t in f["tasks"] if t["id"] == "k2"]
    assert [t["state"] for t in k2] == ["TASK_RUNNING"]
    # No token in the agent's or master's logs.
    for d in (m, a):
        assert tok_a not in d.stderr_text() and tok_b not in d.stderr_text()


def test_agent_without_credentials_stays_open(one):
    """Without --credentials nothing changes (as before)."""
    assert raw(one.a, "GET", "/state").status_code == 200
    assert raw(one.a, "POST", "/api/v1", data='{"type": "GET_HEALTH"}',
               headers=HDR).status_code == 200


def test_bad_credentials_file_stops_the_agent(cluster):
    cluster.master()
    p = cluster.workdir / "bad.json"
    p.write_text('{"credentials": [{"principal": "x"}]}')
    a = cluster.agent(extra=["--credentials", str(p)], wait=False)
    a.expect_dead = True
    wait_until(lambda: not a.alive(), what="agent exits")
    assert a.p.returncode != 0
    assert "credentials[0].secret" in a.stderr_text()
