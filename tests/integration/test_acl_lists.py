"""The view ACLs filter /v2/deployments and /v2/queue as Marathon's resources do: a
deployment is listed to a principal that may view any app it changes, a queue item to one that
may view its app (docs/security.md). No agent runs, so both apps wait in the queue with their
deployments open."""
import requests

from helpers import app_def, wait_until
from test_acl import ANY, start, vals


def test_deployments_and_queue_filtered_by_view_apps(cluster):
    acls = {"permissive": False,
            "create_apps": [{"principals": vals("ops"), "app_ids": ANY}],
            "update_apps": [{"principals": vals("ops"), "app_ids": ANY}],
            "view_apps": [{"principals": vals("dev"), "app_ids": vals("/dev")},
                          {"principals": vals("ops"), "app_ids": ANY}]}
    m, _ = start(cluster, acls)
    for app in ("/dev/web", "/prod/db"):
        r = m.api.post("/v2/apps", app_def(app, cmd="sleep 600", instances=1))
        assert r.status_code == 201, r.text
    wait_until(lambda: len(m.api.get("/v2/queue").json()["queue"]) == 2, 10, what="queued")

    dev = requests.Session()
    dev.auth = ("dev", "dev-pw")
    ops_deps = m.api.get("/v2/deployments").json()
    assert sorted(d["affectedApps"][0] for d in ops_deps) == ["/dev/web", "/prod/db"]
    dev_deps = dev.get(m.url + "/v2/deployments").json()
    assert [d["affectedApps"] for d in dev_deps] == [["/dev/web"]]
    dev_queue = dev.get(m.url + "/v2/queue").json()["queue"]
    assert [q["app"]["id"] for q in dev_queue] == ["/dev/web"]

    # A deployment of both apps at once is listed to dev too (it changes /dev/web).
    r = m.api.put("/v2/apps?force=true", [{"id": "/dev/web", "instances": 2},
                               {"id": "/prod/db", "instances": 2}])
    assert r.status_code == 200, r.text
    both = r.json()["deploymentId"]
    wait_until(lambda: any(d["id"] == both for d in dev.get(m.url + "/v2/deployments").json()),
               10, what="multi-app deployment listed")
    nobody = requests.Session()
    nobody.auth = ("agent", "agent-pw")
    assert nobody.get(m.url + "/v2/deployments").json() == []
    assert nobody.get(m.url + "/v2/queue").json() == {"queue": []}
