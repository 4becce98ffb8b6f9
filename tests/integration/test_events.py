"""GET /v2/events: Marathon's SSE framing, filters, heartbeats, the order of a deployment's
events, and a slow subscriber that is cut off while the master's memory stays bounded."""
import socket
import time

from helpers import SseClient, app_def, vm_rss_kib, wait_until


def test_framing_headers_and_attached_first(cluster):
    m = cluster.master()
    c = SseClient(m.url)
    try:
        assert c.status == 200
        assert c.headers["content-type"].startswith("text/event-stream"), c.headers
        first = c.wait_for(lambda t, d: True, 5, what="the first event")
        t, d, _ = c.snapshot()[0]
        assert t == "event_stream_attached", t
        assert d["eventType"] == "event_stream_attached"
        assert d["remoteAddress"].startswith("127.0.0.1"), d
        assert d["timestamp"].endswith("Z") and "T" in d["timestamp"], first
        # an app creation yields more frames, all framed exactly as Marathon/Jetty does
        assert m.api.post("/v2/apps", app_def("/fr", "sleep 3600", instances=0)).status_code == 201
        c.wait_for(lambda t, d: t == "api_post_event", 5)
        raw = bytes(c.raw)
        assert raw.startswith(b"event: event_stream_attached\r\ndata: {"), raw[:80]
        for frame in raw.split(b"\r\n\r\n"):
            if not frame.strip(b"\r\n"):
                continue
            lines = frame.lstrip(b"\r\n").split(b"\r\n")
            assert len(lines) == 2, frame
            assert lines[0].startswith(b"event: ") and lines[1].startswith(b"data: "), frame
            assert b"\n" not in lines[1], "data is one line"
        assert not c.frame_errors, c.frame_errors
        post = c.of_type("api_post_event")[0]
        assert post["uri"].startswith("/v2/apps"), post
        assert post["appDefinition"]["id"] == "/fr"
        assert post["clientIp"].startswith("127.0.0.1")
    finally:
        c.close()


def test_405_without_event_stream_accept(cluster):
    m = cluster.master()
    for accept in (None, "application/json", "*/*"):
        c = SseClient(m.url, accept=accept, read=False)
        try:
            assert c.status == 405, (accept, c.status)
        finally:
            c.close()
    r = m.api.post("/v2/events", headers={"Accept": "text/event-stream"})
    assert r.status_code == 405, r.status_code


def test_event_type_filters(one):
    api = one.m.api
    only_success = SseClient(one.m.url, types=["deployment_success"])
    two = SseClient(one.m.url, types=["status_update_event", "deployment_info"])
    everything = SseClient(one.m.url)
    try:
        r = api.post("/v2/apps", app_def("/filt", "sleep 3600", instances=2))
        assert r.status_code == 201
        dep = r.headers["Marathon-Deployment-Id"]
        everything.wait_for(lambda t, d: t == "deployment_success" and d["id"] == dep, 20)
        only_success.wait_for(lambda t, d: t == "deployment_success", 5)
        two.wait_for(lambda t, d: t == "status_update_event" and d["taskStatus"] == "TASK_RUNNING",
                     5)
        time.sleep(0.3)  # anything that would wrongly pass a filter has arrived by now
        allowed = {"event_stream_attached"}  # whether a filtered stream gets it is not asserted
        got1 = {t for t, _, _ in only_success.snapshot()} - allowed
        got2 = {t for t, _, _ in two.snapshot()} - allowed
        assert got1 == {"deployment_success"}, got1
        assert got2 == {"status_update_event", "deployment_info"}, got2
        all_types = {t for t, _, _ in everything.snapshot()}
        assert {"api_post_event", "deployment_info", "status_update_event",
                "instance_changed_event", "deployment_success"} <= all_types, all_types
        n_running = len([d for d in two.of_type("status_update_event")
                         if d["taskStatus"] == "TASK_RUNNING"])
        assert n_running == 2
    finally:
        for c in (only_success, two, everything):
            c.close()


def test_heartbeat_every_10_seconds(cluster):
    m = cluster.master()
    c = SseClient(m.url, types=["deployment_success"])
    try:
        wait_until(lambda: c.heartbeats, 11.5, interval=0.1, what="a \\r\\n heartbeat")
        assert c.heartbeats[0] - c.t0 <= 11.2, c.heartbeats[0] - c.t0
        wait_until(lambda: len(c.heartbeats) >= 2, 11.5, interval=0.1, what="a second heartbeat")
        gap = c.heartbeats[1] - c.heartbeats[0]
        assert 9.0 <= gap <= 11.2, gap
        assert not c.frame_errors and not c.snapshot()
    finally:
        c.close()


def test_order_of_one_deployments_events(one):
    api = one.m.api
    c = SseClient(one.m.url)
    try:
        r = api.post("/v2/apps", app_def("/order", "sleep 3600", instances=3))
        assert r.status_code == 201
        dep = r.headers["Marathon-Deployment-Id"]
        c.wait_for(lambda t, d: t == "deployment_success" and d["id"] == dep, 20,
                   what="deployment_success")
        evs = [(t, d) for t, d, _ in c.snapshot()]
        types = [t for t, _ in evs]

        def idx(pred):
            for i, (t, d) in enumerate(evs):
                if pred(t, d):
                    return i
            raise AssertionError("not found in %s" % types)
        i_post = idx(lambda t, d: t == "api_post_event" and d["appDefinition"]["id"] == "/order")
        i_info = idx(lambda t, d: t == "deployment_info" and d["plan"]["id"] == dep)
        i_succ = idx(lambda t, d: t == "deployment_success" and d["id"] == dep)
        assert i_post < i_info < i_succ, types
        info = evs[i_info][1]
        assert info["plan"]["steps"][0]["actions"][0] == {"action": "StartApplication",
                                                          "app": "/order"}, info
        assert info["currentStep"]["actions"][0]["action"] == "StartApplication"
        # every task's RUNNING update lies between deployment_info and deployment_success
        running = [i for i, (t, d) in enumerate(evs) if t == "status_update_event"
                   and d["appId"] == "/order" and d["taskStatus"] == "TASK_RUNNING"]
        assert len(running) == 3, types
        assert all(i_info < i < i_succ for i in running), (i_info, running, i_succ)
        su = evs[running[0]][1]
        for k in ("slaveId", "taskId", "taskStatus", "appId", "host", "ports", "version",
                  "timestamp", "ipAddresses"):
            assert k in su, (k, su)
        ic = [d for t, d in evs if t == "instance_changed_event" and d["runSpecId"] == "/order"]
        assert {d["condition"] for d in ic} >= {"Running"}, ic
        step = [i for i, (t, d) in enumerate(evs)
                if t == "deployment_step_success" and d["plan"]["id"] == dep]
        assert step and all(max(running) < i <= i_succ for i in step), (step, i_succ)
    finally:
        c.close()


def subscribers(api):
    prom = api.get("/metrics/prometheus").text
    line = [ln for ln in prom.splitlines() if ln.startswith("berth_event_subscribers ")]
    assert line, "no berth_event_subscribers gauge"
    return float(line[0].split()[1])


def test_slow_subscriber_is_cut_off_and_rss_stays_bounded(one):
    api, m = one.m.api, one.m
    # Big events without tasks: api_post_event carries the app definition (~360 KB of labels).
    labels = {"big%d" % i: "x" * 60_000 for i in range(6)}
    size = 360_000
    assert api.post("/v2/apps", app_def("/big", "sleep 3600", instances=0,
                                       labels=labels)).status_code == 201
    api.wait_no_deployments()
    fast = SseClient(m.url, types=["api_post_event"])
    slow = SseClient(m.url, rcvbuf=4096, read=False)
    try:
        assert slow.status == 200
        wait_until(lambda: subscribers(api) == 2, 5, what="2 subscribers")
        rss_before = vm_rss_kib(m.p.pid)
        n = 40  # ~16 MB of events, far over the 1 MiB bound plus socket buffers
        for i in range(n):
            r = api.put("/v2/apps/big", {"instances": 0, "env": {"ROUND": str(i)}},
                        params={"force": "true"})
            assert r.status_code == 200, r.text
            # paced by a reader that keeps up (see test_reader_at_wire_speed_keeps_up_...)
            wait_until(lambda: len(fast.of_type("api_post_event")) >= i + 1 or fast.closed, 10,
                       what="event %d at the fast subscriber" % i)
            assert not fast.closed, "the fast subscriber was cut off at event %d" % i
        # the slow one has been disconnected: draining its socket reaches EOF quickly
        slow.sock.settimeout(10)
        got, t0 = 0, time.monotonic()
        while True:
            try:
                d = slow.sock.recv(1 << 20)
            except socket.timeout:
                raise AssertionError("slow subscriber not cut off (read %d bytes, no EOF)" % got)
            if not d:
                break
            got += len(d)
            assert time.monotonic() - t0 < 20
        assert got < n * size, "the slow subscriber was sent everything (%d bytes)" % got
        rss_after = vm_rss_kib(m.p.pid)
        assert rss_after - rss_before < 24 * 1024, (rss_before, rss_after)
        # the fast subscriber is unaffected and the master still serves
        assert not fast.closed
        assert api.ping()
        wait_until(lambda: subscribers(api) == 1, 5, what="the gauge back to 1 subscriber")
    finally:
        fast.close()
        slow.close()


def test_reader_at_wire_speed_keeps_up_with_a_burst(one):
    """A subscriber that reads as fast as the loopback allows is not one that "cannot keep up":
    a burst of 20 events of ~360 KB (7 MB, as fast as the API takes the PUTs) must reach it
    whole."""
    api, m = one.m.api, one.m
    labels = {"big%d" % i: "x" * 60_000 for i in range(6)}
    assert api.post("/v2/apps", app_def("/burst", "sleep 3600", instances=0,
                                       labels=labels)).status_code == 201
    api.wait_no_deployments()
    fast = SseClient(m.url, types=["api_post_event"])
    try:
        wait_until(lambda: subscribers(api) == 1, 5, what="1 subscriber")
        n = 20
        for i in range(n):
            r = api.put("/v2/apps/burst", {"env": {"ROUND": str(i)}}, params={"force": "true"})
            assert r.status_code == 200, r.text
        wait_until(lambda: len(fast.of_type("api_post_event")) >= n or fast.closed, 20,
                   what="20 events")
        assert not fast.closed, ("a reader at wire speed was cut off after %d of %d events "
                                 "(%d bytes)" % (len(fast.of_type("api_post_event")), n,
                                                 len(fast.raw)))
    finally:
        fast.close()
