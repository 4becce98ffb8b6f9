"""TLS between agents and masters (docs/security.md, "TLS"), with certificates this test
makes with openssl: an agent with --tls-cert/--tls-key/--tls-ca registers with a mutual-TLS
master over https://, runs tasks (updates and heartbeats over TLS, across many connections),
serves its own API over HTTPS only (a client certificate required), and the master reaches
its sandboxes over HTTPS; an agent with a certificate of another CA, or with none, never
registers."""
import time

import pytest
import requests

from helpers import app_def, wait_until
from test_tls import make_ca, make_signed, wait_https


@pytest.fixture
def pki(cluster):
    d = cluster.workdir
    ca = make_ca(d, "ca")
    master = make_signed(d, "master", ca, san="IP:127.0.0.1,DNS:localhost")
    agent = make_signed(d, "agent", ca, san="IP:127.0.0.1,DNS:localhost")
    client = make_signed(d, "client", ca)
    other = make_ca(d, "other-ca")
    stranger = make_signed(d, "stranger", other, san="IP:127.0.0.1")
    return {"ca": str(ca[0]), "master": master, "agent": agent,
            "client": tuple(map(str, client)), "stranger": stranger}


def tls_master(cluster, pki):
    cert, key = pki["master"]
    m = cluster.master(extra=["--tls-cert", str(cert), "--tls-key", str(key),
                              "--tls-ca", pki["ca"]], wait=False)
    m.url = "https://127.0.0.1:%d" % m.port
    wait_https(m, verify=pki["ca"], cert=pki["client"])
    return m


def get(m, pki, path, **kw):
    return requests.get(m.url + path, verify=pki["ca"], cert=pki["client"], timeout=10, **kw)


def slaves(m, pki):
    return get(m, pki, "/master/slaves").json()["slaves"]


def tls_agent(cluster, m, pki, cert=None, name=None, extra=None):
    args = ["--tls-ca", pki["ca"]]
    if cert is not None:
        args += ["--tls-cert", str(cert[0]), "--tls-key", str(cert[1])]
    a = cluster.agent(master=m, extra=args + list(extra or []), wait=False, name=name)
    a.url = "https://" + a.addr
    return a


def test_agent_over_mutual_tls(cluster, pki):
    m = tls_master(cluster, pki)
    a = tls_agent(cluster, m, pki, cert=pki["agent"])
    wait_until(lambda: [s for s in slaves(m, pki) if s["active"]], timeout=20,
               what="agent registered over TLS")
    app = app_def("/tls", cmd="echo over-tls; sleep 600")
    r = requests.post(m.url + "/v2/apps", json=app, verify=pki["ca"], cert=pki["client"],
                      timeout=10)
    assert r.status_code == 201, r.text

    def running():
        ts = get(m, pki, "/v2/apps/tls/tasks").json()["tasks"]
        return [t for t in ts if t["state"] == "TASK_RUNNING"]
    tid = wait_until(running, timeout=30, what="task running")[0]["id"]
    # The agent's own API is HTTPS only and wants a client certificate of the CA.
    r = requests.get(a.url + "/state", verify=pki["ca"], cert=pki["client"], timeout=10)
    assert r.status_code == 200 and r.json()["tasks"]
    with pytest.raises(requests.RequestException):
        requests.get("http://%s/state" % a.addr, timeout=5)
    with pytest.raises(requests.RequestException):
        requests.get(a.url + "/state", verify=pki["ca"], timeout=5)
    with pytest.raises(requests.RequestException):
        requests.get(a.url + "/state", verify=pki["ca"],
                     cert=tuple(map(str, pki["stranger"])), timeout=5)
    # The master reaches the sandbox over HTTPS.
    r = wait_until(lambda: (lambda r: r if r.status_code == 200 and "over-tls" in
                            r.json()["data"] else None)(
        get(m, pki, "/api/berth/tasks/%s/files/read" % tid,
            params={"path": "stdout", "offset": 0})), timeout=15, what="sandbox over TLS")
    # Heartbeats and updates keep flowing over new TLS connections: the agent stays active
    # through several heartbeat intervals, and a kill's update arrives.
    time.sleep(12)
    assert [s["active"] for s in slaves(m, pki)] == [True]
    r = requests.delete(m.url + "/v2/apps/tls/tasks/%s" % tid, verify=pki["ca"],
                        cert=pki["client"], timeout=10)
    assert r.status_code == 200, r.text

    def replaced():
        ts = running()
        return ts if ts and ts[0]["id"] != tid else None
    wait_until(replaced, timeout=30, what="killed task replaced")
    assert a.alive()


@pytest.mark.parametrize("which", ["stranger", "none"])
def test_agent_without_a_valid_certificate_cannot_register(cluster, pki, which):
    m = tls_master(cluster, pki)
    bad = tls_agent(cluster, m, pki, cert=pki["stranger"] if which == "stranger" else None,
                    name="bad")
    time.sleep(4)
    assert slaves(m, pki) == []
    assert bad.alive()
    # The same master takes an agent with a good certificate.
    tls_agent(cluster, m, pki, cert=pki["agent"], name="good")
    wait_until(lambda: len(slaves(m, pki)) == 1, timeout=20, what="good agent registered")


def test_agent_refuses_a_master_its_ca_does_not_vouch_for(cluster, pki):
    """The agent verifies the master: with --tls-ca naming another CA it never subscribes
    (its token and tasks never reach an impostor)."""
    m = tls_master(cluster, pki)
    other = cluster.workdir / "other-ca.pem"
    a = cluster.agent(master=m, extra=["--tls-ca", str(other), "--tls-cert",
                                       str(pki["agent"][0]), "--tls-key", str(pki["agent"][1])],
                      wait=False)
    time.sleep(4)
    assert slaves(m, pki) == []
    assert a.alive()
