"""kill -9 a single master (SQLite store) during concurrent POST /v2/apps: every app that was
answered 201 exists after the restart. 1,000 POSTs from 100 concurrent clients, the kill
landing after 300-500 of them were answered; three times (issue 13; the ZooKeeper variant
with a failover is in test_ha.py)."""
import threading

import pytest
import requests

from helpers import app_def, wait_until


@pytest.mark.parametrize("round_", [1, 2, 3])
def test_kill9_during_concurrent_posts_sqlite(cluster, round_):
    m = cluster.master()
    created, lock = [], threading.Lock()
    n_threads, per_thread = 100, 10

    def writer(t):
        s = requests.Session()
        for i in range(per_thread):
            app_id = "/d%d/t%d-%d" % (round_, t, i)
            try:
                r = s.post(m.url + "/v2/apps", json=app_def(app_id, "sleep 1", instances=0),
                           timeout=5)
            except requests.RequestException:
                return  # the master is gone
            if r.status_code == 201:
                with lock:
                    created.append(app_id)
    threads = [threading.Thread(target=writer, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    wait_until(lambda: len(created) >= 200 + 100 * round_, 30, what="some writes answered")
    m.kill9()
    for th in threads:
        th.join(30)
    assert len(created) < n_threads * per_thread, "the kill landed after every write"
    m.start()
    m.ready()
    ids = {a["id"] for a in m.api.get("/v2/apps").json()["apps"]}
    lost = sorted(set(created) - ids)
    assert not lost, "answered 201 but gone after kill -9: %r" % lost
    print("round %d: %d of %d POSTs answered 201, all there after the restart"
          % (round_, len(created), n_threads * per_thread))
