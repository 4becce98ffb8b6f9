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
from pathlib import Path

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


def _port_slice():
    """This pytest process's share of 21000-32000: all of it, or under pytest-xdist one slice
    per worker (PYTEST_XDIST_WORKER=gwN of PYTEST_XDIST_WORKER_COUNT), so that agents of tests
    running side by side never offer the same ports."""
    lo, hi = 21000, 32000
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if worker.startswith("gw") and worker[2:].isdigit() and count > 1:
        width = (hi - lo) // count
        lo += int(worker[2:]) % count * width
        hi = lo + width
    return lo, hi


_port_block = {"next": None}


def port_range(size=100):
    """A block of ports for an agent's ports(*) resource, distinct from other agents' blocks in
    this session, below the kernel's ephemeral range (32768+). Returns (lo, hi)."""
    first, last = _port_slice()
    while True:
        if _port_block["next"] is None:
            _port_block["next"] = first
        lo = _port_block["next"]
        _port_block["next"] += size
        if _port_block["next"] > last:
            _port_block["next"] = first
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
        # embed=berth: berth's extras (each task's "index"), which these tests read.
        r = self.get("/v2/apps%s/tasks?embed=berth" % app_id)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()["tasks"]

    def running(self, app_id):
        return [t for t in self.tasks(app_id) if t.get("state") == "TASK_RUNNING"]

    def app(self, app_id):
        r = self.get("/v2/apps%s?embed=berth" % app_id)
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


def remove_task_cgroups(agent_args, work_dir):
    """Removes the cgroups of the agent's tasks (agents isolate by default): the teardown
    SIGKILLs the shims, which would have removed them, and no agent runs again to do it.
    Only empty cgroups go (rmdir), so nothing still running is touched."""
    def flag(name, default):
        return agent_args[agent_args.index(name) + 1] if name in agent_args else default
    root = Path(flag("--cgroups-root", "/sys/fs/cgroup"))
    parent = flag("--cgroups-parent", "berth")
    ids = set()
    for sub in ("meta", "sandboxes"):
        try:
            ids.update(os.listdir(Path(work_dir) / sub))
        except OSError:
            pass
    if not ids:
        return
    bases = [root / parent] if (root / "cgroup.controllers").exists() else \
        [root / c / parent for c in ("memory", "cpu", "cpuacct", "pids", "blkio")]
    for base in bases:
        for i in ids:
            d = base / i
            for _ in range(10):  # a killed task leaves its cgroup once it is reaped
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


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


# --- Server-Sent Events (GET /v2/events) ---

TERMINAL_STATES = frozenset(("TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST",
                             "TASK_ERROR", "TASK_DROPPED", "TASK_GONE",
                             "TASK_GONE_BY_OPERATOR"))


class SseClient:
    """A raw-socket client of GET /v2/events (no library between the test and the bytes).

    It sends the request, reads the status line and headers, then (in a thread, unless
    read=False) reads the body, undoing chunked transfer coding when the server uses it, and
    splits the stream into frames. `raw` holds the de-chunked body bytes as received;
    `events` a list of (type, data dict, monotonic receive time); `heartbeats` the monotonic
    times of bare "\\r\\n" keep-alives. With read=False the socket is never read after the
    headers (a slow subscriber)."""

    def __init__(self, base_url, types=(), accept="text/event-stream", rcvbuf=None,
                 read=True, timeout=10.0, method="GET", query=""):
        host, port = base_url.replace("http://", "").rstrip("/").split(":")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, int(port)))
        self.t0 = time.monotonic()
        q = "&".join(["event_type=%s" % t for t in types] + ([query] if query else []))
        path = "/v2/events" + ("?" + q if q else "")
        hdrs = "Host: %s:%s\r\n" % (host, port)
        if accept is not None:
            hdrs += "Accept: %s\r\n" % accept
        self.sock.sendall(("%s %s HTTP/1.1\r\n%s\r\n" % (method, path, hdrs)).encode())
        self._buf = b""
        head = self._read_head()
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for ln in lines[1:]:
            if ":" in ln:
                k, v = ln.split(":", 1)
                self.headers[k.strip().lower()] = v.strip()
        self.chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        self.raw = bytearray()
        self.events = []
        self.heartbeats = []
        self.frame_errors = []
        self.closed = False
        self.eof_at = None
        self._lock = threading.Lock()
        self._pending = b""
        self._t = None
        if read and self.status == 200:
            self._t = threading.Thread(target=self._run, daemon=True)
            self._t.start()

    def _read_head(self):
        while b"\r\n\r\n" not in self._buf:
            d = self.sock.recv(65536)
            if not d:
                raise AssertionError("connection closed before the response headers: %r"
                                     % self._buf)
            self._buf += d
        head, self._buf = self._buf.split(b"\r\n\r\n", 1)
        return head

    def body_text(self, limit=65536):
        """For a non-200 answer: the (small) body."""
        self.sock.settimeout(5)
        data = self._buf
        try:
            while len(data) < limit:
                d = self.sock.recv(65536)
                if not d:
                    break
                data += d
                n = int(self.headers.get("content-length", "-1"))
                if n >= 0 and len(data) >= n:
                    break
        except OSError:
            pass
        return data.decode(errors="replace")

    def _run(self):
        self.sock.settimeout(None)
        dechunk = b""
        data = self._buf
        self._buf = b""
        while True:
            if data:
                if self.chunked:
                    dechunk += data
                    out = bytearray()
                    while True:
                        i = dechunk.find(b"\r\n")
                        if i < 0:
                            break
                        size = int(dechunk[:i].split(b";")[0], 16)
                        if len(dechunk) < i + 2 + size + 2:
                            break
                        out += dechunk[i + 2:i + 2 + size]
                        dechunk = dechunk[i + 2 + size + 2:]
                        if size == 0:
                            break
                    self._feed(bytes(out))
                else:
                    self._feed(data)
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
        with self._lock:
            self.closed = True
            self.eof_at = time.monotonic()

    def _feed(self, data):
        now = time.monotonic()
        with self._lock:
            self.raw += data
            self._pending += data
            while True:
                if self._pending.startswith(b"\r\n"):
                    self.heartbeats.append(now)
                    self._pending = self._pending[2:]
                    continue
                i = self._pending.find(b"\r\n\r\n")
                if i < 0:
                    break
                frame = self._pending[:i].decode(errors="replace")
                self._pending = self._pending[i + 4:]
                lines = frame.split("\r\n")
                if (len(lines) != 2 or not lines[0].startswith("event: ")
                        or not lines[1].startswith("data: ") or "\n" in frame.replace("\r\n", "")):
                    self.frame_errors.append(frame)
                    continue
                etype = lines[0][len("event: "):]
                try:
                    data_obj = json.loads(lines[1][len("data: "):])
                except ValueError:
                    self.frame_errors.append(frame)
                    continue
                self.events.append((etype, data_obj, now))

    def snapshot(self):
        with self._lock:
            return list(self.events)

    def of_type(self, etype):
        return [d for t, d, _ in self.snapshot() if t == etype]

    def wait_for(self, pred, timeout=20.0, what=None):
        """Waits for an event (type, data) satisfying pred; returns its data."""
        def find():
            for t, d, _ in self.snapshot():
                if pred(t, d):
                    return (d,)
            return None
        return wait_until(find, timeout, what=what or "an event")[0]

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        if self._t:
            self._t.join(5)


def vm_rss_kib(pid):
    """VmRSS of pid from /proc/PID/status, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def live_tasks(tasks):
    """Tasks not in a terminal state."""
    return [t for t in tasks if t.get("state") not in TERMINAL_STATES]


def is_healthy(task, nchecks=1):
    """RUNNING with nchecks health check results, all alive."""
    hc = task.get("healthCheckResults") or []
    return (task.get("state") == "TASK_RUNNING" and len(hc) >= nchecks
            and all(r.get("alive") is True for r in hc))


# A tiny HTTP service for tasks: `python3 SCRIPT PORT`. Run in its sandbox (the cwd):
#  - GET /ready: 200 when the file `ready` exists there or READY=1 is in the environment,
#    else 503 (for readiness checks);
#  - any other GET: 500 when the file `sick` exists, else 200 with the task id.
# With START_DELAY=S in the environment it sleeps S seconds before listening.
SERVICE_PY = r'''
import http.server, os, sys, time
time.sleep(float(os.environ.get("START_DELAY", "0")))
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        if self.path.startswith("/ready"):
            ok = os.path.exists("ready") or os.environ.get("READY") == "1"
            code = 200 if ok else 503
        else:
            code = 500 if os.path.exists("sick") else 200
        body = (os.environ.get("MESOS_TASK_ID", "?") + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer.allow_reuse_address = True
s = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
s.daemon_threads = True
s.serve_forever()
'''


def service_cmd(workdir):
    """Writes SERVICE_PY into workdir; returns the cmd that runs it on $PORT0."""
    path = os.path.join(str(workdir), "service.py")
    with open(path, "w") as f:
        f.write(SERVICE_PY)
    return "exec /usr/bin/python3 %s $PORT0" % path


# --- stateful apps (issue 5): examples, volume plugins, mounts ---

EXAMPLES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples")


def load_example(name, **overrides):
    """examples/NAME as a dict, with the test's tag added to its env (so teardown finds its
    processes) and the given fields replaced."""
    with open(os.path.join(EXAMPLES_DIR, name)) as f:
        d = json.load(f)
    d.update(overrides)
    env = dict(d.get("env") or {})
    env[TAG_VAR] = current_tag()
    d["env"] = env
    return d


def plugin_call(socket_path, path, body, timeout=5.0):
    """POSTs a Docker volume plugin call over the unix socket; returns the decoded JSON answer
    (None when the socket does not answer)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(str(socket_path))
        data = json.dumps(body).encode()
        s.sendall(("POST %s HTTP/1.1\r\nHost: plugin\r\nContent-Type: "
                   "application/vnd.docker.plugins.v1+json\r\nContent-Length: %d\r\n"
                   "Connection: close\r\n\r\n" % (path, len(data))).encode() + data)
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except OSError:
        return None
    finally:
        s.close()
    if b"\r\n\r\n" not in buf:
        return None
    head, body_bytes = buf.split(b"\r\n\r\n", 1)
    if b"chunked" in head.lower():
        out = b""
        while body_bytes:
            i = body_bytes.find(b"\r\n")
            n = int(body_bytes[:i].split(b";")[0], 16)
            if n == 0:
                break
            out += body_bytes[i + 2:i + 2 + n]
            body_bytes = body_bytes[i + 2 + n + 2:]
        body_bytes = out
    try:
        return json.loads(body_bytes.decode() or "{}")
    except ValueError:
        return None


def mounts_under(path):
    """Mount points (from /proc/self/mountinfo) at or under path."""
    path = os.path.realpath(str(path))
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == path or mp.startswith(path.rstrip("/") + "/"):
                out.append(mp)
    return out


def by_index(tasks):
    """{index: task} of the live tasks (asserts each index appears once)."""
    out = {}
    for t in live_tasks(tasks):
        i = t.get("index")
        assert i not in out, "index %r twice: %r" % (i, tasks)
        out[i] = t
    return out


def wait_indexes(api, app_id, indexes, timeout=30.0, healthy=False):
    """Waits until the running tasks of app_id have exactly these indexes (and no other live
    task is listed); returns {index: task}."""
    want = sorted(indexes)

    def ok():
        ts = api.tasks(app_id)
        live = live_tasks(ts)
        run = [t for t in live if t.get("state") == "TASK_RUNNING"
               and (not healthy or is_healthy(t))]
        if len(run) != len(live) or sorted(t.get("index") for t in run) != want:
            return None
        return (by_index(run),)
    return wait_until(ok, timeout, interval=0.1,
                      what="tasks of %s with indexes %r" % (app_id, want))[0]


def volumes(api):
    r = api.get("/api/berth/volumes")
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()["volumes"]


def kill_task_processes(task_id, sig=signal.SIGKILL):
    """Sends sig to every process of the task (those with MESOS_TASK_ID=task_id, i.e. the task
    and its children, not the executor). Returns the pids."""
    pids = task_pids(task_id)
    for p in pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass
    return pids


def wait_replaced(api, app_id, old, timeout=30.0):
    """Waits until a task other than old runs with old's index; returns it."""
    def ok():
        return [t for t in api.running(app_id)
                if t.get("index") == old["index"] and t["id"] != old["id"]]
    return wait_until(ok, timeout, interval=0.1,
                      what="instance %d of %s relaunched" % (old["index"], app_id))[0]


class PingWatch:
    """Pings url + "/ping" back to back from a thread while a with-block runs: the number of
    pings, the failed ones, the slowest and the 99th percentile (bench/scale uses it too)."""

    def __init__(self, url, timeout=30, pause=0.002):
        self.url, self.worst, self.count, self.failed = url + "/ping", 0.0, 0, 0
        self.timeout, self.pause = timeout, pause
        self.lat = []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        s = requests.Session()
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                ok = s.get(self.url, timeout=self.timeout).status_code == 200
            except requests.RequestException:
                ok = False
            dt = time.monotonic() - t0
            self.lat.append(dt)
            self.worst = max(self.worst, dt)
            self.count += 1
            self.failed += not ok
            time.sleep(self.pause)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.t.join(self.timeout + 5)

    def p99(self):
        v = sorted(self.lat)
        return v[min(len(v) - 1, int(len(v) * 0.99))] if v else 0.0
