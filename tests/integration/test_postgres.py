"""examples/postgres.json: PostgreSQL 15 on a local persistent volume; rows written, the task
killed, the rows there after the relaunch on the same agent (issue 5)."""
import os
import subprocess

import pytest

from helpers import app_pids, kill_task_processes, load_example, wait_replaced, wait_until

PSQL = "/usr/lib/postgresql/15/bin/psql"
pytestmark = pytest.mark.skipif(
    not os.path.exists("/usr/lib/postgresql/15/bin/postgres") or not os.path.exists(PSQL),
    reason="PostgreSQL 15 not installed (Debian postgresql-15)")


def psql(port, sql):
    p = subprocess.run([PSQL, "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-At",
                        "-v", "ON_ERROR_STOP=1", "-c", sql],
                       capture_output=True, timeout=20, env=dict(os.environ, PGCONNECT_TIMEOUT="3"))
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def wait_sql(port, sql, timeout=60):
    def ok():
        rc, out, _ = psql(port, sql)
        return (out,) if rc == 0 else None
    return wait_until(ok, timeout, interval=0.3, what="postgres on %d" % port)[0]


def test_postgres_rows_survive_a_task_kill(cluster):
    cluster.master()
    cluster.agent()
    api = cluster.m.api
    r = api.post("/v2/apps", load_example("postgres.json"))
    assert r.status_code == 201, r.text
    t = api.wait_running("/postgres", 1, timeout=60)[0]
    port = t["ports"][0]
    wait_sql(port, "select 1")
    rc, out, err = psql(port, "create table kv (k int primary key, v text); "
                              "insert into kv select g, 'v' || g from generate_series(1, 500) g")
    assert rc == 0, err

    assert kill_task_processes(t["id"])
    t2 = wait_replaced(api, "/postgres", t, 60)
    assert t2["slaveId"] == t["slaveId"]
    assert t2["localVolumes"][0]["persistenceId"] == t["localVolumes"][0]["persistenceId"]
    out = wait_sql(t2["ports"][0], "select count(*), sum(k) from kv")
    assert out.strip() == "500|125250", out
    # Deleting the app stops postgres (SIGTERM: a clean shutdown) and destroys the volume.
    assert api.delete("/v2/apps/postgres").status_code == 200
    wait_until(lambda: not app_pids("/postgres"), 30, what="postgres stopped")
