"""A small Mesos v1 scheduler API client, written as a framework author would write one:
SUBSCRIBE with requests (stream=True), a RecordIO reader over the chunked body on a thread,
calls with the Mesos-Stream-Id header.
"""
import json
import queue
import threading
import time

import requests

JSON = {"Content-Type": "application/json", "Accept": "application/json"}


def read_records(raw):
    """Yields the RecordIO records (bytes) of a file-like raw stream: "<len>\\n<bytes>"."""
    while True:
        n = b""
        while True:
            c = raw.read(1)
            if not c:
                return
            if c == b"\n":
                break
            if not c.isdigit() or len(n) > 20:
                raise ValueError("bad RecordIO length prefix %r" % (n + c))
            n += c
        size = int(n)
        data = b""
        while len(data) < size:
            chunk = raw.read(size - len(data))
            if not chunk:
                raise ValueError("stream ended inside a record")
            data += chunk
        yield data


class Framework:
    def __init__(self, master_url, name="itest-fw", roles=None, failover_timeout=None,
                 framework_id=None, capabilities=(), user="root"):
        self.url = master_url.rstrip("/") + "/api/v1/scheduler"
        self.info = {"user": user, "name": name}
        if roles is not None:
            self.info["roles"] = roles
            self.info["capabilities"] = [{"type": "MULTI_ROLE"}]
        for c in capabilities:
            self.info.setdefault("capabilities", []).append({"type": c})
        if failover_timeout is not None:
            self.info["failover_timeout"] = failover_timeout
        self.id = framework_id
        self.stream_id = None
        self.events = queue.Queue()
        self.all_events = []
        self.resp = None
        self.thread = None
        self.closed = threading.Event()

    # ---- subscription ----

    def subscribe(self, timeout=10, call_extra=None, subscribe_extra=None):
        """SUBSCRIBEs; call_extra and subscribe_extra are merged into the call and into its
        "subscribe" object (as a client that sends every unset field as null would)."""
        info = dict(self.info)
        body = {"type": "SUBSCRIBE", "subscribe": {"framework_info": info}}
        if self.id:
            info["id"] = {"value": self.id}
            body["framework_id"] = {"value": self.id}
        body.update(call_extra or {})
        body["subscribe"].update(subscribe_extra or {})
        self.closed.clear()
        self.resp = requests.post(self.url, data=json.dumps(body), headers=JSON, stream=True,
                                  timeout=(timeout, 60))  # heartbeats come every 15 s
        if self.resp.status_code != 200:
            raise AssertionError("SUBSCRIBE: %d %s" % (self.resp.status_code, self.resp.text))
        self.stream_id = self.resp.headers.get("Mesos-Stream-Id")
        self.thread = threading.Thread(target=self._reader, args=(self.resp,), daemon=True)
        self.thread.start()
        ev = self.next_event(timeout=timeout)
        if ev["type"] == "SUBSCRIBED":
            self.id = ev["subscribed"]["framework_id"]["value"]
        return ev

    def _reader(self, resp):
        try:
            for rec in read_records(resp.raw):
                ev = json.loads(rec)
                self.all_events.append(ev)
                self.events.put(ev)
        except Exception as e:  # the connection was closed under us
            self.events.put({"type": "_CLOSED", "error": repr(e)})
        else:
            self.events.put({"type": "_CLOSED"})
        self.closed.set()

    def disconnect(self):
        """Closes the subscription stream (as a crashing scheduler would)."""
        if self.resp is not None:
            try:
                self.resp.raw._fp.fp.raw._sock.shutdown(2)
            except Exception:
                pass
            self.resp.close()
        self.closed.wait(5)

    # ---- events ----

    def next_event(self, timeout=10):
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no event within %.1fs" % timeout)

    def wait_event(self, pred, timeout=15, what="event"):
        """Returns the first event satisfying pred, dropping the others (HEARTBEATs, …)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %s; seen: %s"
                                     % (what, [e.get("type") for e in self.all_events][-20:]))
            try:
                ev = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if pred(ev):
                return ev

    def wait_offers(self, timeout=15):
        return self.wait_event(lambda e: e["type"] == "OFFERS", timeout, "OFFERS")["offers"]["offers"]

    def wait_update(self, task_id, states, timeout=20, ack=True):
        if isinstance(states, str):
            states = [states]

        def ok(e):
            if e["type"] != "UPDATE" or e["update"]["status"]["task_id"]["value"] != task_id:
                return False
            st = e["update"]["status"]
            if ack and "uuid" in st:
                self.acknowledge(st)
            return st["state"] in states

        return self.wait_event(ok, timeout, "%s of %s" % (states, task_id))["update"]["status"]

    # ---- calls ----

    def call(self, body, stream_id="default", headers=None):
        h = dict(JSON)
        if stream_id == "default":
            stream_id = self.stream_id
        if stream_id is not None:
            h["Mesos-Stream-Id"] = stream_id
        if headers:
            h.update(headers)
        if "framework_id" not in body and self.id:
            body = dict(body, framework_id={"value": self.id})
        return requests.post(self.url, data=json.dumps(body), headers=h, timeout=10)

    def accept(self, offer_ids, task_infos, refuse_seconds=0):
        return self.call({"type": "ACCEPT", "accept": {
            "offer_ids": [{"value": o} for o in offer_ids],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": task_infos}}],
            "filters": {"refuse_seconds": refuse_seconds}}})

    def decline(self, offer_ids, refuse_seconds=None):
        d = {"offer_ids": [{"value": o} for o in offer_ids]}
        if refuse_seconds is not None:
            d["filters"] = {"refuse_seconds": refuse_seconds}
        return self.call({"type": "DECLINE", "decline": d})

    def acknowledge(self, status):
        r = self.call({"type": "ACKNOWLEDGE", "acknowledge": {
            "agent_id": status["agent_id"], "task_id": status["task_id"],
            "uuid": status["uuid"]}})
        assert r.status_code == 202, (r.status_code, r.text)
        return r

    def kill(self, task_id, agent_id=None):
        k = {"task_id": {"value": task_id}}
        if agent_id:
            k["agent_id"] = {"value": agent_id}
        return self.call({"type": "KILL", "kill": k})

    def reconcile(self, tasks=()):
        return self.call({"type": "RECONCILE", "reconcile": {"tasks": [
            {"task_id": {"value": t}} for t in tasks]}})

    def teardown(self):
        return self.call({"type": "TEARDOWN"})


def command_task(task_id, offer, cmd, cpus=0.1, mem=32, ports=None, env=None, shell=True):
    res = [{"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
           {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}}]
    if ports:
        res.append({"name": "ports", "type": "RANGES",
                    "ranges": {"range": [{"begin": p, "end": p} for p in ports]}})
    command = {"shell": shell, "value": cmd}
    if env:
        command["environment"] = {"variables": [{"name": k, "value": v}
                                                for k, v in env.items()]}
    return {"name": task_id, "task_id": {"value": task_id}, "agent_id": offer["agent_id"],
            "resources": res, "command": command,
            "kill_policy": {"grace_period": {"nanoseconds": 1000000000}}}


def scalar(offer, name):
    return sum(r["scalar"]["value"] for r in offer["resources"] if r["name"] == name)
