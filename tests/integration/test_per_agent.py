"""Per-agent apps (issue 19, "Per-agent apps"): BERTH_PER_AGENT=true runs one instance on every
agent the app's constraints allow, including agents that join later, and none on an agent that
leaves, drains or does not match; GET /v2/apps shows the actual count."""
from helpers import app_def, live_tasks, wait_until


def hosts_of(api, app_id):
    """{host: index} of the running tasks (asserts one per host)."""
    out = {}
    for t in api.running(app_id):
        assert t["host"] not in out, api.tasks(app_id)
        out[t["host"]] = t["index"]
    return out


def wait_hosts(api, app_id, hosts, timeout=30):
    want = sorted(hosts)

    def ok():
        ts = api.tasks(app_id)
        run = sorted(t["host"] for t in ts if t["state"] == "TASK_RUNNING")
        return run == want and len(live_tasks(ts)) == len(want) and \
            api.app(app_id)["instances"] == len(want)
    wait_until(ok, timeout, interval=0.1, what="%s on exactly %r" % (app_id, want))
    return hosts_of(api, app_id)


def test_one_instance_per_matching_agent_following_joins_and_leaves(cluster, monkeypatch):
    monkeypatch.setenv("BERTH_RENDER_VERIFY", "1")  # the changing count is never stale
    m = cluster.master()
    cluster.agent(m, hostname="log-a", attributes="kind:log")
    cluster.agent(m, hostname="log-b", attributes="kind:log")
    cluster.agent(m, hostname="db-a", attributes="kind:db")
    api = m.api
    d = app_def("/logstash", "exec sleep 1000", instances=1,
                labels={"BERTH_PER_AGENT": "true"},
                constraints=[["kind", "LIKE", "log"]])
    r = api.post("/v2/apps", d)
    assert r.status_code == 201, r.text
    first = wait_hosts(api, "/logstash", ["log-a", "log-b"])
    api.wait_no_deployments()
    app = api.app("/logstash")
    assert app["instances"] == 2 and app["tasksRunning"] == 2, app
    assert app["labels"]["BERTH_PER_AGENT"] == "true" and app["constraints"], app

    # an agent that joins later gets one; a non-matching one still none
    c = cluster.agent(m, hostname="log-c", attributes="kind:log")
    cluster.agent(m, hostname="db-b", attributes="kind:db")
    after = wait_hosts(api, "/logstash", ["log-a", "log-b", "log-c"])
    assert {h: after[h] for h in first} == first, (first, after)  # the others untouched
    rc, out, err = cluster.cli("instance", "list", "/logstash")
    assert rc == 0, err
    assert sorted(ln.split()[2] for ln in out.splitlines()[1:]) == ["log-a", "log-b",
                                                                    "log-c"], out

    # a drained agent loses its instance, which is not moved elsewhere
    rc, out, err = cluster.cli("node", "drain", "log-b", "--wait", "--timeout", "60")
    assert rc == 0, (out, err)
    wait_hosts(api, "/logstash", ["log-a", "log-c"])

    # a scale or a restart of a per-agent app keeps one per agent
    assert api.patch("/v2/apps/logstash", {"instances": 9}).status_code == 200
    api.wait_no_deployments()
    wait_hosts(api, "/logstash", ["log-a", "log-c"])
    before = {t["host"]: t["id"] for t in api.running("/logstash")}
    assert api.post("/v2/apps/logstash/restart").status_code == 200
    wait_until(lambda: not set(t["id"] for t in api.running("/logstash")) & set(
        before.values()), 30, what="every task replaced")
    wait_hosts(api, "/logstash", ["log-a", "log-c"])
    api.wait_no_deployments()

    # the count survives a master restart, and the tasks run on untouched
    ids = sorted(t["id"] for t in api.running("/logstash"))
    m.restart()
    wait_hosts(api, "/logstash", ["log-a", "log-c"], timeout=40)
    assert sorted(t["id"] for t in api.running("/logstash")) == ids

    # an agent marked gone for good loses its instance too
    rc, out, err = cluster.cli("node", "gone", "log-c")
    assert rc == 0, (out, err)
    c.expect_dead = True
    wait_hosts(api, "/logstash", ["log-a"])

    # a bad label value is refused
    bad = app_def("/bad", "sleep 1", labels={"BERTH_PER_AGENT": "yes"})
    r = api.post("/v2/apps", bad)
    assert r.status_code == 422 and "BERTH_PER_AGENT" in r.text, r.text
    r = api.post("/api/berth/apps/logstash/instances/add", {"indexes": "7"})
    assert r.status_code == 409 and "per-agent" in r.text, r.text
    log = m.stderr_path.read_text()
    assert "render cache stale" not in log, log[-2000:]
    # only the drained and the gone agent lost theirs (nothing left at the master's restart)
    after = log.split("--- start 2:")[1]
    left = [ln for ln in after.splitlines() if "leaves agent" in ln]
    assert len(left) == 1 and "/logstash" in left[0], left
