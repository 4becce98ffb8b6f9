"""`berth dev` with the security flags (docs/security.md, "berth dev"), through the real
binary: --tls-cert/--tls-key (and --tls-ca: mutual TLS) and --credentials/--acls reach the
master; the in-process agent registers over HTTPS with the first principal of the file,
its own port wants the same credentials (and, with a CA, speaks HTTPS), and apps run; the
CLI reaches it with --cacert, --cert/--key and credentials; --agent-secrets-dir works too."""
import hashlib
import json
import os

import pytest
import requests

from helpers import app_def, wait_until
from test_cli_https import make_cert
from test_tls import make_ca, make_signed

PW = "dev-ops-pw"


def creds_file(d):
    p = d / "creds.json"
    p.write_text(json.dumps({"credentials": [{"principal": "dev-agent", "secret": "ag-pw"},
                                             {"principal": "ops", "secret": PW}]}))
    return p


def start_dev(cluster, extra, verify, cert=None):
    d = cluster.dev(extra=[str(x) for x in extra], wait=False)
    d.url = "https://" + d.addr

    def ok():
        assert d.alive(), d.stderr_text()[-3000:]
        try:
            return requests.get(d.url + "/ping", verify=verify, cert=cert,
                                timeout=5).status_code == 200
        except requests.RequestException:
            return False
    wait_until(ok, 20, what="berth dev https /ping")
    return d


def test_dev_with_tls_and_credentials_serves_https_with_auth_and_runs_an_app(cluster):
    w = cluster.workdir
    cert, key = make_cert(w, "dev")
    creds = creds_file(w)
    d = start_dev(cluster, ["--tls-cert", cert, "--tls-key", key, "--credentials", creds],
                  verify=str(cert))
    ca, auth = str(cert), ("ops", PW)
    assert "berth dev ready: API at https://" in d.stderr_text()
    # Plain HTTP is refused; a request without credentials is 401.
    with pytest.raises(requests.RequestException):
        requests.get("http://%s/ping" % d.addr, timeout=5)
    r = requests.get(d.url + "/v2/apps", verify=ca, timeout=10)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="Mesosphere"'
    assert requests.get(d.url + "/v2/apps", verify=ca, auth=("ops", "nope"),
                        timeout=10).status_code == 401
    # The agent registered over HTTPS with its credential.
    slaves = wait_until(lambda: [s for s in requests.get(
        d.url + "/master/slaves", verify=ca, auth=auth, timeout=10).json()["slaves"]
        if s["active"]], 20, what="the agent registered")
    assert len(slaves) == 1
    # An app runs.
    r = requests.post(d.url + "/v2/apps", json=app_def("/secure", "echo hello-dev; sleep 600"),
                      verify=ca, auth=auth, timeout=10)
    assert r.status_code == 201, r.text

    def running():
        r = requests.get(d.url + "/v2/apps/secure/tasks", verify=ca, auth=auth, timeout=10)
        return [t for t in r.json()["tasks"] if t["state"] == "TASK_RUNNING"]
    t = wait_until(running, 30, what="/secure running")[0]
    # The agent's own port wants the credentials too (plain HTTP: no CA was given).
    r = requests.get(d.agent_url + "/state", timeout=10)
    assert r.status_code == 401
    assert requests.get(d.agent_url + "/state", auth=auth, timeout=10).status_code == 200
    # The sandbox through the master (it holds the agent's token).
    wait_until(lambda: "hello-dev" in requests.get(
        d.url + "/api/berth/tasks/%s/files/read" % t["id"],
        params={"path": "stdout", "offset": 0, "length": 1000}, verify=ca, auth=auth,
        timeout=10).text, 10, what="stdout through the master")
    # The CLI.
    env = {"BERTH_CACERT": ca, "BERTH_PRINCIPAL": "ops", "BERTH_SECRET": PW}
    rc, out, err = cluster.cli("app", "list", master=d.url, env=env)
    assert rc == 0 and "/secure" in out, err
    rc, out, err = cluster.cli("app", "list", master=d.url, env={"BERTH_CACERT": ca})
    assert rc == 1 and "Invalid username or password" in err, err


def test_dev_with_mutual_tls_acls_and_secrets(cluster):
    w = cluster.workdir
    ca = make_ca(w, "ca")
    server = make_signed(w, "server", ca, san="IP:127.0.0.1,DNS:localhost")
    client = tuple(map(str, make_signed(w, "client", ca)))
    creds = creds_file(w)
    acls = w / "acls.json"
    anyone = {"type": "ANY"}
    acls.write_text(json.dumps({
        "permissive": False,
        "register_agents": [{"principals": {"values": ["dev-agent"]}, "agents": anyone}],
        "register_frameworks": [{"principals": anyone, "roles": anyone}],
        "run_tasks": [{"principals": anyone, "users": anyone}],
        "view_apps": [{"principals": anyone, "app_ids": anyone}],
        "create_apps": [{"principals": {"values": ["ops"]}, "app_ids": {"values": ["/ok"]}}],
        "view_frameworks": [{"principals": anyone, "users": anyone}],
        "view_tasks": [{"principals": anyone, "users": anyone}],
        "access_sandboxes": [{"principals": anyone, "users": anyone}]}))
    store = w / "secret-store"
    store.mkdir(mode=0o700)
    os.chmod(store, 0o700)
    (store / "pw").write_text("dev-secret-value\n")
    os.chmod(store / "pw", 0o600)
    audit = w / "audit.log"
    cacert = str(ca[0])
    d = start_dev(cluster, ["--tls-cert", server[0], "--tls-key", server[1], "--tls-ca", cacert,
                            "--credentials", creds, "--acls", acls, "--audit-log", audit,
                            "--agent-secrets-dir", store],
                  verify=cacert, cert=client)
    auth = ("ops", PW)
    # No client certificate: the handshake fails.
    with pytest.raises(requests.RequestException):
        requests.get(d.url + "/ping", verify=cacert, timeout=5)
    # The agent registered (its certificate and principal), and serves HTTPS only.
    wait_until(lambda: [s for s in requests.get(
        d.url + "/master/slaves", verify=cacert, cert=client, auth=auth,
        timeout=10).json()["slaves"] if s["active"]], 20, what="the agent registered")
    agent_https = "https://127.0.0.1:%d" % d.agent_port
    assert requests.get(agent_https + "/state", verify=cacert, cert=client, auth=auth,
                        timeout=10).status_code == 200
    with pytest.raises(requests.RequestException):
        requests.get(d.agent_url + "/state", auth=auth, timeout=5)
    # ACLs: /ok may be created, /nope not (403, nothing changes).
    r = requests.post(d.url + "/v2/apps", json=app_def("/nope", "sleep 600"), verify=cacert,
                      cert=client, auth=auth, timeout=10)
    assert r.status_code == 403, r.text
    app = app_def("/ok", "printf %s \"$PW\" | sha256sum > h; exec sleep 600",
                  env={"PW": {"secret": "s"}}, secrets={"s": {"source": "pw"}})
    r = requests.post(d.url + "/v2/apps", json=app, verify=cacert, cert=client, auth=auth,
                      timeout=10)
    assert r.status_code == 201, r.text
    assert requests.get(d.url + "/v2/apps/nope", verify=cacert, cert=client, auth=auth,
                        timeout=10).status_code == 404
    want = hashlib.sha256(b"dev-secret-value").hexdigest()

    def hashed():
        r = requests.get(d.url + "/v2/apps/ok/tasks", verify=cacert, cert=client, auth=auth,
                         timeout=10)
        ts = [t for t in r.json()["tasks"] if t["state"] == "TASK_RUNNING"]
        if not ts:
            return None
        r = requests.get(d.url + "/api/berth/tasks/%s/files/read" % ts[0]["id"],
                         params={"path": "h", "offset": 0, "length": 200}, verify=cacert,
                         cert=client, auth=auth, timeout=10)
        return r.status_code == 200 and want in r.text
    wait_until(hashed, 30, what="the secret's hash through the master over mTLS")
    lines = [json.loads(x) for x in audit.read_text().splitlines()]
    assert {"principal": "ops", "action": "create_apps", "object": "/nope",
            "result": "denied"}.items() <= [x for x in lines if x.get("object") == "/nope"][0].items()
    # The CLI with its client certificate.
    env = {"BERTH_CACERT": cacert, "BERTH_CERT": client[0], "BERTH_KEY": client[1],
           "BERTH_PRINCIPAL": "ops", "BERTH_SECRET": PW}
    rc, out, err = cluster.cli("app", "list", master=d.url, env=env)
    assert rc == 0 and "/ok" in out, err
    assert "dev-secret-value" not in d.stderr_text() + d.stdout_text()


def test_dev_tls_flag_errors(cluster):
    cert, key = make_cert(cluster.workdir, "x")
    rc, _, err = cluster.cli("dev", "--data-dir", cluster.workdir / "d", "--tls-cert", cert,
                             master=None, timeout=20)
    assert rc == 2 and "--tls-cert and --tls-key go together" in err, err
    rc, _, err = cluster.cli("dev", "--help", master=None, timeout=20)
    assert rc == 0
    for flag in ["--tls-cert", "--tls-ca", "--credentials", "--acls", "--agent-secrets-dir"]:
        assert flag in err + _, flag
