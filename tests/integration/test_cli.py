"""The CLI: every command, tables, --json, --wait, exit codes 0/1/2, BERTH_MASTER."""
import json
import re

from helpers import app_def, free_port, wait_until


def items(obj):
    """The list of objects in a --json answer: the answer itself if it is a list, else the
    first list value of the object (e.g. {"apps": [...]})."""
    if isinstance(obj, list):
        return obj
    for v in obj.values():
        if isinstance(v, list):
            return v
    raise AssertionError("no list in %r" % (obj,))


def table_rows(out):
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert lines, "empty table"
    return lines[0], lines[1:]


def test_usage_errors_exit_2(cluster):
    cluster.master()
    for args in ([], ["bogus"], ["app"], ["app", "bogus"], ["app", "scale", "/x"],
                 ["app", "scale", "/x", "many"], ["app", "show"], ["task", "kill"],
                 ["logs"], ["app", "list", "--no-such-flag"]):
        rc, out, err = cluster.cli(*args)
        assert rc == 2, (args, rc, out, err)
        assert err.strip(), (args, "usage errors explain themselves on stderr")


def test_unreachable_master_exits_1_with_a_clear_message(cluster):
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    for args in (["app", "list"], ["node", "list"], ["task", "list"]):
        rc, out, err = cluster.cli(*args, master=url)
        assert rc == 1, (args, rc, out, err)
        assert "127.0.0.1:%d" % port in err, err
        assert out.strip() == ""


def test_master_flag_overrides_env(cluster):
    m = cluster.master()
    bogus = "http://127.0.0.1:%d" % free_port()
    rc, out, err = cluster.cli("--master", m.url, "app", "list", master=bogus)
    assert rc == 0, err
    rc, out, err = cluster.cli("app", "list", master=bogus)
    assert rc == 1


def test_app_commands(one):
    api = one.m.api
    f = one.workdir / "web.json"
    f.write_text(json.dumps(app_def("/cli/web", "sleep 3600")))
    rc, out, err = one.cli("app", "add", str(f))
    assert rc == 0, err
    assert "/cli/web" in out
    assert api.get("/v2/apps/cli/web").status_code == 200

    rc, out, err = one.cli("app", "add", "-", stdin=json.dumps(app_def("/cli/db", "sleep 3600",
                                                                         instances=0)))
    assert rc == 0, err
    assert api.get("/v2/apps/cli/db").status_code == 200

    rc, out, err = one.cli("app", "add", str(f))
    assert rc == 1
    assert "already exists" in err

    rc, out, err = one.cli("app", "add", "-", stdin='{"id": "/bad", "cpus": -1}')
    assert rc == 1
    assert "cpus" in err
    assert api.get("/v2/apps/bad").status_code == 404

    rc, out, err = one.cli("app", "add", str(one.workdir / "missing.json"))
    assert rc in (1, 2)
    assert "missing.json" in err

    api.wait_running("/cli/web", 1)
    rc, out, err = one.cli("app", "list")
    assert rc == 0, err
    head, rows = table_rows(out)
    assert "ID" in head.upper()
    assert any(r.split()[0] == "/cli/web" for r in rows), out
    assert any(r.split()[0] == "/cli/db" for r in rows), out

    rc, out, err = one.cli("app", "list", "--json")
    assert rc == 0, err
    assert sorted(a["id"] for a in items(json.loads(out))) == ["/cli/db", "/cli/web"]

    rc, out, err = one.cli("app", "show", "/cli/web")
    assert rc == 0, err
    assert "/cli/web" in out and "sleep 3600" in out
    rc, out, err = one.cli("app", "show", "/cli/web", "--json")
    assert rc == 0, err
    shown = json.loads(out)
    shown = shown.get("app", shown)
    assert shown["id"] == "/cli/web" and shown["cmd"] == "sleep 3600"

    rc, out, err = one.cli("app", "show", "/nope")
    assert rc == 1
    assert "App '/nope' does not exist" in err

    rc, out, err = one.cli("app", "scale", "/cli/web", "3", "--wait")
    assert rc == 0, err
    assert re.search(r"\b3\s*/\s*3\b", out + err), out + err
    assert len(api.running("/cli/web")) == 3, "--wait returned before 3 were running"

    before = {t["id"] for t in api.running("/cli/web")}
    rc, out, err = one.cli("app", "restart", "/cli/web", "--wait")
    assert rc == 0, err
    after = {t["id"] for t in api.running("/cli/web")}
    assert len(after) == 3 and not (after & before), "--wait returned before the restart ended"

    rc, out, err = one.cli("app", "scale", "/cli/web", "1")
    assert rc == 0, err
    api.wait_running("/cli/web", 1)

    rc, out, err = one.cli("app", "scale", "/nope", "1")
    assert rc == 1 and "does not exist" in err

    rc, out, err = one.cli("app", "remove", "/cli/web")
    assert rc == 0, err
    assert api.get("/v2/apps/cli/web").status_code == 404
    rc, out, err = one.cli("app", "remove", "/cli/web")
    assert rc == 1
    assert "App '/cli/web' does not exist" in err


def test_task_and_node_commands(one):
    api = one.m.api
    assert api.post("/v2/apps", app_def("/t/a", "sleep 3600", instances=2)).status_code == 201
    assert api.post("/v2/apps", app_def("/t/b", "sleep 3600")).status_code == 201
    ta = sorted(t["id"] for t in api.wait_running("/t/a", 2))
    tb = [t["id"] for t in api.wait_running("/t/b", 1)]

    rc, out, err = one.cli("task", "list")
    assert rc == 0, err
    head, rows = table_rows(out)
    assert "ID" in head.upper()
    for tid in ta + tb:
        assert tid in out
    assert "TASK_RUNNING" in out or "RUNNING" in out.upper()

    rc, out, err = one.cli("task", "list", "--app", "/t/a")
    assert rc == 0, err
    assert all(tid in out for tid in ta) and tb[0] not in out

    rc, out, err = one.cli("task", "list", "--json")
    assert rc == 0, err
    assert sorted(t["id"] for t in items(json.loads(out))) == sorted(ta + tb)

    rc, out, err = one.cli("task", "kill", ta[0])
    assert rc == 0, err
    wait_until(lambda: (lambda ids: len(ids) == 2 and ta[0] not in ids)(
        {t["id"] for t in api.running("/t/a")}), 20, what="killed task replaced")

    rc, out, err = one.cli("task", "kill", tb[0], "--scale")
    assert rc == 0, err
    assert api.app("/t/b")["instances"] == 0
    api.wait_running("/t/b", 0)

    rc, out, err = one.cli("task", "kill", "t_a.instance-00000000-0000-0000-0000-000000000000._app.1")
    assert rc == 1
    assert "does not exist" in err

    rc, out, err = one.cli("node", "list")
    assert rc == 0, err
    s = one.a.slave()
    head, rows = table_rows(out)
    assert len(rows) == 1
    assert s["hostname"] in out or s["id"] in out
    rc, out, err = one.cli("node", "list", "--json")
    assert rc == 0, err
    nodes = items(json.loads(out))
    assert len(nodes) == 1 and nodes[0]["id"] == s["id"]


def test_wait_gives_up_after_timeout_with_exit_1(one):
    api = one.m.api
    assert api.post("/v2/apps", app_def("/w", "sleep 3600")).status_code == 201
    api.wait_running("/w", 1)
    # 1,000 x 0.01 cpus cannot fit on the agent's 4 cpus: the deployment never finishes
    rc, out, err = one.cli("app", "scale", "/w", "1000", "--wait", "--timeout", "2", timeout=30)
    assert rc == 1, (rc, out, err)
    assert "/1000" in out + err
    assert err.strip()
    rc, out, err = one.cli("app", "list", "--timeout", "2")
    assert rc == 2, "--timeout without --wait is a usage error"
