"""POST /api/v1/executor on a real agent: the endpoint checks each Call as Mesos does and
answers a well-formed one from an executor it does not run as for an unknown framework;
nothing it gets changes the agent (docs/internals/executor-api.md). Executors it runs:
test_custom_executor.py."""
import http.client
import json
import urllib.request

import pytest

IDS = {"executor_id": {"value": "e1"}, "framework_id": {"value": "f1"}}


def post(agent, body, ctype="application/json", method="POST", path="/api/v1/executor"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    host, port = agent.addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        # http.client adds no Content-Type of its own (urllib would).
        conn.request(method, path, body=data, headers={"Content-Type": ctype} if ctype else {})
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


@pytest.fixture
def agent(cluster):
    m = cluster.master()
    return cluster.agent(m)


def test_refusals_name_what_is_wrong(agent):
    assert post(agent, {"type": "SUBSCRIBE", **IDS}, method="PUT")[0] == 405
    code, text = post(agent, {"type": "SUBSCRIBE", **IDS}, ctype=None)
    assert (code, text) == (400, "Expecting 'Content-Type' to be present")
    assert post(agent, {"type": "SUBSCRIBE", **IDS}, ctype="application/x-protobuf")[0] == 415
    code, text = post(agent, b"{not json")
    assert code == 400 and text.startswith("Failed to parse body into JSON")
    code, text = post(agent, {"type": "SUBSCRIBE", "framework_id": {"value": "f1"}})
    assert code == 400 and "executor_id" in text
    code, text = post(agent, {"type": "UPDATE", **IDS, "update": {"status": {
        "task_id": {"value": "t1"}, "state": "TASK_RUNNING"}}})
    assert code == 400 and "update.status.uuid" in text
    code, text = post(agent, {"type": "MESSAGE", **IDS, "message": {"data": "not base64!"}})
    assert code == 400 and "message.data" in text
    code, text = post(agent, {"type": "LAUNCH", **IDS})
    assert code == 400 and "Unknown call type" in text


def test_well_formed_calls_from_unknown_framework(agent):
    for call in ({"type": "SUBSCRIBE", **IDS},
                 {"type": "UPDATE", **IDS, "update": {"status": {
                     "task_id": {"value": "t1"}, "state": "TASK_RUNNING", "uuid": "AAECAw=="}}},
                 {"type": "MESSAGE", **IDS, "message": {"data": "aGk="}}):
        assert post(agent, call) == (400, "Framework cannot be found"), call["type"]
        assert post(agent, call, path="/slave(1)/api/v1/executor")[0] == 400
    # The agent is unchanged and still serves.
    with urllib.request.urlopen(agent.url + "/state", timeout=10) as r:
        assert r.status == 200
