"""TLS between HA masters (docs/security.md, "TLS", "Several masters"): three masters on a
real 3-node ZooKeeper ensemble, each with --tls-cert/--tls-key/--tls-ca. Standbys serve
HTTPS only (as the leader), proxy Marathon's API to the leader over mutual TLS, and their
307s name https; an agent given zk:// and --tls-ca follows the leader over mTLS through a
kill -9 failover; a master whose certificate the CA did not sign (or one without TLS) cannot
pass anything to the leader: the leader refuses its handshake and its clients get 502."""
import pytest
import requests

from helpers import app_def, wait_until
from test_tls import make_ca, make_signed
from zk_ensemble import zk_ensemble  # noqa: F401 (fixture)

SESSION = 2.0  # --zk-session-timeout


@pytest.fixture
def pki(cluster):
    d = cluster.workdir
    ca = make_ca(d, "ca")
    # The masters advertise --hostname 127.0.0.1: their certificates name it.
    master = make_signed(d, "master", ca, san="IP:127.0.0.1,DNS:localhost")
    agent = make_signed(d, "agent", ca, san="IP:127.0.0.1,DNS:localhost")
    client = make_signed(d, "client", ca)
    other = make_ca(d, "other-ca")
    stranger = make_signed(d, "stranger", other, san="IP:127.0.0.1,DNS:localhost")
    return {"ca": str(ca[0]), "master": master, "agent": agent,
            "client": tuple(map(str, client)), "stranger": stranger, "other": str(other[0])}


def tls_master(cluster, ens, pki, cert=None, ca=None):
    cert = cert or pki["master"]
    m = cluster.master(wait=False, agent_timeout=60, extra=[
        "--store", ens.url("/berth"), "--zk-session-timeout", str(SESSION),
        "--hostname", "127.0.0.1", "--tls-cert", str(cert[0]), "--tls-key", str(cert[1]),
        "--tls-ca", ca or pki["ca"]])
    m.url = "https://" + m.addr
    # (we check a stranger's certificate against its own CA, to reach it at all)
    m.verify = pki["other"] if cert is pki["stranger"] else pki["ca"]

    def up():
        assert m.alive(), m.stderr_text()[-3000:]
        try:
            return call(m, pki, "GET", "/ping", timeout=3).status_code == 200
        except requests.RequestException:
            return False
    wait_until(up, 30, what="%s https /ping" % m.name)
    return m


def call(m, pki, method, path, **kw):
    kw.setdefault("timeout", 10)
    return requests.request(method, m.url + path, verify=m.verify, cert=pki["client"],
                            allow_redirects=False, **kw)


def leader_of(m, pki):
    try:
        r = call(m, pki, "GET", "/v2/leader", timeout=3)
    except requests.RequestException as e:
        return repr(e)
    return r.json()["leader"] if r.status_code == 200 else (r.status_code, r.text)


def active_agents(m, pki):
    try:
        return [s for s in call(m, pki, "GET", "/master/slaves").json()["slaves"] if s["active"]]
    except (requests.RequestException, ValueError):
        return []


def running(m, pki, app):
    try:
        ts = call(m, pki, "GET", "/v2/apps%s/tasks" % app).json()["tasks"]
    except (requests.RequestException, ValueError, KeyError):
        return []
    return sorted(t["id"] for t in ts if t["state"] == "TASK_RUNNING")


def test_ha_masters_over_mutual_tls(cluster, zk_ensemble, pki):  # noqa: F811
    ens = zk_ensemble
    masters = [tls_master(cluster, ens, pki) for _ in range(3)]
    m1, m2, m3 = masters
    for m in masters:
        wait_until(lambda m=m: leader_of(m, pki) == m1.addr, 30,
                   what="%s names the leader over https" % m.name)
    assert "berth master standby: https://" in m2.stderr_text()

    # A standby speaks TLS only, and wants a client certificate of the CA.
    with pytest.raises(requests.RequestException):
        requests.get("http://%s/v2/leader" % m2.addr, timeout=5)
    with pytest.raises(requests.RequestException):
        requests.get(m2.url + "/v2/leader", verify=pki["ca"], timeout=5)

    # Marathon's API through a standby: proxied to the leader over mutual TLS.
    r = call(m2, pki, "POST", "/v2/apps", json=app_def("/hatls/via-standby", "sleep 3600",
                                                       instances=0))
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == "https://%s/v2/apps/hatls/via-standby" % m1.addr
    r = call(m3, pki, "GET", "/v2/apps/hatls/via-standby")
    assert r.status_code == 200 and r.json()["app"]["id"] == "/hatls/via-standby", r.text
    r = call(m3, pki, "GET", "/v2/info")
    assert r.status_code == 200, r.text
    assert r.json()["marathon_config"]["mesos_leader_ui_url"] == "https://%s" % m1.addr
    assert r.json()["http_config"]["https_port"] == m1.port
    # Redirects name https (agents' calls) or keep the client's scheme (Mesos's v1 API).
    r = call(m2, pki, "POST", "/api/berth/agent/subscribe", data=b"{}")
    assert r.status_code == 307 and r.headers["Location"] == \
        "https://%s/api/berth/agent/subscribe" % m1.addr, (r.status_code, r.headers)
    r = call(m2, pki, "POST", "/api/v1/scheduler", json={"type": "SUBSCRIBE"})
    assert r.status_code == 307 and r.headers["Location"] == "//%s/api/v1/scheduler" % m1.addr

    # An agent finds the leader in ZooKeeper and registers over mutual TLS.
    cert, key = pki["agent"]
    ag = cluster.agent(master=m1, wait=False, extra=[
        "--master", ens.url("/berth"), "--tls-ca", pki["ca"], "--tls-cert", str(cert),
        "--tls-key", str(key)])
    wait_until(lambda: active_agents(m1, pki), 30, what="agent on the leader over TLS")
    r = call(m3, pki, "POST", "/v2/apps", json=app_def("/hatls/run", "sleep 3600",
                                                       instances=2))
    assert r.status_code == 201, r.text
    ids = wait_until(lambda: (lambda ids: ids if len(ids) == 2 else None)(
        running(m1, pki, "/hatls/run")), 40, what="2 tasks running")

    # A master whose certificate another CA signed joins the election as a standby, but
    # the leader refuses its handshake: nothing passes through it.
    rogue = tls_master(cluster, ens, pki, cert=pki["stranger"])
    wait_until(lambda: leader_of(rogue, pki) == m1.addr, 30, what="the rogue standby is up")
    r = call(rogue, pki, "POST", "/v2/apps", json=app_def("/hatls/rogue", "sleep 1",
                                                          instances=0))
    assert r.status_code == 502, (r.status_code, r.text)
    assert call(rogue, pki, "GET", "/v2/apps").status_code == 502
    # ... and a master without TLS cannot either.
    plain = cluster.master(wait=True, agent_timeout=60, extra=[
        "--store", ens.url("/berth"), "--zk-session-timeout", str(SESSION),
        "--hostname", "127.0.0.1"])
    r = requests.post(plain.url + "/v2/apps", json=app_def("/hatls/plain", "sleep 1",
                                                           instances=0), timeout=10)
    assert r.status_code == 502, (r.status_code, r.text)
    assert call(m1, pki, "GET", "/v2/apps/hatls/rogue").status_code == 404
    assert call(m1, pki, "GET", "/v2/apps/hatls/plain").status_code == 404
    # (They leave: a leader without a certificate the agents trust would lead nobody.)
    rogue.kill9()
    plain.kill9()

    # kill -9 the leader: m2 is elected, m3 proxies to it, the agent re-registers with it
    # over mutual TLS and its tasks were not restarted.
    m1.kill9()
    wait_until(lambda: leader_of(m2, pki) == m2.addr, SESSION + 15, what="m2 leads")
    wait_until(lambda: leader_of(m3, pki) == m2.addr, 15, what="m3 names m2")
    wait_until(lambda: [s for s in active_agents(m2, pki)
                        if str(s.get("pid", "")).endswith(":%d" % ag.port)], 30,
               what="the agent on the new leader")
    wait_until(lambda: running(m2, pki, "/hatls/run") == ids, 30,
               what="the same tasks on the new leader")
    r = call(m3, pki, "PUT", "/v2/apps/hatls/run", json={"instances": 3})
    assert r.status_code == 200, r.text
    wait_until(lambda: len(running(m3, pki, "/hatls/run")) == 3, 40,
               what="scaled to 3 through the standby")
    assert ag.stderr_text().count("following the master at") >= 2, ag.stderr_text()[-3000:]


def test_agent_given_https_masters_follows_the_https_redirect(cluster, zk_ensemble, pki):  # noqa: F811
    """An agent given every master as https://, a standby first: the standby's 307 names
    https://leader, the agent follows it over mutual TLS, and after a kill -9 of the leader
    it subscribes to the next one."""
    ens = zk_ensemble
    masters = [tls_master(cluster, ens, pki) for _ in range(3)]
    m1, m2, m3 = masters
    for m in masters:
        wait_until(lambda m=m: leader_of(m, pki) == m1.addr, 30, what="%s names m1" % m.name)
    cert, key = pki["agent"]
    murl = ",".join(m.url for m in (m2, m1, m3))
    ag = cluster.agent(master=m1, wait=False, extra=[
        "--master", murl, "--tls-ca", pki["ca"], "--tls-cert", str(cert), "--tls-key", str(key)])
    wait_until(lambda: [s for s in active_agents(m1, pki)
                        if str(s.get("pid", "")).endswith(":%d" % ag.port)], 30,
               what="the agent on m1 after the standby's https 307")
    m1.kill9()
    wait_until(lambda: leader_of(m2, pki) == m2.addr, SESSION + 15, what="m2 leads")
    wait_until(lambda: [s for s in active_agents(m2, pki)
                        if str(s.get("pid", "")).endswith(":%d" % ag.port)], 30,
               what="the agent on m2")
