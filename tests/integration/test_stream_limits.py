"""Per-principal limits on event streams (docs/security.md, "Hostile input"): with
--max-streams-per-principal N, an authenticated principal holds at most N /v2/events streams
and N operator SUBSCRIBE streams; the next gets 429 while other principals are served, and
a closed stream frees its slot."""
import json

import requests

from helpers import wait_until
from test_auth import CREDS, MSECRET, SECRET, write_creds


def start(cluster):
    creds = write_creds(cluster, CREDS)
    m = cluster.master(extra=["--credentials", str(creds), "--max-streams-per-principal", "2"])
    m.api.s.auth = ("ops", SECRET)
    return m


def sse(m, auth):
    return requests.get(m.url + "/v2/events", headers={"Accept": "text/event-stream"},
                        auth=auth, stream=True, timeout=10)


def sub(m, auth):
    return requests.post(m.url + "/api/v1", json={"type": "SUBSCRIBE"}, auth=auth,
                         headers={"Content-Type": "application/json",
                                  "Accept": "application/json"}, stream=True, timeout=10)


def test_streams_per_principal(cluster):
    m = start(cluster)
    ops, fw = ("ops", SECRET), ("marathon", MSECRET)
    for open_one, what in ((sse, "event streams"), (sub, "operator API subscribers")):
        held = [open_one(m, ops) for _ in range(2)]
        assert [r.status_code for r in held] == [200, 200]
        r = open_one(m, ops)
        assert r.status_code == 429, r.text
        assert ("Too many %s for principal 'ops' (at most 2)" % what) in r.text
        other = open_one(m, fw)
        assert other.status_code == 200  # another principal is served
        other.close()
        held.pop().close()

        def slot():
            r = open_one(m, ops)
            ok = r.status_code == 200
            r.close()
            return ok
        wait_until(slot, timeout=10, what="a freed slot")
        for r in held:
            r.close()
    assert m.api.get("/v2/info").status_code == 200
