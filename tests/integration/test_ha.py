"""Several masters on a real 3-node ZooKeeper ensemble: one elected leader (ephemeral
sequential json.info_ znodes, as Mesos), standbys that name it and redirect to it, a new
leader after a kill -9 within the session timeout + 1 s that recovers every app from the
store, DELETE /v2/leader handing leadership over, agents whose tasks survive two
failovers, writes through a kill -9 and a lost quorum, and a v1 framework failing over."""
import os
import time

import pytest
import requests

import helpers
from helpers import app_def, wait_until
from zk_ensemble import zk_ensemble  # noqa: F401 (fixture)

SESSION = 2.0  # --zk-session-timeout in these tests


def ha_master(cluster, ens, wait=True):
    return cluster.master(wait=wait, agent_timeout=60, extra=[
        "--store", ens.url("/berth"), "--zk-session-timeout", str(SESSION),
        "--hostname", "127.0.0.1"])


def leader_of(m):
    r = requests.get(m.url + "/v2/leader", timeout=2)
    return r.json()["leader"] if r.status_code == 200 else (r.status_code, r.text)


def test_election_standbys_failover_abdication(cluster, zk_ensemble):  # noqa: F811
    ens = zk_ensemble
    masters = [ha_master(cluster, ens) for _ in range(3)]
    m1 = masters[0]
    # The first to join leads; every master names it.
    for m in masters:
        wait_until(lambda m=m: leader_of(m) == m1.addr, 10, what="%s names the leader" % m.name)

    # A standby: Mesos's APIs answer 307 with a scheme-relative Location; /master/state
    # names the leader.
    s = masters[1]
    r = requests.post(s.url + "/api/v1/scheduler", json={"type": "SUBSCRIBE"},
                      allow_redirects=False, timeout=5)
    assert r.status_code == 307, r.text
    assert r.headers["Location"] == "//%s/api/v1/scheduler" % m1.addr
    st = s.api.get("/master/state").json()
    assert st["leader"] == "master@%s" % m1.addr
    assert st["leader_info"]["port"] == m1.port
    assert st["leader_info"]["address"]["ip"] == "127.0.0.1"
    assert st["leader_info"]["ip"] == 16777343  # Mesos: the IPv4 address as a uint32, network order
    # Marathon's API on a standby is proxied to the leader (no redirect to follow).
    r = requests.post(s.url + "/v2/apps", json=app_def("/ha/via-standby", "sleep 3600",
                                                       instances=0), allow_redirects=False,
                      timeout=5)
    assert r.status_code == 201, r.text
    assert r.json()["id"] == "/ha/via-standby"
    assert r.headers["Content-Type"].startswith("application/json")
    r = requests.get(s.url + "/v2/apps/ha/via-standby", allow_redirects=False, timeout=5)
    assert r.status_code == 200 and r.json()["app"]["id"] == "/ha/via-standby", r.text
    # the ETag and If-None-Match pass through the proxy: 304 from the leader's tag
    tag = r.headers["ETag"]
    r = requests.get(s.url + "/v2/apps/ha/via-standby", headers={"If-None-Match": tag},
                     allow_redirects=False, timeout=5)
    assert r.status_code in (200, 304) and r.headers["ETag"], r.text
    if r.status_code == 200:  # the app's tasks changed in between: the tag moved with them
        assert r.headers["ETag"] != tag
    r = requests.get(s.url + "/v2/apps/ha/nope", allow_redirects=False, timeout=5)
    assert r.status_code == 404, r.text

    for i in range(5):
        r = m1.api.post("/v2/apps", app_def("/ha/a%d" % i, "sleep 3600", instances=i))
        assert r.status_code == 201, r.text
    before = sorted(a["id"] for a in m1.api.get("/v2/apps").json()["apps"])
    assert len(before) == 6

    # kill -9 the leader: another master accepts a write within the session timeout + 1 s.
    m1.kill9()
    t0 = time.monotonic()
    rest = masters[1:]

    def accepted():
        for m in rest:
            try:
                r = requests.post(m.url + "/v2/apps", json=app_def("/ha/after", "sleep 1",
                                                                  instances=0),
                                  allow_redirects=False, timeout=1)
            except requests.RequestException:
                continue
            if r.status_code == 201:
                return m
        return None
    wait_until(accepted, SESSION + 10, interval=0.02, what="a write on a new leader")
    took = time.monotonic() - t0
    # (A standby proxies the write to the leader: find which one leads.)
    new = wait_until(lambda: [m for m in rest if leader_of(m) == m.addr], 10,
                     what="the new leader")[0]
    print("failover: first write accepted %.2fs after the kill" % took)
    assert took < SESSION + 1.0, "new leader took %.2fs" % took
    assert sorted(a["id"] for a in new.api.get("/v2/apps").json()["apps"]) == \
        sorted(before + ["/ha/after"])
    assert new.api.app("/ha/a3")["instances"] == 3
    other = [m for m in rest if m is not new][0]
    wait_until(lambda: leader_of(other) == new.addr, 10,
               what="the standby names the new leader (%s)" % new.addr)

    # DELETE /v2/leader: the leader steps down (it restarts itself as a standby), the other
    # master takes over with the same state.
    r = new.api.delete("/v2/leader")
    assert r.status_code == 200 and r.json()["message"] == "Leadership abdicated", r.text
    wait_until(lambda: leader_of(other) == other.addr, 10, what="the other master leads")
    wait_until(lambda: leader_of(new) == other.addr, 10, what="the old leader is a standby")
    assert new.alive()
    assert sorted(a["id"] for a in other.api.get("/v2/apps").json()["apps"]) == \
        sorted(before + ["/ha/after"])


@pytest.mark.parametrize("via", ["list", "zk"])
def test_agent_and_tasks_follow_two_failovers(cluster, zk_ensemble, via):  # noqa: F811
    ens = zk_ensemble
    masters = [ha_master(cluster, ens) for _ in range(3)]
    wait_until(lambda: leader_of(masters[2]) == masters[0].addr, 10, what="m1 leads")
    if via == "list":
        # The agent is given every master; it starts on a standby and is sent to the leader.
        # (The order starts on a standby on purpose.)
        murl = ",".join(m.url for m in [masters[1], masters[0], masters[2]])
    else:
        # The agent reads the leader from ZooKeeper, as a Mesos agent with --master=zk://.
        murl = ens.url("/berth")
    ag = cluster.agent(master=masters[0], extra=["--master", murl])
    if via == "zk":
        assert "following the leading master in ZooKeeper" in ag.stderr_text()
    r = masters[0].api.post("/v2/apps", app_def("/ha/run", "sleep 3600", instances=2))
    assert r.status_code == 201, r.text
    run = masters[0].api.wait_running("/ha/run", 2)
    ids = sorted(t["id"] for t in run)

    alive = list(masters)
    for _ in range(2):
        leader = [m for m in alive if leader_of(m) == m.addr][0]
        leader.kill9()
        alive.remove(leader)

        def new_leader():
            for m in alive:
                try:
                    if leader_of(m) == m.addr:
                        return m
                except requests.RequestException:
                    pass
            return None
        new = wait_until(new_leader, SESSION + 10, what="a new leader")
        # The agent re-registers with the new leader; the tasks were not restarted.
        wait_until(lambda: any(s.get("active") and str(s.get("pid", "")).endswith(
            ":%d" % ag.port) for s in new.api.slaves()), 20, what="agent on the new leader")
        run = new.api.wait_running("/ha/run", 2)
        assert sorted(t["id"] for t in run) == ids
        # The CLI given every master (dead ones first) reaches the leader.
        rc, out, err = cluster.cli("app", "list", master=",".join(m.url for m in masters))
        assert rc == 0 and "/ha/run" in out, (rc, out, err)
    if via == "zk":  # the first leader, then each new one, read from ZooKeeper
        assert ag.stderr_text().count("following the master at") == 3, ag.stderr_text()


def test_quorum_lost_then_back_with_three_masters(cluster, zk_ensemble):  # noqa: F811
    ens = zk_ensemble
    masters = [ha_master(cluster, ens) for _ in range(3)]
    m1, s2 = masters[0], masters[1]
    wait_until(lambda: leader_of(s2) == m1.addr, 10, what="m1 leads")
    assert m1.api.post("/v2/apps", app_def("/q/a", "sleep 1", instances=0)).status_code == 201

    # One ZooKeeper node down: still a quorum, writes through the leader and a standby work.
    ens.nodes[2].stop()
    wait_until(lambda: m1.api.post("/v2/apps", app_def("/q/b", "sleep 1", instances=0))
               .status_code in (201, 409), 20, what="write with 2 of 3 ZooKeeper nodes")
    wait_until(lambda: s2.api.post("/v2/apps", app_def("/q/c", "sleep 1", instances=0))
               .status_code in (201, 409), 20, what="write via a standby with 2 of 3")

    # Quorum lost: writes 503 with a clear message, on the leader and through a standby;
    # reads are served.
    ens.nodes[1].stop()

    def refused(m, app_id):
        def f():
            r = m.api.post("/v2/apps", app_def(app_id, "sleep 1", instances=0))
            assert r.status_code in (201, 503), r.text
            return [r] if r.status_code == 503 else None
        return wait_until(f, 20, what="503 from %s without quorum" % m.name)[0]
    r = refused(m1, "/q/x")
    assert "ZooKeeper quorum" in r.json()["message"], r.text
    r = refused(s2, "/q/y")
    assert "ZooKeeper quorum" in r.json()["message"], r.text
    for m in (m1, s2):
        ids = {a["id"] for a in m.api.get("/v2/apps").json()["apps"]}
        assert {"/q/a", "/q/b", "/q/c"} <= ids, ids
    assert leader_of(s2) == m1.addr
    # Not heard by ZooKeeper for half its session timeout, the leader acts on nothing more.
    wait_until(lambda: "not heard by ZooKeeper" in m1.stderr_text(), 10, what="m1 fenced")
    ids = {a["id"] for a in m1.api.get("/v2/apps").json()["apps"]}
    assert {"/q/a", "/q/b", "/q/c"} <= ids, ids

    # Quorum back: writes resume (on whichever master leads now), nothing is lost.
    ens.nodes[1].start()
    ens.nodes[2].start()
    ens.wait_quorum()
    wait_until(lambda: s2.api.post("/v2/apps", app_def("/q/d", "sleep 1", instances=0))
               .status_code in (201, 409), 30, what="write after the quorum is back")
    ids = {a["id"] for a in s2.api.get("/v2/apps").json()["apps"]}
    assert {"/q/a", "/q/b", "/q/c", "/q/d"} <= ids and "/q/x" not in ids, ids
    # m1 either leads again (its session survived) or restarted itself as a standby.
    wait_until(lambda: "acting as the leader again" in m1.stderr_text() or
               "restarting as a standby" in m1.stderr_text(), 10, what="m1 unfenced")


def test_kill9_leader_during_concurrent_writes(cluster, zk_ensemble):  # noqa: F811
    """Every app whose POST was answered 201 exists after the leader is killed mid-stream:
    1,000 POSTs from 100 concurrent clients, the kill after 300 were answered."""
    import threading
    ens = zk_ensemble
    masters = [ha_master(cluster, ens) for _ in range(3)]
    m1 = masters[0]
    wait_until(lambda: leader_of(masters[2]) == m1.addr, 10, what="m1 leads")
    created, lock = [], threading.Lock()
    n_threads, per_thread = 100, 10

    def writer(t):
        s = requests.Session()
        for i in range(per_thread):
            app_id = "/w/t%d-%d" % (t, i)
            # Half the writers go to the leader, half through a standby (proxied).
            m = m1 if t % 2 == 0 else masters[1 + (t // 2) % 2]
            try:
                r = s.post(m.url + "/v2/apps", json=app_def(app_id, "sleep 1", instances=0),
                           timeout=5, allow_redirects=False)
            except requests.RequestException:
                continue
            if r.status_code == 201:
                with lock:
                    created.append(app_id)
    threads = [threading.Thread(target=writer, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    wait_until(lambda: len(created) >= 300, 30, what="300 writes answered")
    t0 = time.monotonic()
    m1.kill9()
    for th in threads:
        th.join(60)
    rest = masters[1:]
    new = wait_until(lambda: [m for m in rest if leader_of(m) == m.addr], SESSION + 10,
                     what="a new leader")[0]
    ids = {a["id"] for a in new.api.get("/v2/apps").json()["apps"]}
    lost = sorted(set(created) - ids)
    assert not lost, "answered 201 but gone after the failover: %r" % lost
    assert len(created) < n_threads * per_thread, "the kill landed after every write"
    print("%d of %d POSTs answered 201, all there after the failover (%.1fs after the kill)"
          % (len(created), n_threads * per_thread, time.monotonic() - t0))


def test_v1_framework_follows_a_failover(cluster, zk_ensemble):  # noqa: F811
    """A v1 framework subscribed through a standby (307 to the leader) keeps its task across
    a kill -9 of the leader: it re-subscribes with its id through any master."""
    from mesos_client import Framework, command_task
    ens = zk_ensemble
    masters = [ha_master(cluster, ens) for _ in range(3)]
    m1 = masters[0]
    wait_until(lambda: leader_of(masters[1]) == m1.addr, 10, what="m1 leads")
    ag = cluster.agent(master=m1, extra=["--master", ",".join(m.url for m in masters)])
    fw = Framework(masters[1].url, failover_timeout=60)  # a standby: 307 to the leader
    fw.subscribe()
    o = fw.wait_offers()[0]
    t = command_task("fwt", o, "exec sleep 300", env={helpers.TAG_VAR: helpers.current_tag()})
    fw.accept([o["id"]["value"]], [t])
    fw.wait_update("fwt", "TASK_RUNNING")
    # The host's pid ($$ would be the task's pid in its own pid namespace).
    pid = wait_until(lambda: helpers.task_pids("fwt"), 10, what="the task's process")[0]
    fid = fw.id

    m1.kill9()
    fw.disconnect()
    rest = masters[1:]
    new = wait_until(lambda: [m for m in rest if leader_of(m) == m.addr], SESSION + 10,
                     what="a new leader")[0]
    other = [m for m in rest if m is not new][0]
    wait_until(lambda: any(s.get("active") and str(s.get("pid", "")).endswith(
        ":%d" % ag.port) for s in new.api.slaves()), 20, what="agent on the new leader")
    fw2 = Framework(other.url, failover_timeout=60, framework_id=fid)
    ev = fw2.subscribe()
    assert ev["type"] == "SUBSCRIBED" and ev["subscribed"]["framework_id"]["value"] == fid
    fw2.reconcile(["fwt"])
    fw2.wait_update("fwt", "TASK_RUNNING")
    os.kill(pid, 0)  # the task process was never restarted
    assert helpers.task_pids("fwt") == [pid]
    fw2.teardown()


def test_paused_leader_cannot_write_after_its_session_expired(cluster, zk_ensemble):  # noqa: F811
    """SIGSTOP the leader past its session timeout: another master is elected; resumed, the
    old leader writes nothing (the store's writes are fenced by its election znode) and
    comes back as a standby."""
    import signal
    ens = zk_ensemble
    masters = [ha_master(cluster, ens) for _ in range(2)]
    m1, m2 = masters
    wait_until(lambda: leader_of(m2) == m1.addr, 10, what="m1 leads")
    assert m1.api.post("/v2/apps", app_def("/p/before", "sleep 1", instances=0)).status_code \
        == 201
    os.kill(m1.p.pid, signal.SIGSTOP)
    try:
        wait_until(lambda: leader_of(m2) == m2.addr, SESSION * 3 + 10, what="m2 elected")
    finally:
        os.kill(m1.p.pid, signal.SIGCONT)
    # The resumed ex-leader: whatever it answers, it must not be a write that landed.
    codes = []
    for i in range(20):
        try:
            r = requests.post(m1.url + "/v2/apps", json=app_def("/p/ex%d" % i, "sleep 1",
                                                                instances=0),
                              timeout=3, allow_redirects=False)
            codes.append(r.status_code)
        except requests.RequestException:
            codes.append(None)
    ids = {a["id"] for a in m2.api.get("/v2/apps").json()["apps"]}
    landed = sorted(i for i in ids if i.startswith("/p/ex"))
    # A write answered 201 by m1 once it is a standby again was proxied to m2: fine. A 201
    # from m1 acting as leader would have to show in m2's store too; none may be missing.
    assert "/p/before" in ids
    wait_until(lambda: leader_of(m1) == m2.addr, 20, what="m1 is a standby")
    ids = {a["id"] for a in m2.api.get("/v2/apps").json()["apps"]}
    assert landed == sorted(i for i in ids if i.startswith("/p/ex"))
    assert codes.count(201) == len(landed), (codes, landed)
    assert "restarting as a standby" in m1.stderr_text()
