"""A master on a real 3-node ZooKeeper ensemble (--store zk://…): state recovered after a
kill -9, writes refused with 503 (reads still served) while the ensemble has no quorum and
accepted again once it has, and digest ACLs (--zk-auth) that keep other clients out."""
import subprocess

import pytest

from helpers import app_def, wait_until
from zk_ensemble import zk_ensemble  # noqa: F401 (fixture)

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"


def zk_master(cluster, ens, path="/berth", extra=()):
    return cluster.master(agent_timeout=30, extra=["--store", ens.url(path),
                                                   "--zk-session-timeout", "2"] + list(extra))


def task_ids(api, app_id):
    return sorted(t["id"] for t in api.tasks(app_id))


def test_state_survives_kill9_and_quorum_loss(cluster, zk_ensemble):  # noqa: F811
    ens = zk_ensemble
    m = zk_master(cluster, ens)
    cluster.agent()
    r = m.api.post("/v2/apps", app_def("/zk/a", "sleep 3600", instances=2))
    assert r.status_code == 201, r.text
    m.api.wait_running("/zk/a", 2)
    m.api.wait_no_deployments()
    before = task_ids(m.api, "/zk/a")

    # kill -9 and restart on the same ensemble: the app and its tasks come back, not restarted.
    m.restart()
    app = wait_until(lambda: m.api.app("/zk/a"), 20, what="/zk/a recovered")
    assert app["instances"] == 2
    m.api.wait_running("/zk/a", 2)
    assert task_ids(m.api, "/zk/a") == before

    # One ZooKeeper node down: the ensemble keeps its quorum, writes go on.
    ens.nodes[0].stop()
    r = wait_until(lambda: (lambda x: x if x.status_code == 201 else None)(
        m.api.post("/v2/apps", app_def("/zk/b", "sleep 3600"))), 20, what="write with 2/3")
    m.api.wait_running("/zk/b", 1)

    # Two down: no quorum. Writes are refused with a clear 503; reads are served from memory.
    ens.nodes[1].stop()

    def refused():
        x = m.api.post("/v2/apps", app_def("/zk/c", "sleep 3600"))
        assert x.status_code in (201, 503), x.text
        return [x] if x.status_code == 503 else None  # a Response is falsy when not ok
    x = wait_until(refused, 20, what="503 without quorum")[0]
    assert "not connected to a ZooKeeper quorum" in x.json()["message"], x.text
    ids = {a["id"] for a in m.api.get("/v2/apps").json()["apps"]}
    assert {"/zk/a", "/zk/b"} <= ids
    assert len(m.api.running("/zk/a")) == 2

    # Quorum back: writes resume; nothing written before is lost.
    ens.nodes[0].start()
    ens.nodes[1].start()
    ens.wait_quorum()
    wait_until(lambda: m.api.post("/v2/apps", app_def("/zk/d", "sleep 3600")).status_code
               in (201, 409), 30, what="write after quorum is back")
    m.restart()
    ids = wait_until(lambda: {a["id"] for a in m.api.get("/v2/apps").json()["apps"]}
                     >= {"/zk/a", "/zk/b", "/zk/d"} and
                     {a["id"] for a in m.api.get("/v2/apps").json()["apps"]}, 20,
                     what="apps after restart")
    assert task_ids(m.api, "/zk/a") == before


@pytest.mark.skipif(not __import__("os").path.exists(ZKCLI), reason="zkCli.sh not installed")
def test_zk_auth_acl_keeps_others_out(cluster, zk_ensemble):  # noqa: F811
    ens = zk_ensemble
    m = zk_master(cluster, ens, "/secure", extra=["--zk-auth", "berth:s3cret"])
    r = m.api.post("/v2/apps", app_def("/zk/acl", "sleep 3600", instances=0))
    assert r.status_code == 201, r.text

    def cli(*cmd):
        p = subprocess.run([ZKCLI, "-server", ens.connect.split(",")[0]] + list(cmd),
                           capture_output=True, timeout=60)
        return p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    acl = cli("getAcl", "/secure/kv")
    assert "digest" in acl and "'world,'anyone" in acl, acl
    # Anyone may read, nobody else may write.
    assert "Insufficient permission" in cli("create", "/secure/kv/bintruder", "x")
    assert "Insufficient permission" in cli("set", "/secure/kv", "x")
    # Wrong credentials: the master does not start.
    bad = cluster.master(wait=False, extra=["--store", ens.url("/secure"),
                                            "--zk-auth", "berth:wrong"])
    wait_until(lambda: not bad.alive() or None, 30, what="master with bad credentials exits")
    bad.expect_dead = True
