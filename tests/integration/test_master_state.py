"""GET /master/state in the shape the real Mesos-DNS parses (reference/compat.md §2.2–2.3,
§9.3): string ids, `leader`/`pid` as master@ip:port, slave pids, no framework pid for an
HTTP framework, ports as "[a-b, c-d]" with a-a for one port, labels as an array, and a
TASK_RUNNING status carrying the task's IP."""
import re

from helpers import app_def, wait_until

UPID = re.compile(r"^[a-z0-9()]+@\d+\.\d+\.\d+\.\d+:\d+$")
RANGES = re.compile(r"^\[(\d+-\d+)(, \d+-\d+)*\]$")


def test_master_state_has_the_shape_mesos_dns_reads(cluster):
    m = cluster.master()
    a = cluster.agent(hostname="node-a", attributes="rack:r1",
                      resources="cpus(*):2; mem(*):1024; disk(*):100; "
                                "ports(*):[31000-31000, 31005-31010]")
    app = app_def("/prod/web", "sleep 3600", labels={"team": "db", "tier": "1"},
                  portDefinitions=[{"port": 0, "name": "http"},
                                   {"port": 0, "name": "dns", "protocol": "udp,tcp"}])
    assert m.api.post("/v2/apps", app).status_code == 201
    task = wait_until(lambda: m.api.running("/prod/web"), 20, what="task running")[0]

    for path in ("/master/state", "/state", "/master/state.json", "/state.json"):
        r = m.api.get(path)
        assert r.status_code == 200, (path, r.text)
    s = m.api.get("/master/state").json()
    assert UPID.match(s["leader"]) and s["leader"].startswith("master@"), s["leader"]
    assert s["pid"] == s["leader"]
    assert s["leader"].endswith(":%d" % m.port)

    slave = [sl for sl in s["slaves"] if sl["hostname"] == "node-a"][0]
    assert UPID.match(slave["pid"]) and slave["pid"] == "slave(1)@" + a.addr
    assert isinstance(slave["id"], str) and slave["active"] is True
    assert RANGES.match(slave["resources"]["ports"]), slave["resources"]["ports"]
    assert slave["resources"]["ports"] == "[31000-31000, 31005-31010]"
    assert slave["attributes"] == {"rack": "r1"}

    fw = [f for f in s["frameworks"] if f["name"] == "marathon"][0]
    assert "pid" not in fw, "an HTTP framework has no pid (an empty one breaks Mesos-DNS)"
    assert isinstance(fw["id"], str) and fw["active"] is True
    t = [t for t in fw["tasks"] if t["id"] == task["id"]][0]
    assert t["name"] == "web.prod"
    assert t["slave_id"] == slave["id"] and isinstance(t["slave_id"], str)
    assert t["framework_id"] == fw["id"]
    assert t["state"] == "TASK_RUNNING"
    # Two ports, the first two of the agent's ranges: single ports are written a-a.
    assert t["resources"]["ports"] == "[31000-31000, 31005-31005]", t["resources"]["ports"]
    assert sorted(task["ports"]) == [31000, 31005]
    assert sorted((lbl["key"], lbl["value"]) for lbl in t["labels"]) == [("team", "db"),
                                                                      ("tier", "1")]
    running = [st for st in t["statuses"] if st["state"] == "TASK_RUNNING"]
    assert running, t["statuses"]
    latest = max(running, key=lambda st: st["timestamp"])
    ips = [ip["ip_address"] for ni in latest["container_status"]["network_infos"]
           for ip in ni["ip_addresses"]]
    assert ips == ["127.0.0.1"]
    ports = t["discovery"]["ports"]["ports"]
    assert {(p["name"], p["protocol"]) for p in ports} == {("http", "tcp"), ("dns", "udp"),
                                                         ("dns", "tcp")}
