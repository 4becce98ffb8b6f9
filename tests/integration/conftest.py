"""Fixtures that start real berth processes on free loopback ports.

Each test gets a fresh work directory tests/integration/.work/<test>/ (or, when the checkout
is under /tmp, /var/tmp/berth-itest-<hash>/<test>/: see WORK_ROOT) holding the daemons'
stderr/stdout files, the store and the agents' work dirs. It is removed when the test passes
and kept (its path printed) when it fails. At teardown every daemon still running is stopped
with SIGTERM and must exit 0 within 10 s; every process left behind by the test (executors,
task processes) is killed.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import helpers  # noqa: E402
from helpers import Api, free_port, port_range, wait_until  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# Tasks get a private /tmp (agent isolation, on by default): a test whose files tasks read or
# write must not keep them under /tmp, so a checkout under /tmp (a CI clone, say) puts the
# work directories in /var/tmp, one tree per checkout.
WORK_ROOT = HERE / ".work"
if str(HERE).startswith("/tmp/"):
    import hashlib
    WORK_ROOT = Path("/var/tmp") / ("berth-itest-" +
                                    hashlib.sha1(str(HERE).encode()).hexdigest()[:10])
STOP_TIMEOUT = 10.0
READY_TIMEOUT = 20.0


def berth_bin():
    b = os.environ.get("BERTH_BIN")
    if b:
        return b
    for cand in (REPO / "build-check" / "berth", REPO / "build" / "berth"):
        if cand.exists():
            return str(cand)
    return str(REPO / "build-check" / "berth")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def pytest_sessionstart(session):
    b = berth_bin()
    if not os.access(b, os.X_OK):
        raise pytest.UsageError("berth binary not found at %s (set BERTH_BIN)" % b)


class Daemon:
    """One berth process. stdout/stderr go to <name>.stdout/.stderr in the work dir."""

    def __init__(self, cluster, name, args):
        self.cluster = cluster
        self.name = name
        self.args = [berth_bin()] + list(args)
        self.p = None
        self.starts = 0
        self.expect_dead = False

    @property
    def stderr_path(self):
        return self.cluster.workdir / ("%s.stderr" % self.name)

    @property
    def stdout_path(self):
        return self.cluster.workdir / ("%s.stdout" % self.name)

    def start(self):
        env = dict(os.environ)
        env[helpers.TAG_VAR] = self.cluster.tag
        env.pop("BERTH_MASTER", None)
        self.starts += 1
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            err.write(("--- start %d: %s\n" % (self.starts, " ".join(self.args))).encode())
            err.flush()
            self.p = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=out,
                                      stderr=err, env=env, start_new_session=True,
                                      cwd=str(self.cluster.workdir))
        self.expect_dead = False
        return self

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Sends sig and waits; returns the exit status (None if it did not exit in time, in
        which case it is killed with SIGKILL)."""
        if not self.alive():
            return self.p.returncode if self.p else None
        self.p.send_signal(sig)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None

    def kill9(self):
        """kill -9 the daemon (its own process only: executors and tasks survive)."""
        if self.alive():
            self.p.kill()
            self.p.wait()
        self.expect_dead = True

    def stderr_text(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def stdout_text(self):
        try:
            return self.stdout_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_exit(self, timeout=STOP_TIMEOUT):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


class Master(Daemon):
    def __init__(self, cluster, name, agent_timeout=None, extra=(), bind="127.0.0.1"):
        self.port = free_port()
        self.addr = "127.0.0.1:%d" % self.port
        self.url = "http://" + self.addr
        self.store = cluster.workdir / ("%s-state.db" % name)
        args = ["master", "--http", "%s:%d" % (bind, self.port), "--store", "sqlite:%s" % self.store]
        if agent_timeout is not None:
            args += ["--agent-timeout", str(agent_timeout)]
        args += list(extra)
        super().__init__(cluster, name, args)
        self.api = Api(self.url)

    def ready(self, timeout=READY_TIMEOUT):
        def ok():
            if not self.alive():
                raise AssertionError("%s exited with %s; stderr:\n%s"
                                     % (self.name, self.p.returncode, self.stderr_text()[-3000:]))
            return self.api.ping()
        wait_until(ok, timeout, what="%s /ping" % self.name)
        return self

    def restart(self):
        """kill -9 then start again on the same port and store; waits for /ping."""
        self.kill9()
        self.start()
        # The old listening socket may linger briefly; ping until the new process answers.
        return self.ready()


class Agent(Daemon):
    def __init__(self, cluster, name, master, hostname=None, attributes=None,
                 resources="default", extra=(), netns=None):
        self.master = master
        self.port = free_port()
        # netns=(namespace, its address, the master's address seen from it): the agent runs
        # inside that network namespace (`ip netns exec`).
        self.netns = netns
        self.addr = "%s:%d" % (netns[1] if netns else "127.0.0.1", self.port)
        self.url = "http://" + self.addr
        self.work_dir = cluster.workdir / name
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.hostname = hostname
        if resources == "default":
            lo, hi = port_range()
            self.port_lo, self.port_hi = lo, hi
            resources = ("cpus(*):4; mem(*):4096; disk(*):10000; ports(*):[%d-%d]" % (lo, hi))
        else:
            self.port_lo, self.port_hi = None, None
        self.resources = resources
        murl = master.url if not netns else "http://%s:%d" % (netns[2], master.port)
        args = ["agent", "--master", murl, "--http", self.addr,
                "--work-dir", str(self.work_dir)]
        if resources is not None:
            args += ["--resources", resources]
        if attributes is not None:
            args += ["--attributes", attributes]
        if hostname is not None:
            args += ["--hostname", hostname]
        args += list(extra)
        super().__init__(cluster, name, args)
        if netns:
            self.args = ["ip", "netns", "exec", netns[0]] + self.args
        self.api = Api(self.url)

    def slave(self, master=None):
        """This agent's entry in the master's /master/slaves (matched by the pid's port)."""
        m = master or self.master
        for s in m.api.slaves():
            if str(s.get("pid", "")).endswith(":%d" % self.port):
                return s
        return None

    def ready(self, timeout=READY_TIMEOUT):
        def ok():
            if not self.alive():
                raise AssertionError("%s exited with %s; stderr:\n%s"
                                     % (self.name, self.p.returncode, self.stderr_text()[-3000:]))
            s = self.slave()
            return s is not None and s.get("active") is True
        wait_until(ok, timeout, what="%s registered and active" % self.name)
        return self

    def restart(self):
        self.kill9()
        self.start()
        return self.ready()

    def sandbox(self, task_id, timeout=10.0):
        """The sandbox directory of task_id on this agent: from GET /state, or else found by
        name under the agent's work dir."""
        def find():
            try:
                r = self.api.get("/state")
                if r.status_code == 200:
                    for t in r.json().get("tasks", []):
                        if t.get("task_id") == task_id and t.get("sandbox"):
                            return Path(t["sandbox"])
            except Exception:
                pass
            for root, dirs, _files in os.walk(self.work_dir):
                if task_id in dirs:
                    return Path(root) / task_id
            return None
        return wait_until(find, timeout, what="sandbox of %s" % task_id)


class Dev(Daemon):
    def __init__(self, cluster, name, data_dir=None, extra=()):
        self.port = free_port()
        self.agent_port = free_port()
        self.addr = "127.0.0.1:%d" % self.port
        self.url = "http://" + self.addr
        self.agent_url = "http://127.0.0.1:%d" % self.agent_port
        self.data_dir = Path(data_dir) if data_dir else cluster.workdir / ("%s-data" % name)
        args = ["dev", "--data-dir", str(self.data_dir), "--http", self.addr,
                "--agent-http", "127.0.0.1:%d" % self.agent_port] + list(extra)
        super().__init__(cluster, name, args)
        self.api = Api(self.url)
        self.agent_api = Api(self.agent_url)

    def ready(self, timeout=READY_TIMEOUT):
        def ok():
            if not self.alive():
                raise AssertionError("%s exited with %s; stderr:\n%s"
                                     % (self.name, self.p.returncode, self.stderr_text()[-3000:]))
            return self.api.ping()
        wait_until(ok, timeout, what="%s /ping" % self.name)
        return self


class VolumePlugin(Daemon):
    """`berth volume-plugin --root ROOT --socket SOCKET`: the built-in local driver served over
    the Docker volume plugin protocol. Agents find it as driver NAME when started with
    `--volume-plugin-dir <socket's dir>` (the socket is <dir>/<NAME>.sock)."""

    def __init__(self, cluster, name, root, socket_path):
        self.root = Path(root)
        self.socket_path = Path(socket_path)
        self.plugin_dir = self.socket_path.parent
        self.driver = self.socket_path.name[:-len(".sock")]
        args = ["volume-plugin", "--root", str(self.root), "--socket", str(self.socket_path)]
        super().__init__(cluster, name, args)

    def ready(self, timeout=READY_TIMEOUT):
        def ok():
            if not self.alive():
                raise AssertionError("%s exited with %s; stderr:\n%s"
                                     % (self.name, self.p.returncode, self.stderr_text()[-3000:]))
            return helpers.plugin_call(self.socket_path, "/Plugin.Activate", {}) is not None
        wait_until(ok, timeout, what="%s answering /Plugin.Activate" % self.name)
        return self


class Cluster:
    """The processes of one test. Use master()/agent()/dev() to start them (they return when
    ready) and cli() to run the CLI against the first master."""

    def __init__(self, workdir, tag):
        self.workdir = workdir
        self.tag = tag
        self.daemons = []
        self.short_dirs = []
        self.m = None
        self.a = None

    def _add(self, d):
        self.daemons.append(d)
        return d

    def _name(self, prefix):
        n = sum(1 for d in self.daemons if d.name.startswith(prefix))
        return prefix if n == 0 else "%s%d" % (prefix, n + 1)

    def master(self, agent_timeout=None, extra=(), wait=True, bind="127.0.0.1"):
        m = self._add(Master(self, self._name("master"), agent_timeout, extra, bind)).start()
        if self.m is None:
            self.m = m
        return m.ready() if wait else m

    def agent(self, master=None, hostname=None, attributes=None, resources="default",
              extra=(), wait=True, name=None, netns=None):
        master = master or self.m
        a = self._add(Agent(self, name or self._name("agent"), master, hostname, attributes,
                            resources, extra, netns)).start()
        if self.a is None:
            self.a = a
        return a.ready() if wait else a

    def dev(self, data_dir=None, extra=(), wait=True):
        d = self._add(Dev(self, self._name("dev"), data_dir, extra)).start()
        return d.ready() if wait else d

    def short_dir(self, what):
        """A new directory under /tmp with a short path (unix socket paths are limited to 107
        bytes, too few for the work dir); removed at teardown."""
        d = Path(tempfile.mkdtemp(prefix="itest-%s-" % what, dir="/tmp"))
        self.short_dirs.append(d)
        return d

    def volume_plugin(self, root=None, socket_path=None, driver="local", wait=True):
        """Starts `berth volume-plugin`; by default root <workdir>/<name>-root and socket
        <short dir>/<driver>.sock."""
        name = self._name("volplugin")
        root = Path(root) if root else self.workdir / ("%s-root" % name)
        if socket_path is None:
            socket_path = self.short_dir("plugins") / ("%s.sock" % driver)
        v = self._add(VolumePlugin(self, name, root, socket_path)).start()
        return v.ready() if wait else v

    def cli(self, *args, master="default", stdin=None, env=None, timeout=60):
        """Runs `berth ARGS` with BERTH_MASTER set to the first master (or master=URL, or
        master=None to leave it unset). Returns (exit code, stdout, stderr)."""
        e = dict(os.environ)
        e.pop("BERTH_MASTER", None)
        if master == "default":
            master = self.m.url if self.m else None
        if master is not None:
            e["BERTH_MASTER"] = master
        if env:
            e.update(env)
        if isinstance(stdin, str):
            stdin = stdin.encode()
        p = subprocess.run([berth_bin()] + [str(a) for a in args], env=e, input=stdin,
                           capture_output=True, timeout=timeout, cwd=str(self.workdir))
        return (p.returncode, p.stdout.decode(errors="replace"),
                p.stderr.decode(errors="replace"))

    def teardown(self):
        """Stops every daemon still running (SIGTERM, must exit 0 within 10 s), then kills
        whatever the test left behind. Returns a list of problems."""
        problems = []
        for d in reversed(self.daemons):
            if d.p is None or d.expect_dead or not d.alive():
                if d.p is not None and not d.expect_dead and d.p.returncode not in (0, None) \
                        and d.p.returncode != -signal.SIGKILL:
                    problems.append("%s had exited with status %s before teardown"
                                    % (d.name, d.p.returncode))
                continue
            t0 = time.monotonic()
            rc = d.stop(signal.SIGTERM, STOP_TIMEOUT)
            if rc != 0:
                problems.append("%s: SIGTERM -> exit status %s after %.1fs (want 0 within %ds)"
                                % (d.name, rc, time.monotonic() - t0, STOP_TIMEOUT))
        helpers.kill_tagged(self.tag, str(self.workdir))
        for d in self.daemons:
            if isinstance(d, Agent):
                helpers.remove_task_cgroups(d.args, d.work_dir)
        for d in self.short_dirs:
            shutil.rmtree(d, ignore_errors=True)
        return problems


def _workdir_for(name):
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:100]
    d = WORK_ROOT / safe
    if d.exists():
        shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    return d


def _finish(request, cluster, node):
    problems = cluster.teardown()
    failed = any(getattr(node, "rep_" + w, None) is not None and
                 getattr(node, "rep_" + w).failed for w in ("setup", "call"))
    if failed or problems:
        sys.stderr.write("\n[itest] work dir kept: %s\n" % cluster.workdir)
    else:
        shutil.rmtree(cluster.workdir, ignore_errors=True)
    if problems:
        pytest.fail("teardown: " + "; ".join(problems), pytrace=False)


@pytest.fixture
def cluster(request):
    """An empty Cluster in a fresh work dir; start daemons with cluster.master() etc."""
    tag = helpers.new_uuid()
    helpers.set_current_tag(tag)
    c = Cluster(_workdir_for(request.node.name), tag)
    yield c
    _finish(request, c, request.node)


@pytest.fixture
def one(cluster):
    """A master and one agent (cluster.m, cluster.a)."""
    cluster.master()
    cluster.agent()
    return cluster


@pytest.fixture(scope="module")
def shared_master(request):
    """One master (no agent) for a whole module of tests that only talk to the API."""
    tag = helpers.new_uuid()
    helpers.set_current_tag(tag)
    c = Cluster(_workdir_for(request.module.__name__), tag)
    c.master()
    yield c
    problems = c.teardown()
    failed = any(getattr(item, "rep_call", None) is not None and item.rep_call.failed
                 for item in request.session.items if item.module is request.module)
    if failed or problems:
        sys.stderr.write("\n[itest] work dir kept: %s\n" % c.workdir)
    else:
        shutil.rmtree(c.workdir, ignore_errors=True)
    if problems:
        pytest.fail("teardown: " + "; ".join(problems), pytrace=False)
