"""One allocation order over the apps framework and the external frameworks (weighted DRF,
docs/scheduler-api.md "Allocation"): freed resources go first to the client with the
smaller share, whether that is a framework speaking the v1 API or the apps framework."""
import time

from helpers import app_def, wait_until
from mesos_client import Framework
from test_quota import agent, cpus_of, offer_after, task


def waiting(m, app_id):
    return any(x["app"]["id"] == app_id for x in m.api.queue())


def test_framework_with_smaller_share_is_offered_first(cluster):
    m, a = agent(cluster, cpus=4)
    r = m.api.post("/v2/apps", app_def("/big", "sleep 3600", cpus=1, mem=16, instances=4))
    assert r.status_code == 201, r.text
    m.api.wait_running("/big", 4)

    fw = Framework(m.url, name="drf", roles=["fw"])
    fw.subscribe()
    r = m.api.post("/v2/apps", app_def("/other", "sleep 3600", cpus=1, mem=16, instances=1))
    assert r.status_code == 201, r.text
    wait_until(lambda: waiting(m, "/other"), 10, what="/other waiting for a cpu")

    # A cpu frees up. The framework (share 0) comes before the apps framework (3/4 of the
    # cpus): it is offered the cpu, and /other waits while the offer claims it.
    n = len(fw.all_events)
    assert m.api.put("/v2/apps/big", {"instances": 3}).status_code == 200
    o = offer_after(fw, n, lambda x: cpus_of(x) > 0.99)
    assert m.api.tasks("/other") == []
    r = fw.accept([o["id"]["value"]], [task("t1", o, 1, mem=16)])
    assert r.status_code == 202, r.text
    fw.wait_update("t1", "TASK_RUNNING")
    time.sleep(2.5)  # past the claim: still nothing for /other, the cpu is in use
    assert m.api.tasks("/other") == []

    # The framework's task ends: its share is 0 again, so the cpu is offered to it again;
    # once it declines, the apps framework places /other there at once.
    n = len(fw.all_events)
    assert fw.kill("t1").status_code == 202
    fw.wait_update("t1", "TASK_KILLED")
    o = offer_after(fw, n, lambda x: cpus_of(x) > 0.99)
    assert m.api.tasks("/other") == []
    assert fw.decline([o["id"]["value"]], refuse_seconds=60).status_code == 202
    m.api.wait_running("/other", 1, timeout=10)
    fw.teardown()


def test_apps_framework_with_smaller_share_takes_first(cluster):
    m, a = agent(cluster, cpus=4)
    fw = Framework(m.url, name="drf", roles=["fw"])
    fw.subscribe()
    o = fw.wait_offers()[0]
    n = len(fw.all_events)
    r = fw.accept([o["id"]["value"]], [task("f%d" % i, o, 1) for i in range(3)])
    assert r.status_code == 202, r.text
    for i in range(3):
        fw.wait_update("f%d" % i, "TASK_RUNNING")

    # The framework holds 3/4 of the cpus and an offer of the last one. The apps framework
    # (share 0) comes first: it does not wait for that offer's claim.
    held = offer_after(fw, n, lambda x: cpus_of(x) > 0.99)
    t0 = time.monotonic()
    r = m.api.post("/v2/apps", app_def("/small", "sleep 3600", cpus=1, mem=16, instances=1))
    assert r.status_code == 201, r.text
    wait_until(lambda: m.api.tasks("/small"), 10, what="/small placed")
    assert time.monotonic() - t0 < 1.9, "the apps framework waited for the framework's claim"

    # The framework's offer was optimistic: accepting it now fails, as any conflict does.
    r = fw.accept([held["id"]["value"]], [task("late", held, 1, mem=16)])
    assert r.status_code == 202, r.text
    st = fw.wait_update("late", ["TASK_DROPPED", "TASK_LOST"])
    assert st["reason"] == "REASON_INVALID_OFFERS", st
    m.api.wait_running("/small", 1)
    fw.teardown()
