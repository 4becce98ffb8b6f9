"""The last known endpoints (docs/dns.md): a master whose ZooKeeper ensemble loses quorum
keeps answering DNS and /v2/services from memory, and says so (X-Berth-Stale, "stale" in
the watch stream's events); once the quorum is back it says the endpoints are current."""
import requests

from helpers import app_def, free_port, wait_until
from test_dns import Dig
from zk_ensemble import zk_ensemble  # noqa: F401 (fixture)


def test_last_known_endpoints_without_quorum(cluster, zk_ensemble):  # noqa: F811
    ens = zk_ensemble
    port = free_port()
    m = cluster.master(agent_timeout=30, extra=["--store", ens.url("/stale"),
                                                "--zk-session-timeout", "2",
                                                "--dns", "127.0.0.1:%d" % port])
    cluster.agent()
    dig = Dig(port)
    app = app_def("/disc/web", "exec sleep 3600", portDefinitions=[{"port": 0}])
    assert m.api.post("/v2/apps", app).status_code == 201
    t = m.api.wait_running("/disc/web", 1)[0]
    r = requests.get(m.url + "/v2/services/disc/web", timeout=10)
    assert r.headers["X-Berth-Stale"] == "false" and r.json()["stale"] is False
    assert [e["taskId"] for e in r.json()["endpoints"]] == [t["id"]]

    # A watcher, to see the change of the flag as an event.
    w = requests.get(m.url + "/v2/services/disc/web?watch=true", stream=True, timeout=60)
    assert w.status_code == 200
    lines = w.iter_lines(decode_unicode=True)

    def next_event():
        typ = data = None
        for line in lines:
            if line.startswith("event: "):
                typ = line[7:]
            elif line.startswith("data: "):
                data = __import__("json").loads(line[6:])
            elif not line and typ:
                return typ, data
        raise AssertionError("stream ended")
    typ, data = next_event()
    assert typ == "endpoints" and data["stale"] is False and len(data["endpoints"]) == 1

    # Two of three nodes down: no quorum. DNS still answers the running task; the
    # discovery API says its endpoints are the last known ones.
    ens.nodes[0].stop()
    ens.nodes[1].stop()
    # The last node serves reads until it notices the lost quorum (up to syncLimit ticks),
    # so the flag may flap at first: wait for an answer that says stale in both places.
    def stale_answer():
        r = requests.get(m.url + "/v2/services/disc/web", timeout=10)
        return r if r.headers["X-Berth-Stale"] == "true" and r.json()["stale"] is True else None
    r = wait_until(stale_answer, 30, what="stale without quorum")
    assert [e["taskId"] for e in r.json()["endpoints"]] == [t["id"]]
    assert dig.a("web-disc.marathon.mesos") == ["127.0.0.1"]
    # The change came as an event (the quorum's loss may flap while the last node notices).
    while next_event() != ("store", {"stale": True}):
        pass
    # Writes are refused meanwhile (the store's 503), reads still served.
    wait_until(lambda: m.api.post("/v2/apps", app_def("/disc/other", "sleep 1"))
               .status_code == 503, 20, what="503 without quorum")

    # Quorum back: current again, without any write to notice it.
    ens.nodes[0].start()
    ens.nodes[1].start()
    ens.wait_quorum()
    wait_until(lambda: requests.get(m.url + "/v2/services/disc/web", timeout=10)
               .headers["X-Berth-Stale"] == "false", 30, what="current with quorum")
    while next_event() != ("store", {"stale": False}):
        pass
    assert dig.a("web-disc.marathon.mesos") == ["127.0.0.1"]
    w.close()
