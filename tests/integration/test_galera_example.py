"""examples/galera.json: a MariaDB Galera cluster run as a berth app (issue 19, "Examples that
run for real"): each instance a Galera node on its own persistent volume, forming or joining
the cluster from BERTH_PEERS, scaled 3 -> 5 -> 3 (preStop shuts a node down cleanly, so the
cluster shrinks with it) and a member killed, while a client writes rows through whichever
member answers; every row whose COMMIT succeeded is then read back from every member.

Needs Debian's mariadb-server, galera-4, rsync (the state transfer) and python3-pymysql."""
import os
import shutil
import threading
import time

import pytest

from helpers import Api, kill_task_processes, load_example, wait_indexes, wait_until

try:
    import pymysql
except ImportError:  # pragma: no cover - install-deps.sh --test installs it
    pymysql = None

pytestmark = pytest.mark.skipif(
    pymysql is None or not shutil.which("mariadbd", path=os.environ.get("PATH", "") + ":/usr/sbin")
    or not os.path.exists("/usr/lib/galera/libgalera_smm.so") or not shutil.which("rsync"),
    reason="MariaDB Galera not installed (Debian mariadb-server, galera-4, rsync, python3-pymysql)")

APP = "/galera"


def connect(port, timeout=5):
    return pymysql.connect(host="127.0.0.1", port=port, user="root", connect_timeout=timeout,
                           read_timeout=30, write_timeout=30, autocommit=True)


def status(port, name):
    with connect(port) as c, c.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS LIKE %s", (name,))
        row = cur.fetchone()
        return row[1] if row else None


def wait_cluster(api, indexes, timeout=180):
    """Waits for exactly these instances running and healthy and every one of them a synced
    member of one primary component of exactly that size."""
    tasks = wait_indexes(api, APP, indexes, timeout=timeout, healthy=True)
    api.wait_no_deployments(timeout=timeout)

    def ok():
        for t in tasks.values():
            try:
                if (status(t["ports"][0], "wsrep_cluster_size") != str(len(indexes))
                        or status(t["ports"][0], "wsrep_cluster_status") != "Primary"
                        or status(t["ports"][0], "wsrep_local_state_comment") != "Synced"):
                    return False
            except pymysql.MySQLError:
                return False
        return True
    wait_until(ok, timeout, interval=1, what="a Galera cluster of %d synced members" % len(indexes))
    return tasks


class Writer(threading.Thread):
    """Inserts rows one by one through whichever member answers (a new member after a failure,
    and every 50 rows); keeps the ids of the rows whose COMMIT succeeded."""

    def __init__(self, base):
        super().__init__(daemon=True)
        self.api = Api(base)
        self.stop = threading.Event()
        self.committed = []
        self.failures = 0
        self.error = None

    def ports(self):
        try:
            return [t["ports"][0] for t in self.api.running(APP) if t.get("ports")]
        except Exception:  # noqa: BLE001 - the master answers again later
            return []

    def run(self):
        try:
            self.loop()
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def loop(self):
        seq, turn, conn = 0, 0, None
        while not self.stop.is_set():
            if conn is None:
                ports = self.ports()
                if not ports:
                    time.sleep(0.2)
                    continue
                turn += 1
                try:
                    conn = connect(ports[turn % len(ports)], timeout=3)
                    conn.autocommit(False)
                except pymysql.MySQLError:
                    self.failures += 1
                    time.sleep(0.1)
                    continue
            seq += 1
            try:
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO berth.rows (id, v) VALUES (%s, %s)", (seq, "v%d" % seq))
                conn.commit()
            except pymysql.MySQLError:
                # not committed as far as the client knows: not recorded (it may be there)
                self.failures += 1
                try:
                    conn.close()
                except Exception:  # noqa: BLE001
                    pass
                conn = None
                time.sleep(0.1)
                continue
            self.committed.append(seq)
            if seq % 50 == 0:
                conn.close()
                conn = None
            time.sleep(0.01)
        if conn is not None:
            conn.close()

    def wait_rows(self, n, timeout=60):
        start = len(self.committed)
        wait_until(lambda: self.error or len(self.committed) >= start + n, timeout, interval=0.2,
                   what="%d more committed rows" % n)
        assert self.error is None, self.error


def check(tasks, committed):
    """Every committed row is on every member (read with wsrep_sync_wait, so after everything
    the cluster ordered before the read)."""
    want = set(committed)
    for t in tasks.values():
        with connect(t["ports"][0]) as c, c.cursor() as cur:
            cur.execute("SET SESSION wsrep_sync_wait = 1")
            cur.execute("SELECT id, v FROM berth.rows")
            rows = dict(cur.fetchall())
        lost = sorted(want - set(rows))
        assert not lost, "member %s lost %d committed rows: %r" % (t["id"], len(lost), lost[:20])
        bad = [i for i in want if rows[i] != "v%d" % i]
        assert not bad, "member %s has wrong values for %r" % (t["id"], bad[:20])


def scale(api, n):
    r = api.put("/v2/apps%s" % APP, {"instances": n})
    assert r.status_code == 200, (r.status_code, r.text)


def test_galera_cluster_scales_3_5_3_5_while_a_client_writes_without_losing_a_row(cluster):
    t0 = time.monotonic()
    m = cluster.master()
    cluster.agent(hostname="127.0.0.1")
    cluster.agent(hostname="127.0.0.1")
    api = m.api
    r = api.post("/v2/apps", load_example("galera.json"))
    assert r.status_code == 201, (r.status_code, r.text)

    tasks = wait_cluster(api, [0, 1, 2])
    with connect(tasks[0]["ports"][0]) as c, c.cursor() as cur:
        cur.execute("CREATE DATABASE berth")
        cur.execute("CREATE TABLE berth.rows (id BIGINT PRIMARY KEY, v VARCHAR(32) NOT NULL)")

    w = Writer(api.base)
    w.start()
    try:
        w.wait_rows(50)
        placed = {}
        for size in (5, 3):
            scale(api, size)
            tasks = wait_cluster(api, list(range(size)))
            placed.update((i, t["slaveId"]) for i, t in tasks.items())
            w.wait_rows(50)

        # A member's task killed: it comes back on its volume and rejoins (IST or SST).
        victim = tasks[1]
        assert kill_task_processes(victim["id"])
        wait_until(lambda: [t for t in api.running(APP)
                            if t.get("index") == 1 and t["id"] != victim["id"]], 90,
                   interval=0.5, what="instance 1 relaunched")
        tasks = wait_cluster(api, [0, 1, 2])
        assert tasks[1]["slaveId"] == victim["slaveId"]
        w.wait_rows(50)

        # Up again: the suspended instances 3 and 4 wake on their volumes (their agents) and
        # rejoin with the data they had (IST when the donors still hold the writesets).
        scale(api, 5)
        tasks = wait_cluster(api, list(range(5)))
        assert {i: t["slaveId"] for i, t in tasks.items()} == placed
        w.wait_rows(50)
    finally:
        w.stop.set()
        w.join(60)
    assert w.error is None, w.error
    check(tasks, w.committed)
    print("galera: %d rows committed, %d failed attempts, 0 lost, %.0f s"
          % (len(w.committed), w.failures, time.monotonic() - t0))
