"""The CLI and `berth lb` against a master with mutual TLS (--tls-ca) and credentials,
through the real binaries (docs/security.md, "TLS"; docs/cli.md): the client certificate
from --cert/--key or BERTH_CERT/BERTH_KEY, the CA from --cacert; without a certificate, or
with one of another CA, the CLI fails with a message saying what it wants; --insecure skips
the check of the master's certificate (not the master's check of the client's). `berth lb`
follows such a master with --cacert/--cert/--key and BERTH_PRINCIPAL/BERTH_SECRET."""
import json

import pytest
import requests

from conftest import Daemon
from helpers import app_def, free_port, wait_until
from test_lb import HAPROXY
from test_tls import make_ca, make_signed, wait_https

SECRET = "cli-mtls-pw"


@pytest.fixture
def mtls(cluster):
    d = cluster.workdir
    ca = make_ca(d, "ca")
    server = make_signed(d, "server", ca, san="IP:127.0.0.1,DNS:localhost")
    agent = make_signed(d, "agent", ca, san="IP:127.0.0.1,DNS:localhost")
    client = make_signed(d, "client", ca)
    stranger = make_signed(d, "stranger", make_ca(d, "other-ca"))
    creds = d / "creds.json"
    creds.write_text(json.dumps({"credentials": [{"principal": "ops", "secret": SECRET},
                                                 {"principal": "agent", "secret": "ag"}]}))
    cred = d / "agent-cred.json"
    cred.write_text(json.dumps({"principal": "agent", "secret": "ag"}))
    m = cluster.master(extra=["--tls-cert", str(server[0]), "--tls-key", str(server[1]),
                              "--tls-ca", str(ca[0]), "--credentials", str(creds)], wait=False)
    m.url = "https://127.0.0.1:%d" % m.port
    wait_https(m, verify=str(ca[0]), cert=tuple(map(str, client)))
    a = cluster.agent(master=m, extra=["--tls-ca", str(ca[0]), "--tls-cert", str(agent[0]),
                                       "--tls-key", str(agent[1]), "--credential", str(cred)],
                      wait=False)
    a.url = "https://" + a.addr

    def registered():
        r = requests.get(m.url + "/master/slaves", verify=str(ca[0]),
                         cert=tuple(map(str, client)), auth=("ops", SECRET), timeout=10)
        return r.status_code == 200 and any(s["active"] for s in r.json()["slaves"])
    wait_until(registered, 20, what="agent registered")
    return {"m": m, "ca": str(ca[0]), "client": tuple(map(str, client)),
            "stranger": tuple(map(str, stranger))}


AUTH = {"BERTH_PRINCIPAL": "ops", "BERTH_SECRET": SECRET}


def test_cli_with_a_client_certificate(cluster, mtls):
    m, ca, (cert, key) = mtls["m"], mtls["ca"], mtls["client"]
    # No certificate: the handshake fails, and the message says what is wanted.
    rc, out, err = cluster.cli("--cacert", ca, "app", "list", master=m.url, env=AUTH)
    assert rc == 1 and "--cert FILE --key FILE" in err, err
    # Another CA's certificate: refused too.
    s_cert, s_key = mtls["stranger"]
    rc, out, err = cluster.cli("--cacert", ca, "--cert", s_cert, "--key", s_key, "app", "list",
                               master=m.url, env=AUTH)
    assert rc == 1, (out, err)
    # The flags: an app runs, as the CLI says.
    app = cluster.workdir / "app.json"
    app.write_text(json.dumps(app_def("/mtls", "exec sleep 600")))
    rc, out, err = cluster.cli("--cacert", ca, "--cert", cert, "--key", key, "app", "add",
                               app, "--wait", "--timeout", "60", master=m.url, env=AUTH)
    assert rc == 0, err
    rc, out, err = cluster.cli("--cacert", ca, "--cert", cert, "--key", key, "task", "list",
                               "--json", master=m.url, env=AUTH)
    assert rc == 0, err
    tasks = json.loads(out)
    tasks = tasks.get("tasks", tasks) if isinstance(tasks, dict) else tasks
    assert [t for t in tasks if t["appId"] == "/mtls" and t["state"] == "TASK_RUNNING"]
    # The variables; a key in the certificate's file needs no --key.
    env = dict(AUTH, BERTH_CACERT=ca, BERTH_CERT=cert, BERTH_KEY=key)
    rc, out, err = cluster.cli("app", "show", "/mtls", master=m.url, env=env)
    assert rc == 0 and "/mtls" in out, err
    both = cluster.workdir / "client-both.pem"
    both.write_text(open(cert).read() + open(key).read())
    rc, out, err = cluster.cli("--cacert", ca, "--cert", both, "node", "list", master=m.url,
                               env=AUTH)
    assert rc == 0, err
    rc, out, err = cluster.cli("--cacert", ca, "--key", key, "node", "list", master=m.url,
                               env=AUTH)
    assert rc == 2 and "--key wants --cert" in err, err
    # Credentials still apply over mTLS.
    rc, out, err = cluster.cli("--cacert", ca, "--cert", cert, "--key", key, "app", "list",
                               master=m.url)
    assert rc == 1 and "Invalid username or password" in err, (out, err)
    # --insecure: the master's certificate is not checked (no --cacert), ours still sent.
    rc, out, err = cluster.cli("--cert", cert, "--key", key, "app", "list", master=m.url,
                               env=AUTH)
    assert rc == 1 and "--cacert" in err, err
    rc, out, err = cluster.cli("--insecure", "--cert", cert, "--key", key, "app", "list",
                               master=m.url, env=AUTH)
    assert rc == 0 and "/mtls" in out, err
    rc, out, err = cluster.cli("--cert", cert, "--key", key, "app", "list", master=m.url,
                               env=dict(AUTH, BERTH_INSECURE="1"))
    assert rc == 0 and "/mtls" in out, err


class MtlsLb(Daemon):
    def __init__(self, cluster, m, ca, cert, key):
        self.stats_port = free_port()
        d = cluster.short_dir("lb")
        args = ["lb", "--master", m.url, "--group", "external", "--haproxy", HAPROXY,
                "--config-dir", str(d), "--bind", "127.0.0.1",
                "--http-port", str(free_port()), "--https-port", str(free_port()),
                "--stats-port", str(self.stats_port), "--cacert", ca, "--cert", cert,
                "--key", key]
        super().__init__(cluster, "lb", args)

    def config(self):
        r = requests.get("http://127.0.0.1:%d/_haproxy_getconfig" % self.stats_port,
                         timeout=5)
        return r.text if r.status_code == 200 else ""


def test_lb_follows_an_mtls_master(cluster, mtls, monkeypatch):
    m, ca, (cert, key) = mtls["m"], mtls["ca"], mtls["client"]
    app = app_def("/lbweb", "exec sleep 600", portDefinitions=[{"port": 10555}],
                  labels={"HAPROXY_GROUP": "external"})
    r = requests.post(m.url + "/v2/apps", json=app, verify=ca, cert=(cert, key),
                      auth=("ops", SECRET), timeout=10)
    assert r.status_code == 201, r.text
    monkeypatch.setenv("BERTH_PRINCIPAL", "ops")
    monkeypatch.setenv("BERTH_SECRET", SECRET)
    lb = cluster._add(MtlsLb(cluster, m, ca, cert, key)).start()
    wait_until(lambda: "10555" in lb.config() and "server " in lb.config(), 30,
               what="the app's backend in the lb's config")
    assert "event stream not opened" not in lb.stderr_text()
