"""Authorization on the master (docs/security.md) through the real binary: Mesos's ACL JSON
(--acls, permissive false) for register_frameworks, run_tasks, reserve_resources and
update_quotas, berth's Marathon path rules (create/update/delete/view_apps with app id
prefixes), 403s that change nothing, and the audit log (--audit-log), one JSON line per change
or refusal."""
import json

import requests

import helpers
from helpers import app_def, wait_until
from mesos_client import Framework, command_task

CREDS = {"credentials": [{"principal": "ops", "secret": "ops-pw"},
                         {"principal": "dev", "secret": "dev-pw"},
                         {"principal": "agent", "secret": "agent-pw"}]}
ANY = {"type": "ANY"}


def vals(*v):
    return {"values": list(v)}


def start(cluster, acls, creds=True):
    files = []
    p = cluster.workdir / "acls.json"
    p.write_text(json.dumps(acls))
    files += ["--acls", str(p)]
    if creds:
        c = cluster.workdir / "creds.json"
        c.write_text(json.dumps(CREDS))
        files += ["--credentials", str(c)]
    audit = cluster.workdir / "audit.log"
    m = cluster.master(extra=files + ["--audit-log", str(audit)])
    if creds:
        m.api.s.auth = ("ops", "ops-pw")
    return m, audit


def audit_lines(path):
    return [json.loads(l) for l in path.read_text().splitlines()] if path.exists() else []


def test_marathon_path_rules(cluster):
    acls = {"permissive": False,
            "create_apps": [{"principals": vals("dev"), "app_ids": vals("/dev")},
                            {"principals": vals("ops"), "app_ids": ANY}],
            "update_apps": [{"principals": vals("dev"), "app_ids": vals("/dev")},
                            {"principals": vals("ops"), "app_ids": ANY}],
            "delete_apps": [{"principals": vals("ops"), "app_ids": ANY}],
            "view_apps": [{"principals": vals("dev"), "app_ids": vals("/dev")},
                          {"principals": vals("ops"), "app_ids": ANY}]}
    m, audit = start(cluster, acls)
    dev = requests.Session()
    dev.auth = ("dev", "dev-pw")
    u = m.url

    r = dev.post(u + "/v2/apps", json=app_def("/prod/web", cmd="sleep 600", instances=0))
    assert r.status_code == 403
    assert r.json() == {"message": "Not Authorized to perform this action!"}
    assert m.api.get("/v2/apps").json()["apps"] == []  # nothing created
    r = dev.post(u + "/v2/apps", json=app_def("/devx", cmd="sleep 600", instances=0))
    assert r.status_code == 403  # a prefix is a path prefix
    r = dev.post(u + "/v2/apps", json=app_def("dev/web", cmd="sleep 600", instances=0))
    assert r.status_code == 201, r.text
    r = m.api.post("/v2/apps", app_def("/prod/web", cmd="sleep 600", instances=0))
    assert r.status_code == 201, r.text

    assert dev.get(u + "/v2/apps/prod/web").status_code == 403
    assert dev.get(u + "/v2/apps/dev/web").status_code == 200
    r = dev.put(u + "/v2/apps/prod/web", json={"instances": 0, "cmd": "sleep 1"})
    assert r.status_code == 403
    assert dev.patch(u + "/v2/apps/prod/web", json={"cmd": "x"}).status_code == 403
    assert dev.post(u + "/v2/apps/prod/web/restart").status_code == 403
    assert dev.delete(u + "/v2/apps/prod/web").status_code == 403
    assert dev.delete(u + "/v2/apps/dev/web").status_code == 403  # delete: ops only
    assert m.api.get("/v2/apps/prod/web").json()["app"]["cmd"] == "sleep 600"
    assert m.api.delete("/v2/apps/dev/web").status_code == 200

    lines = audit_lines(audit)
    assert {"principal": "dev", "action": "create_apps", "object": "/prod/web",
            "result": "denied"} in [{k: v for k, v in l.items() if k != "time"} for l in lines]
    assert any(l["principal"] == "dev" and l["action"] == "create_apps" and
               l["object"] == "/dev/web" and l["result"] == "allowed" for l in lines)
    assert any(l["principal"] == "ops" and l["action"] == "delete_apps" and
               l["object"] == "/dev/web" and l["result"] == "allowed" for l in lines)
    assert all(l["time"].endswith("Z") for l in lines)
    assert "pw" not in audit.read_text()


def test_mesos_acls_register_reserve_quota(cluster):
    acls = {"permissive": False,
            "register_frameworks": [{"principals": vals("ops"), "roles": vals("web")}],
            "reserve_resources": [{"principals": vals("ops"), "roles": ANY}],
            "update_quotas": [{"principals": vals("ops"), "roles": vals("web")}]}
    m, audit = start(cluster, acls)
    hdr = {"Content-Type": "application/json", "Accept": "application/json"}

    def subscribe(auth, roles):
        call = {"type": "SUBSCRIBE", "subscribe": {"framework_info": {
            "user": "root", "name": "fw", "roles": roles,
            "capabilities": [{"type": "MULTI_ROLE"}]}}}
        return requests.post(m.url + "/api/v1/scheduler", json=call, headers=hdr,
                             auth=auth, stream=True, timeout=10)

    r = subscribe(("ops", "ops-pw"), ["web", "db"])
    assert r.status_code == 403
    assert r.text == ("Not authorized to register_frameworks 'db' (roles) as principal "
                      "'ops'")
    r = subscribe(("dev", "dev-pw"), ["web"])
    assert r.status_code == 403
    assert [f for f in m.api.get("/master/state").json()["frameworks"]
            if f["name"] == "fw"] == []
    r = subscribe(("ops", "ops-pw"), ["web"])
    assert r.status_code == 200
    r.close()

    quota = {"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [
        {"role": "db", "guarantees": {"cpus": {"value": 1}}}]}}
    r = requests.post(m.url + "/api/v1", json=quota, auth=("ops", "ops-pw"), timeout=10)
    assert r.status_code == 403
    assert "update_quotas 'db'" in r.text
    quota["update_quota"]["quota_configs"][0]["role"] = "web"
    r = requests.post(m.url + "/api/v1", json=quota, auth=("dev", "dev-pw"), timeout=10)
    assert r.status_code == 403
    r = requests.post(m.url + "/api/v1", json={"type": "GET_QUOTA"}, auth=("ops", "ops-pw"),
                      headers={"Accept": "application/json"}, timeout=10)
    assert r.status_code == 200
    assert "db" not in r.text and "web" not in r.text

    resv = {"type": "RESERVE_RESOURCES", "reserve_resources": {
        "agent_id": {"value": "nope"}, "resources": [{"name": "cpus", "type": "SCALAR",
        "scalar": {"value": 1}, "reservations": [{"type": "DYNAMIC", "role": "web",
                                                  "principal": "dev"}]}]}}
    r = requests.post(m.url + "/api/v1", json=resv, auth=("dev", "dev-pw"), timeout=10)
    assert r.status_code == 403
    assert "reserve_resources 'web'" in r.text
    lines = audit_lines(audit)
    assert any(l["action"] == "reserve_resources" and l["result"] == "denied" and
               l["principal"] == "dev" for l in lines)


def test_run_tasks_without_authentication(cluster):
    """ACLs apply without credentials too: the request's principal is then ANY."""
    acls = {"permissive": False,
            "register_frameworks": [{"principals": ANY, "roles": ANY}],
            "register_agents": [{"principals": ANY, "agents": ANY}],
            "run_tasks": [{"principals": ANY, "users": vals("nobody")}]}
    m, audit = start(cluster, acls, creds=False)
    a = cluster.agent()
    fw = Framework(m.url, failover_timeout=30, user="root")
    assert fw.subscribe()["type"] == "SUBSCRIBED"
    o = fw.wait_offers()[0]
    env = {helpers.TAG_VAR: helpers.current_tag()}
    t = command_task("t-root", o, "sleep 300", env=env)
    r = fw.accept([o["id"]["value"]], [t])
    assert r.status_code == 403
    assert r.text == "Not authorized to run_tasks 'root' (users) as principal ''"
    t = command_task("t-nobody", o, "sleep 300", env=env)
    t["command"]["user"] = "nobody"
    r = fw.accept([o["id"]["value"]], [t])
    assert r.status_code == 202, r.text
    fws = m.api.get("/master/state").json()["frameworks"]
    ids = [x["id"] for f in fws for x in f["tasks"]]
    assert "t-root" not in ids
    fw.disconnect()


def test_register_agents(cluster):
    """Only the principals register_agents names may act as agents: a framework's or an
    operator's credentials cannot subscribe as an agent or send status updates."""
    acls = {"register_agents": [{"principals": vals("agent"), "agents": ANY},
                                {"principals": ANY, "agents": {"type": "NONE"}}]}
    m, audit = start(cluster, acls)
    cred = cluster.workdir / "agent-cred"
    cred.write_text(json.dumps({"principal": "agent", "secret": "agent-pw"}))
    a = cluster.agent(extra=["--credential", str(cred)])
    slave_id = a.slave()["id"]
    for path in ["/api/berth/agent/subscribe", "/api/berth/agent/update",
                 "/api/berth/agent/heartbeat"]:
        r = requests.post(m.url + path, json={"agent_id": slave_id, "tasks": []},
                          auth=("ops", "ops-pw"), timeout=10)
        assert r.status_code == 403, (path, r.text)
        assert "register_agents" in r.text
    assert a.slave()["active"] is True
    lines = audit_lines(audit)
    assert any(l["action"] == "register_agents" and l["principal"] == "ops" and
               l["result"] == "denied" for l in lines)
    # The agent's own heartbeats are not audited.
    assert not any(l["principal"] == "agent" for l in lines)


def test_resize_volumes_acl(cluster):
    """resize_volumes (Mesos's ResizeVolume ACL): GROW_VOLUME / SHRINK_VOLUME by the
    volume's role, for the operator API (the scheduler's operations are checked the same
    way, by their ACCEPT)."""
    m, audit = start(cluster, {"permissive": False,
                               "resize_volumes": [{"principals": vals("ops"),
                                                   "roles": vals("db")}]})
    vol = {"name": "disk", "type": "SCALAR", "scalar": {"value": 10}, "role": "db",
           "disk": {"persistence": {"id": "v1"}, "volume": {"container_path": "data"}}}
    for kind, field, extra in (("GROW_VOLUME", "grow_volume", {"addition": dict(
            vol, disk=None)}), ("SHRINK_VOLUME", "shrink_volume", {"subtract": {"value": 1}})):
        body = {"type": kind, field: dict({"agent_id": {"value": "nope"}, "volume": vol},
                                          **extra)}
        r = requests.post(m.url + "/api/v1", json=body, auth=("dev", "dev-pw"), timeout=10)
        assert r.status_code == 403, r.text
        assert r.text == ("Not authorized to resize_volumes 'db' (roles) as principal 'dev'")
        r = requests.post(m.url + "/api/v1", json=body, auth=("ops", "ops-pw"), timeout=10)
        assert r.status_code == 400 and "No agent found" in r.text, r.text
    assert any(l["action"] == "resize_volumes" and l["result"] == "denied"
               for l in audit_lines(audit))
