"""Helpers shared by the integration tests: processes, ports, polling, the API, /proc scans.

Nothing here sleeps for a fixed time to wait for readiness: everything polls a condition
with a deadline (wait_until).
"""
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid

import requests

HTTP_TIMEOUT = 10
# Every task process started by a test carries ITEST_TAG=<tag> in its environment (added by
# app_def), and every daemon too, so teardown can find and kill whatever is left behind.
TAG_VAR = "ITEST_TAG"
_current_tag = {"tag": "none"}


def set_current_tag(tag):
    _current_tag["tag"] = tag


def current_tag():
    return _current_tag["tag"]


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now (bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_port_block = {"next": 21000}


def port_range(size=100):
    """A block of ports for an agent's ports(*) resource, distinct from other agents' blocks in
    this session, below the kernel's ephemeral range (32768+). Returns (lo, hi)."""
    while True:
        lo = _port_block["next"]
        _port_block["next"] += size
        if _port_block["next"] > 32000:
            _port_block["next"] = 21000
        hi = lo + size - 1
        if _range_free(lo, min(hi, lo + 4)):
            return lo, hi


def _range_free(lo, hi):
    for p in range(lo, hi + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


def wait_until(fn, timeout=15.0, interval=0.05, what=None):
    """Calls fn until it returns something truthy; returns that value. Raises AssertionError
    naming `what` (or fn) with the last value/exception seen when the deadline passes."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = fn()
            if v:
                return v
            last = v
        except (requests.RequestException, OSError, ValueError, KeyError) as e:
            last = e
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last: %r)"
                                 % (timeout, what or getattr(fn, "__name__", fn), last))
        time.sleep(interval)


class Api:
    """A thin client for one HTTP server (master, agent or dev)."""

    def __init__(self, base):
        self.base = base.rstrip("/")
        self.s = requests.Session()

    def url(self, path):
        return self.base + path

    def req(self, method, path, body=None, data=None, headers=None, **kw):
        if body is not None:
            data = json.dumps(body)
            headers = dict(headers or {})
            headers.setdefault("Content-Type", "application/json")
        return self.s.request(method, self.url(path), data=data, headers=headers,
                              timeout=HTTP_TIMEOUT, **kw)

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.req("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.req("PUT", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.req("PATCH", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.req("DELETE", path, **kw)

    def ping(self):
        try:
            r = self.get("/ping")
            return r.status_code == 200 and r.text.strip().strip('"') == "pong"
        except requests.RequestException:
            return False

    # --- Marathon helpers ---
    def tasks(self, app_id):
        r = self.get("/v2/apps%s/tasks" % app_id)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()["tasks"]

    def running(self, app_id):
        return [t for t in self.tasks(app_id) if t.get("state") == "TASK_RUNNING"]

    def app(self, app_id):
        r = self.get("/v2/apps%s" % app_id)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()["app"]

    def wait_running(self, app_id, n, timeout=20.0, exact=True):
        """Waits until exactly n tasks of app_id are TASK_RUNNING (and, with exact, no other
        non-terminal tasks are listed); returns them."""
        def ok():
            ts = self.tasks(app_id)
            run = [t for t in ts if t.get("state") == "TASK_RUNNING"]
            if len(run) != n:
                return None
            if exact and len(ts) != n:
                return None
            return (run,)
        return wait_until(ok, timeout, what="%d running tasks of %s" % (n, app_id))[0]

    def slaves(self):
        r = self.get("/master/slaves")
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()["slaves"]

    def queue(self):
        r = self.get("/v2/queue")
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()["queue"]

    def deployments(self):
        r = self.get("/v2/deployments")
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def wait_no_deployments(self, timeout=20.0):
        return wait_until(lambda: self.deployments() == [], timeout, what="no deployments")


def app_def(app_id, cmd=None, **kw):
    """A small app (cpus 0.01, mem 16) whose tasks carry the test's tag in their env."""
    d = {"id": app_id, "cpus": 0.01, "mem": 16, "instances": 1}
    if cmd is not None:
        d["cmd"] = cmd
    d.update(kw)
    env = dict(d.get("env") or {})
    env[TAG_VAR] = current_tag()
    d["env"] = env
    return d


# --- /proc scans ---

def _proc_environ(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    out = {}
    for item in raw.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            out[k.decode(errors="replace")] = v.decode(errors="replace")
    return out


def _proc_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        return s[s.rindex(")") + 2]
    except (OSError, ValueError):
        return None


def all_pids():
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            out.append(int(name))
    return out


def pids_with_env(match):
    """Live (not zombie) pids whose initial environment contains every KEY=VALUE of match."""
    me = os.getpid()
    out = []
    for pid in all_pids():
        if pid == me:
            continue
        env = _proc_environ(pid)
        if not env:
            continue
        if all(env.get(k) == v for k, v in match.items()):
            if _proc_state(pid) not in (None, "Z", "X"):
                out.append(pid)
    return out


def task_pids(task_id):
    return pids_with_env({"MESOS_TASK_ID": task_id})


def app_pids(app_id):
    return pids_with_env({"MARATHON_APP_ID": app_id, TAG_VAR: current_tag()})


def pid_alive(pid):
    return _proc_state(pid) not in (None, "Z", "X")


def _belongs(pid, tag, workdir):
    env = _proc_environ(pid)
    if env and env.get(TAG_VAR) == tag:
        return True
    try:
        if os.readlink("/proc/%d/cwd" % pid).startswith(workdir):
            return True
    except OSError:
        pass
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            if workdir.encode() in f.read():
                return True
    except OSError:
        pass
    return False


def leftover_pids(tag, workdir):
    """Live processes that belong to a test: ITEST_TAG=tag in their environment, or their cwd
    or command line inside the test's work dir (executors, task processes, daemons)."""
    me = os.getpid()
    workdir = str(workdir)
    return [p for p in all_pids()
            if p != me and _proc_state(p) not in (None, "Z", "X") and _belongs(p, tag, workdir)]


def kill_tagged(tag, workdir, exclude=()):
    """SIGKILLs every process of leftover_pids (and its process group) until none is left.
    Returns the pids it killed."""
    killed = []
    for _ in range(50):
        pids = [p for p in leftover_pids(tag, workdir) if p not in exclude]
        if not pids:
            break
        for p in pids:
            try:
                pg = os.getpgid(p)
                if pg != os.getpgrp() and pg > 1:
                    os.killpg(pg, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.kill(p, signal.SIGKILL)
                killed.append(p)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    return sorted(set(killed))


class LineReader:
    """Collects the lines of a pipe in a thread, so tests can wait for output."""

    def __init__(self, pipe):
        self.lines = []
        self._lock = threading.Lock()
        self._t = threading.Thread(target=self._run, args=(pipe,), daemon=True)
        self._t.start()

    def _run(self, pipe):
        for raw in iter(pipe.readline, b""):
            with self._lock:
                self.lines.append(raw.decode(errors="replace"))

    def text(self):
        with self._lock:
            return "".join(self.lines)


def new_uuid():
    return str(uuid.uuid4())


UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def task_id_re(app_id):
    safe = app_id.lstrip("/").replace("/", "_")
    return re.compile(r"^%s\.instance-[0-9a-f-]{36}\._app\.\d+$" % re.escape(safe))


def parse_env_file(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if "=" in line:
                k, v = line.split("=", 1)
                if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k):
                    env[k] = v
    return env


def run(args, env=None, stdin=None, timeout=60):
    p = subprocess.run(args, env=env, input=stdin, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
