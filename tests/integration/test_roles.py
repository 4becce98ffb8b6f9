"""Roles: static reservations on an agent, apps taking reserved resources by their role."""
from helpers import app_def, wait_until

RESOURCES = ("cpus(prod):1; cpus(*):0.5; mem(*):1000; mem(prod):100; disk(*):100; "
             "ports(*):[31000-31010]; ports(prod):[32000-32005]")


def test_apps_take_resources_of_their_role(cluster):
    m = cluster.master()
    cluster.agent(resources=RESOURCES)

    # An app of role prod takes the prod reservation first (then unreserved mem).
    r = m.api.post("/v2/apps", app_def("/p", "sleep 3600", cpus=0.8, mem=150, role="prod"))
    assert r.status_code == 201, r.text
    run = wait_until(lambda: m.api.running("/p"), 20, what="/p running")
    assert 32000 <= run[0]["ports"][0] <= 32005, "ports come from the prod range"

    # acceptedResourceRoles ["*"]: only unreserved resources.
    r = m.api.post("/v2/apps", app_def("/pu", "sleep 3600", cpus=0.4, mem=10, role="prod",
                                       acceptedResourceRoles=["*"]))
    assert r.status_code == 201, r.text
    run = wait_until(lambda: m.api.running("/pu"), 20, what="/pu running")
    assert 31000 <= run[0]["ports"][0] <= 31010

    # A role-* app cannot use prod's reservation: 0.1 unreserved cpus are left, so it waits.
    r = m.api.post("/v2/apps", app_def("/s", "sleep 3600", cpus=0.8, mem=10))
    assert r.status_code == 201, r.text
    wait_until(lambda: any(q["app"]["id"] == "/s" for q in m.api.queue()), 10,
               what="/s queued")
    assert not m.api.running("/s")
    used = m.api.slaves()[0]["used_resources"]
    assert abs(used["cpus"] - 1.2) < 1e-6 and abs(used["mem"] - 160) < 1e-6

    # Removing /p frees prod's cpus, but still not for a role-* app.
    assert m.api.delete("/v2/apps/p").status_code == 200
    wait_until(lambda: abs(m.api.slaves()[0]["used_resources"]["cpus"] - 0.4) < 1e-6, 20,
               what="/p's resources back")
    assert not m.api.running("/s")


def test_accepted_resource_roles_are_validated(cluster):
    m = cluster.master()
    before = m.api.get("/v2/apps").json()
    r = m.api.post("/v2/apps", app_def("/bad", "sleep 1", role="prod",
                                       acceptedResourceRoles=["dev"]))
    assert r.status_code == 422
    d = r.json()["details"]
    assert d[0]["path"] == "/acceptedResourceRoles/0"
    assert "'dev'" in d[0]["errors"][0]
    assert m.api.get("/v2/apps").json() == before
