"""Service ports (portDefinitions with port 0) are assigned from Marathon's 10000-20000, the
lowest free one, never one another app holds; an update keeps the app's own; a port freed by
a deletion is handed out again; an app naming ports of its own is left alone. (The
assignment reads every app's ports once per call: bench/load found a POST among 1,000 apps
scanning them once per candidate port.)"""
from helpers import app_def


def port_of(api, app_id, i=0):
    return api.app(app_id)["portDefinitions"][i]["port"]


def test_service_ports_lowest_free_and_kept(cluster):
    m = cluster.master()
    api = m.api
    for n in ("a", "b", "c"):
        r = api.post("/v2/apps", app_def("/sp/" + n, "sleep 1", instances=0,
                                         portDefinitions=[{"port": 0}]))
        assert r.status_code == 201, r.text
    got = [port_of(api, "/sp/" + n) for n in ("a", "b", "c")]
    assert got == [10000, 10001, 10002], got
    # two ports of one app differ, and skip the ones taken
    r = api.post("/v2/apps", app_def("/sp/two", "sleep 1", instances=0,
                                     portDefinitions=[{"port": 0}, {"port": 0}]))
    assert r.status_code == 201, r.text
    assert [port_of(api, "/sp/two", i) for i in (0, 1)] == [10003, 10004]
    # an app holding 10006 itself: the next assignment skips it
    r = api.post("/v2/apps", app_def("/sp/fixed", "sleep 1", instances=0,
                                     portDefinitions=[{"port": 10006}]))
    assert r.status_code == 201, r.text
    assert port_of(api, "/sp/fixed") == 10006
    # an update keeps the app's port
    r = api.put("/v2/apps/sp/b?force=true", {"instances": 0, "cmd": "sleep 2",
                                              "portDefinitions": [{"port": 0}]})
    assert r.status_code == 200, r.text
    assert port_of(api, "/sp/b") == 10001
    # a deletion frees its port for the next app
    assert api.delete("/v2/apps/sp/a?force=true").status_code == 200
    for n, want in (("d", 10000), ("e", 10005), ("f", 10007)):
        r = api.post("/v2/apps", app_def("/sp/" + n, "sleep 1", instances=0,
                                         portDefinitions=[{"port": 0}]))
        assert r.status_code == 201, r.text
        assert port_of(api, "/sp/" + n) == want, n
