"""Authentication on the master (docs/security.md), through the real binary: a credentials
file (--credentials, reloaded on SIGHUP) and Marathon's --http_credentials; HTTP Basic,
`token=` and `Bearer` on every API; 401 with the challenge each API sends; /ping, /health and
(unless --authenticate-metrics) the metrics open; the v1 scheduler's principal rule; an
agent with --credential; the CLI's --principal/--secret and BERTH_PRINCIPAL/BERTH_SECRET; no
secret in any answer or log."""
import json
import os
import signal
import subprocess

import requests

import helpers
from helpers import app_def, wait_until

SECRET = "s3cret-Xq7"
MSECRET = "fw-secret-Zk2"
CREDS = {"credentials": [{"principal": "ops", "secret": SECRET},
                         {"principal": "marathon", "secret": MSECRET}]}


def write_creds(cluster, doc, name="credentials.json"):
    p = cluster.workdir / name
    p.write_text(json.dumps(doc))
    return p


def authed_master(cluster, extra=()):
    creds = write_creds(cluster, CREDS)
    m = cluster.master(extra=["--credentials", str(creds)] + list(extra))
    m.api.s.auth = ("ops", SECRET)
    return m


def raw(m, method, path, **kw):
    return requests.request(method, m.url + path, timeout=10, **kw)


PROTECTED = [("GET", "/v2/apps"), ("GET", "/v2/info"), ("GET", "/v2/tasks"),
             ("GET", "/master/state"), ("GET", "/master/slaves"), ("POST", "/api/v1"),
             ("POST", "/api/v1/scheduler"), ("POST", "/api/berth/agent/subscribe"),
             ("POST", "/api/berth/agent/update"), ("GET", "/api/berth/tasks/x/files/read"),
             ("GET", "/v2/events"), ("GET", "/no/such/route")]


def test_refused_without_and_with_wrong_credentials(cluster):
    m = authed_master(cluster)
    wrong = [None, ("ops", "nope"), ("nobody", SECRET), ("marathon", SECRET)]
    for method, path in PROTECTED:
        for auth in wrong:
            r = raw(m, method, path, auth=auth, data="{}",
                    headers={"Content-Type": "application/json"})
            assert r.status_code == 401, (method, path, auth, r.status_code, r.text)
            ch = r.headers.get("WWW-Authenticate", "")
            if path.startswith("/v2/"):
                assert ch == 'Basic realm="Mesosphere"'
                assert r.json() == {"message": "Invalid username or password."}
            else:
                assert ch.startswith('Basic realm="mesos-master-'), ch
                assert r.text == ""
    for h in ["token=nope", "Bearer nope", "Basic !!!", "Digest x", "token=", "Bearer "]:
        r = raw(m, "GET", "/v2/apps", headers={"Authorization": h})
        assert r.status_code == 401, h
    assert raw(m, "GET", "/master/state").headers["WWW-Authenticate"] == \
        'Basic realm="mesos-master-readonly"'
    assert raw(m, "POST", "/api/v1/scheduler").headers["WWW-Authenticate"] == \
        'Basic realm="mesos-master-scheduler"'
    assert raw(m, "POST", "/api/v1").headers["WWW-Authenticate"] == \
        'Basic realm="mesos-master-readwrite"'
    # Nothing was created by the refused POSTs.
    assert m.api.get("/v2/apps").json() == {"apps": []}


def test_allowed_with_basic_token_and_bearer(cluster):
    m = authed_master(cluster)
    assert raw(m, "GET", "/v2/apps", auth=("ops", SECRET)).status_code == 200
    assert raw(m, "GET", "/master/state", auth=("marathon", MSECRET)).status_code == 200
    for h in ["token=" + SECRET, "Bearer " + SECRET]:
        r = raw(m, "GET", "/v2/info", headers={"Authorization": h})
        assert r.status_code == 200, (h, r.text)
    # Open paths: the health checks, and the metrics for scrapers.
    for path in ["/ping", "/health", "/metrics", "/metrics/prometheus"]:
        assert raw(m, "GET", path).status_code == 200, path
    # A client cannot claim a principal by sending the internal header's name.
    r = raw(m, "GET", "/v2/apps", headers={"berth-principal": "ops"})
    assert r.status_code == 401


def test_authenticate_metrics(cluster):
    m = authed_master(cluster, extra=["--authenticate-metrics"])
    for path in ["/metrics", "/metrics/prometheus"]:
        r = raw(m, "GET", path)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == 'Basic realm="mesos-master-readonly"'
        assert raw(m, "GET", path, auth=("ops", SECRET)).status_code == 200
    assert raw(m, "GET", "/ping").status_code == 200


def test_http_credentials_flag(cluster):
    m = cluster.master(extra=["--http_credentials", "admin:pw:with:colons"])
    assert raw(m, "GET", "/v2/apps").status_code == 401
    assert raw(m, "GET", "/v2/apps", auth=("admin", "pw")).status_code == 401
    assert raw(m, "GET", "/v2/apps", auth=("admin", "pw:with:colons")).status_code == 200


def test_bad_credentials_file_refuses_to_start(cluster):
    for doc in ['{"credentials": [{"principal": "", "secret": "x"}]}', "not json",
                '{"credentials": [{"principal": "a", "secret": "%s"}, '
                '{"principal": "a", "secret": "y"}]}' % SECRET]:
        p = cluster.workdir / "bad.json"
        p.write_text(doc)
        m = cluster.master(extra=["--credentials", str(p)], wait=False)
        assert m.wait_exit(15) == 1
        assert "credentials" in m.stderr_text()
        assert SECRET not in m.stderr_text()
        m.expect_dead = True


def test_sighup_reloads_credentials(cluster):
    creds = write_creds(cluster, CREDS)
    m = cluster.master(extra=["--credentials", str(creds)])
    assert raw(m, "GET", "/v2/apps", auth=("ops", SECRET)).status_code == 200
    creds.write_text(json.dumps({"credentials": [{"principal": "ops2", "secret": "new"}]}))
    m.p.send_signal(signal.SIGHUP)
    wait_until(lambda: raw(m, "GET", "/v2/apps", auth=("ops2", "new")).status_code == 200,
               what="new credentials in force")
    assert raw(m, "GET", "/v2/apps", auth=("ops", SECRET)).status_code == 401
    # A broken file on reload keeps the credentials in force.
    creds.write_text("{broken")
    m.p.send_signal(signal.SIGHUP)
    wait_until(lambda: "reload failed" in m.stderr_text(), what="reload failure logged")
    assert raw(m, "GET", "/v2/apps", auth=("ops2", "new")).status_code == 200
    assert m.alive()


def test_agent_credential_and_tasks(cluster):
    m = authed_master(cluster)
    # An agent without credentials never registers; the master answers it 401.
    bare = cluster.agent(wait=False, name="bare")
    cred = cluster.workdir / "agent-cred"
    cred.write_text("marathon %s\n" % MSECRET)
    a = cluster.agent(extra=["--credential", str(cred)])
    assert len(m.api.slaves()) == 1
    assert bare.slave() is None
    env = {"DB_PASSWORD": "hunter2-env"}
    r = m.api.post("/v2/apps", app_def("/web", cmd="sleep 600", env=env))
    assert r.status_code == 201, r.text
    m.api.wait_running("/web", 1)
    # No secret of the credentials file anywhere in the answers or the logs.
    for path in ["/v2/apps", "/v2/info", "/master/state", "/master/slaves", "/v2/tasks",
                 "/metrics", "/metrics/prometheus"]:
        body = m.api.get(path).text
        assert SECRET not in body and MSECRET not in body, path
    for d in (m, a, bare):
        assert SECRET not in d.stderr_text() and MSECRET not in d.stderr_text()


def test_scheduler_principal_must_match(cluster):
    m = authed_master(cluster)
    hdr = {"Content-Type": "application/json", "Accept": "application/json"}

    def subscribe(auth, info, fid=None):
        call = {"type": "SUBSCRIBE", "subscribe": {"framework_info": info}}
        if fid:
            call["framework_id"] = {"value": fid}
            info["id"] = {"value": fid}
        return raw(m, "POST", "/api/v1/scheduler", auth=auth, json=call, headers=hdr,
                   stream=True)

    info = {"user": "root", "name": "fw", "principal": "ops", "failover_timeout": 60}
    r = subscribe(("marathon", MSECRET), dict(info))
    assert r.status_code == 400
    assert r.text == ("Authenticated principal 'marathon' does not match principal 'ops' set "
                      "in `FrameworkInfo`")
    r = subscribe(("ops", SECRET), dict(info))
    assert r.status_code == 200
    first = r.raw.readline()
    size = int(first)
    rec = json.loads(r.raw.read(size))
    assert rec["type"] == "SUBSCRIBED"
    fid = rec["subscribed"]["framework_id"]["value"]
    # Another principal cannot take the framework over.
    r2 = subscribe(("marathon", MSECRET), {"user": "root", "name": "fw"}, fid=fid)
    assert r2.status_code == 403, r2.text
    assert "another principal" in r2.text
    state = m.api.get("/master/state").json()
    fws = [f for f in state["frameworks"] if f["id"] == fid]
    assert fws and fws[0]["principal"] == "ops"
    assert fws[0]["active"] is True
    r.close()


def test_cli_credentials(cluster):
    m = authed_master(cluster)
    rc, out, err = cluster.cli("app", "list")
    assert rc == 1
    assert "Invalid username or password." in err and "BERTH_PRINCIPAL" in err
    rc, out, err = cluster.cli("app", "list", "--principal", "ops", "--secret", SECRET)
    assert rc == 0, err
    rc, out, err = cluster.cli("app", "list", env={"BERTH_PRINCIPAL": "ops",
                                                  "BERTH_SECRET": SECRET})
    assert rc == 0, err
    rc, out, err = cluster.cli("app", "list", env={"BERTH_PRINCIPAL": "ops",
                                                  "BERTH_SECRET": "wrong"})
    assert rc != 0
    assert SECRET not in out + err
    # The streams the CLI follows send the credentials too (discover --watch once did not).
    import conftest
    env = dict(os.environ, BERTH_MASTER=m.url, BERTH_PRINCIPAL="ops", BERTH_SECRET=SECRET)
    p = subprocess.Popen([conftest.berth_bin(), "discover", "/x", "--watch"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = helpers.LineReader(p.stderr)
    try:
        wait_until(lambda: "watching '/x' (0 endpoints)" in err.text(), 10,
                   what="an authenticated watch to start")
    finally:
        p.terminate()
        assert p.wait(10) == 0, err.text()
