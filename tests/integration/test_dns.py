"""The master's DNS server (docs/dns.md): Mesos-DNS's names and answers, checked with the
real `dig` (bind9-dnsutils) against a real master and agent running real tasks."""
import hashlib
import socket
import struct
import subprocess
import time

import requests

import helpers
from helpers import app_def, free_port, wait_until
from mesos_client import Framework, command_task

ZB32 = "ybndrfg8ejkmcpqxot1uwisza345h769"


def hash5(task_id):
    d = hashlib.sha1(task_id.encode()).digest()
    bits = int.from_bytes(d[:4], "big")
    return "".join(ZB32[(bits >> (27 - 5 * i)) & 31] for i in range(5))


class Dig:
    def __init__(self, port):
        self.port = port

    def raw(self, name, rtype="A", *opts):
        out = subprocess.run(["dig", "@127.0.0.1", "-p", str(self.port), "+tries=1",
                              "+time=3", name, rtype] + list(opts),
                             capture_output=True, text=True, timeout=20)
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    def status(self, name, rtype="A", *opts):
        for line in self.raw(name, rtype, *opts).splitlines():
            if "status:" in line:
                return line.split("status:")[1].split(",")[0].strip()
        raise AssertionError("no status")

    def section(self, name, rtype="A", *opts, sect="answer"):
        """The records of a section as [(name, ttl, type, rdata)]."""
        out = self.raw(name, rtype, "+noall", "+" + sect, *opts)
        recs = []
        for line in out.splitlines():
            if not line or line.startswith(";"):
                continue
            f = line.split()
            recs.append((f[0], int(f[1]), f[3], " ".join(f[4:])))
        return recs

    def a(self, name):
        return sorted(r[3] for r in self.section(name, "A") if r[2] == "A")

    def srv(self, name, *opts):
        return sorted(tuple(r[3].split()) for r in self.section(name, "SRV", *opts)
                      if r[2] == "SRV")


def start(cluster, extra=()):
    port = free_port()
    m = cluster.master(extra=["--dns", "127.0.0.1:%d" % port] + list(extra))
    a = cluster.agent()
    return m, a, Dig(port)


def test_marathon_app_records(cluster):
    m, a, dig = start(cluster, ["--dns-ttl", "7"])
    app = app_def("/prod/web", "exec sleep 300",
                  portDefinitions=[{"port": 0, "name": "http", "protocol": "tcp"}])
    assert m.api.post("/v2/apps", app).status_code == 201
    t = m.api.wait_running("/prod/web", 1)[0]
    port = t["ports"][0]
    agent_id = t["slaveId"]
    canon = "web-prod-%s-%s.marathon" % (hash5(t["id"]), agent_id.split("-")[-1].lower())
    # A: the app id as Marathon names its task ("web.prod"), sanitized, and the raw
    # DiscoveryInfo name; the canonical name; the .slave names.
    for n in ("web-prod.marathon.mesos", "web.prod.marathon.mesos", canon + ".mesos",
              "web-prod.marathon.slave.mesos", canon + ".slave.mesos"):
        assert wait_until(lambda: dig.a(n) == ["127.0.0.1"], 5, what=n)
    recs = dig.section("web-prod.marathon.mesos", "A")
    assert recs[0][1] == 7  # --dns-ttl
    # SRV: DiscoveryInfo ports under the plain name (target canonical.<domain>), the task's
    # port resources under .slave (target canonical.slave.<domain>), the named port too.
    assert dig.srv("_web-prod._tcp.marathon.mesos") == [
        ("0", "1", str(port), canon + ".mesos.")]
    assert dig.srv("_http._web-prod._tcp.marathon.mesos") == [
        ("0", "1", str(port), canon + ".mesos.")]
    assert dig.srv("_web-prod._tcp.marathon.slave.mesos") == [
        ("0", "1", str(port), canon + ".slave.mesos.")]
    assert dig.srv("_web-prod._udp.marathon.slave.mesos") == [
        ("0", "1", str(port), canon + ".slave.mesos.")]
    assert dig.srv("_web-prod._udp.marathon.mesos") == []  # tcp only in DiscoveryInfo
    # The SRV target's address comes in the additional section.
    add = dig.section("_web-prod._tcp.marathon.mesos", "SRV", sect="additional")
    assert [(r[0], r[3]) for r in add] == [(canon + ".mesos.", "127.0.0.1")]
    # Mesos-DNS's HTTP API on the master.
    v = requests.get(m.url + "/v1/version", timeout=10).json()
    assert v["Service"] == "Mesos-DNS" and set(v) == {"Service", "Version", "URL"}
    h = requests.get(m.url + "/v1/hosts/web-prod.marathon.mesos", timeout=10).json()
    assert h == [{"host": "web-prod.marathon.mesos.", "ip": "127.0.0.1"}]
    s = requests.get(m.url + "/v1/services/_web-prod._tcp.marathon.mesos", timeout=10).json()
    assert s == [{"service": "_web-prod._tcp.marathon.mesos", "host": canon + ".mesos.",
                  "ip": "127.0.0.1", "port": str(port)}]
    assert requests.get(m.url + "/v1/hosts/nope.mesos", timeout=10).json() == [
        {"host": "", "ip": ""}]
    c = requests.get(m.url + "/v1/config", timeout=10).json()
    assert c["Domain"] == "mesos" and c["TTL"] == 7 and c["SOAMname"] == "ns1.mesos."


def test_master_names_and_rcodes(cluster):
    m, a, dig = start(cluster)
    for n in ("leader.mesos", "master.mesos", "master0.mesos", "slave.mesos", "marathon.mesos",
              "ns1.mesos"):
        assert dig.a(n) == ["127.0.0.1"], n
    for p in ("_leader._tcp.mesos", "_leader._udp.mesos"):
        assert dig.srv(p) == [("0", "1", str(m.port), "leader.mesos.")]
    # Every agent: _slave._tcp (slave.<domain>. and the agent's port), /v1/hosts/slave.
    assert dig.srv("_slave._tcp.mesos") == [("0", "1", str(a.port), "slave.mesos.")]
    assert [(r[0], r[3]) for r in dig.section("_slave._tcp.mesos", "SRV",
                                               sect="additional")] == [("slave.mesos.",
                                                                        "127.0.0.1")]
    assert requests.get(m.url + "/v1/hosts/slave.mesos", timeout=10).json() == [
        {"host": "slave.mesos.", "ip": "127.0.0.1"}]
    # SOA and NS: in the authority section, NOERROR.
    assert dig.status("mesos", "SOA") == "NOERROR"
    soa = dig.section("mesos", "SOA", sect="authority")
    assert soa[0][2] == "SOA" and soa[0][3].startswith("ns1.mesos. root.ns1.mesos. ")
    ns = dig.section("mesos", "NS", sect="authority")
    assert ns[0][2:] == ("NS", "ns1.mesos.")
    # Unknown name: NXDOMAIN (SOA in authority); SRV of it NOERROR and empty; AAAA of a
    # known name NOERROR (NODATA).
    assert dig.status("nope.marathon.mesos", "A") == "NXDOMAIN"
    assert dig.section("nope.marathon.mesos", "A", sect="authority")[0][2] == "SOA"
    assert dig.status("_nope._tcp.marathon.mesos", "SRV") == "NOERROR"
    assert dig.status("leader.mesos", "AAAA") == "NOERROR"
    assert dig.status("nope.mesos", "AAAA") == "NOERROR"
    # Outside the domain, no resolvers: REFUSED. Case does not matter inside.
    assert dig.status("example.com", "A") == "REFUSED"
    assert dig.a("LEADER.Mesos") == ["127.0.0.1"]
    # Over TCP too.
    assert dig.a("leader.mesos") == sorted(
        r[3] for r in dig.section("leader.mesos", "A", "+tcp"))


def test_truncation_and_tcp_fallback(cluster):
    m, a, dig = start(cluster)
    app = app_def("/many", "exec sleep 300", instances=12, portDefinitions=[{"port": 0}])
    assert m.api.post("/v2/apps", app).status_code == 201
    m.api.wait_running("/many", 12, timeout=40)
    name = "_many._tcp.marathon.slave.mesos"
    wait_until(lambda: len(dig.srv(name, "+tcp")) == 12, 10, what="12 SRV over TCP")
    # Over UDP without EDNS the answer is cut at 512 bytes with TC set...
    out = dig.raw(name, "SRV", "+ignore", "+noedns")
    flags = [l for l in out.splitlines() if "flags:" in l][0]
    assert " tc" in flags.split("flags:")[1].split(";")[0], flags
    assert "MSG SIZE  rcvd: " in out
    size = int(out.split("MSG SIZE  rcvd: ")[1].split()[0])
    assert size <= 512
    # ...and dig, seeing TC, retries over TCP and gets all of them.
    assert len(dig.srv(name, "+noedns")) == 12


def test_killed_task_leaves_dns_at_once(cluster):
    m, a, dig = start(cluster)
    assert m.api.post("/v2/apps", app_def("/k", "exec sleep 300", instances=2)).status_code == 201
    ts = m.api.wait_running("/k", 2)
    wait_until(lambda: len(dig.section("k.marathon.mesos", "A")) >= 1, 5, what="A of /k")
    victim = ts[0]
    canon = "k-%s-%s.marathon.mesos" % (hash5(victim["id"]), victim["slaveId"].split("-")[-1].lower())
    assert dig.a(canon) == ["127.0.0.1"]
    q = struct.pack(">HHHHHH", 7, 0x100, 1, 0, 0, 0) + b"".join(
        bytes([len(l)]) + l.encode() for l in canon.split(".")) + b"\0\0\1\0\1"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    sse = helpers.SseClient(m.url, types=("status_update_event",))
    try:
        r = m.api.delete("/v2/apps/k/tasks/%s" % victim["id"])
        assert r.status_code == 200, r.text
        sse.wait_for(lambda t, e: e.get("taskId") == victim["id"] and
                     e.get("taskStatus") == "TASK_KILLED", 20, what="TASK_KILLED")
        t_ev = [at for _, e, at in sse.snapshot() if e.get("taskId") == victim["id"] and
                e.get("taskStatus") == "TASK_KILLED"][0]
        # The first query after the master said the task ended no longer has it (raw UDP,
        # so that no tool's start-up is measured), within 100 ms of the event.
        s.sendto(q, ("127.0.0.1", dig.port))
        ans = s.recv(4096)
        assert time.monotonic() - t_ev < 0.1
        assert ans[3] & 0xf == 3  # NXDOMAIN
    finally:
        sse.close()
        s.close()
    assert dig.status(canon, "A") == "NXDOMAIN"
    # The other task still answers.
    assert dig.a("k.marathon.mesos") == ["127.0.0.1"]


def test_unhealthy_task_not_served(cluster):
    m, a, dig = start(cluster)
    app = app_def("/sick", "exec sleep 300", healthChecks=[
        {"protocol": "COMMAND", "command": {"value": "exit 1"}, "gracePeriodSeconds": 0,
         "intervalSeconds": 1, "timeoutSeconds": 1, "maxConsecutiveFailures": 1000}])
    good = app_def("/fine", "exec sleep 300", healthChecks=[
        {"protocol": "COMMAND", "command": {"value": "true"}, "gracePeriodSeconds": 0,
         "intervalSeconds": 1, "timeoutSeconds": 1}])
    assert m.api.post("/v2/apps", app).status_code == 201
    assert m.api.post("/v2/apps", good).status_code == 201
    m.api.wait_running("/sick", 1)
    wait_until(lambda: dig.a("fine.marathon.mesos") == ["127.0.0.1"], 20, what="healthy A")
    wait_until(lambda: m.api.tasks("/sick")[0].get("healthCheckResults"), 20,
               what="a health result of /sick")
    assert dig.status("sick.marathon.mesos", "A") == "NXDOMAIN"


def test_stateful_instance_names(cluster):
    m, a, dig = start(cluster)
    app = app_def("/db", "exec sleep 300", instances=2, container={"type": "MESOS", "volumes": [
        {"containerPath": "data", "mode": "RW", "persistent": {"size": 4}}]})
    assert m.api.post("/v2/apps", app).status_code == 201
    m.api.wait_running("/db", 2, timeout=40)
    for i in (0, 1):
        assert wait_until(lambda: dig.a("%d.db.marathon.mesos" % i) == ["127.0.0.1"], 5,
                          what="instance %d" % i)
    # The name follows the instance across a relaunch.
    t = m.api.tasks("/db")[0]
    assert m.api.delete("/v2/apps/db/tasks/%s" % t["id"]).status_code == 200
    wait_until(lambda: len(m.api.running("/db")) == 2 and
               t["id"] not in [x["id"] for x in m.api.running("/db")], 40, what="relaunch")
    for i in (0, 1):
        assert wait_until(lambda: dig.a("%d.db.marathon.mesos" % i) == ["127.0.0.1"], 5)
    assert dig.status("2.db.marathon.mesos", "A") == "NXDOMAIN"


def test_v1_framework_task(cluster):
    m, a, dig = start(cluster)
    fw = Framework(m.url, name="My.Framework")
    fw.subscribe()
    o = fw.wait_offers()[0]
    port = a.port_lo + 5
    task = command_task("svc1", o, "exec sleep 300", ports=[port],
                        env={helpers.TAG_VAR: helpers.current_tag()})
    assert fw.accept([o["id"]["value"]], [task]).status_code == 202
    fw.wait_update("svc1", "TASK_RUNNING")
    # The framework's name is split on '.' and each part sanitized.
    assert wait_until(lambda: dig.a("svc1.my.framework.mesos") == ["127.0.0.1"], 5)
    canon = "svc1-%s-%s.my.framework.slave.mesos." % (
        hash5("svc1"), o["agent_id"]["value"].split("-")[-1].lower())
    # No DiscoveryInfo: the port resources' SRV under the plain name and under .slave.
    assert dig.srv("_svc1._tcp.my.framework.mesos") == [("0", "1", str(port), canon)]
    assert dig.srv("_svc1._udp.my.framework.slave.mesos") == [("0", "1", str(port), canon)]
    fw.kill("svc1")
    fw.wait_update("svc1", ("TASK_KILLED",))
    assert dig.status("svc1.my.framework.mesos", "A") == "NXDOMAIN"
    fw.teardown()


def test_framework_names(cluster):
    """<framework>.<domain> A (records/generator.go's frameworkRecords): the address of
    FrameworkInfo.hostname; the built-in frameworks' the master's. A v1 framework has no
    libprocess PID (no "pid" in /master/state), so no _framework._tcp SRV, as Mesos-DNS."""
    m, a, dig = start(cluster)
    assert dig.a("marathon.mesos") == ["127.0.0.1"]
    # The jobs framework registers with its first job: then chronos.<domain> too.
    assert dig.status("chronos.mesos", "A") == "NXDOMAIN"
    r = requests.post(m.url + "/v1/scheduler/iso8601", json={
        "name": "dnsjob", "command": "true", "schedule": "R/2030-01-01T00:00:00Z/P1D",
        "cpus": 0.01, "mem": 16}, timeout=10)
    assert r.status_code in (200, 204), r.text
    assert wait_until(lambda: dig.a("chronos.mesos") == ["127.0.0.1"], 5)
    fw = Framework(m.url, name="Web.Sched")
    fw.info["hostname"] = "127.0.0.2"
    fw.subscribe()
    assert "pid" not in [f for f in m.api.get("/master/state").json()["frameworks"]
                         if f["name"] == "Web.Sched"][0]
    assert wait_until(lambda: dig.a("web.sched.mesos") == ["127.0.0.2"], 5)
    assert dig.status("_framework._tcp.web.sched.mesos", "SRV") == "NOERROR"
    assert dig.srv("_framework._tcp.web.sched.mesos") == []
    # A second framework of the same name adds its address; a name resolves like Mesos-DNS's
    # hostToIP4 (localhost: 127.0.0.1); one without a hostname has no name.
    fw2 = Framework(m.url, name="web.sched")
    fw2.info["hostname"] = "localhost"
    fw2.subscribe()
    assert wait_until(lambda: dig.a("web.sched.mesos") == ["127.0.0.1", "127.0.0.2"], 5)
    fw3 = Framework(m.url, name="nohost")
    fw3.subscribe()
    assert dig.status("nohost.mesos", "A") == "NXDOMAIN"
    # A hostname that does not resolve: no name, and its lookup (asynchronous) holds nothing.
    fw4 = Framework(m.url, name="badhost")
    fw4.info["hostname"] = "no-such-host.invalid"
    fw4.subscribe()
    t0 = time.monotonic()
    assert requests.get(m.url + "/v2/info", timeout=10).status_code == 200
    assert dig.status("leader.mesos", "A") == "NOERROR"
    assert time.monotonic() - t0 < 2
    assert dig.status("badhost.mesos", "A") == "NXDOMAIN"
    # UPDATE_FRAMEWORK moves it (Mesos answers 200 to it).
    info = dict(fw.info, id={"value": fw.id}, hostname="127.0.0.3")
    r = fw.call({"type": "UPDATE_FRAMEWORK", "update_framework": {"framework_info": info}})
    assert r.status_code == 200, r.text
    assert wait_until(lambda: dig.a("web.sched.mesos") == ["127.0.0.1", "127.0.0.3"], 5)
    # /v1/hosts answers it too.
    h = requests.get(m.url + "/v1/hosts/nohost.mesos", timeout=10).json()
    assert h == [{"host": "", "ip": ""}]
    # Torn down: its address leaves; the other stays.
    assert fw.teardown().status_code == 202
    assert wait_until(lambda: dig.a("web.sched.mesos") == ["127.0.0.1"], 5)
    assert fw2.teardown().status_code == 202
    assert wait_until(lambda: dig.status("web.sched.mesos", "A") == "NXDOMAIN", 5)
    fw3.teardown()
    fw4.teardown()
    assert dig.status("badhost.mesos", "A") == "NXDOMAIN"


def start_nsd(cluster, zone, records):
    """A real NSD on loopback serving zone from records (zone-file lines)."""
    import os
    work = os.path.join(cluster.workdir, "nsd-" + zone)
    os.makedirs(work, exist_ok=True)
    port = free_port()
    with open(os.path.join(work, "zone"), "w") as f:
        f.write("$ORIGIN %s.\n$TTL 60\n@ IN SOA ns1 root 1 60 600 86400 60\n@ IN NS ns1\n"
                "ns1 IN A 127.0.0.1\n" % zone)
        f.write("\n".join(records) + "\n")
    conf = os.path.join(work, "nsd.conf")
    with open(conf, "w") as f:
        f.write("""server:
    ip-address: 127.0.0.1
    port: %d
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "%s"
    database: ""
    zonelistfile: "%s/zone.list"
    xfrdfile: "%s/xfrd.state"
    pidfile: "%s/nsd.pid"
    logfile: "%s/nsd.log"
    verbosity: 1
remote-control:
    control-enable: no
zone:
    name: "%s"
    zonefile: "zone"
""" % (port, work, work, work, work, work, zone))
    p = subprocess.Popen(["nsd", "-d", "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(work, "nsd.stderr"), "w"))
    return p, port


def test_forwarding_over_tcp_and_truncation(cluster):
    """Names outside the domain go to the resolver over the client's protocol: a UDP answer
    NSD truncated reaches the client with TC; the client's TCP retry is forwarded over TCP
    and gets the whole answer (300 A records: more than any UDP answer here carries)."""
    big = ["big IN A 10.0.%d.%d" % (i // 250, i % 250 + 1) for i in range(300)]
    nsd, nport = start_nsd(cluster, "ext", big + ["small IN A 10.9.9.9"])
    try:
        up = Dig(nport)

        def nsd_serves():
            try:  # dig fails outright (refused) until NSD listens
                return up.status("small.ext", "A", "+notcp") == "NOERROR"
            except AssertionError:
                return False
        assert wait_until(nsd_serves, 20, interval=0.2, what="nsd")
        port = free_port()
        cluster.master(extra=["--dns", "127.0.0.1:%d" % port, "--dns-resolvers",
                              "127.0.0.1:%d" % nport])
        dig = Dig(port)
        assert dig.a("small.ext") == ["10.9.9.9"]
        assert dig.a("small.ext") == sorted(
            r[3] for r in dig.section("small.ext", "A", "+tcp"))
        # UDP without EDNS: NSD cuts the answer at 512 bytes and sets TC; it reaches dig so.
        out = dig.raw("big.ext", "A", "+ignore", "+noedns")
        flags = [l for l in out.splitlines() if "flags:" in l][0]
        assert " tc" in flags.split("flags:")[1].split(";")[0], flags
        assert int(out.split("MSG SIZE  rcvd: ")[1].split()[0]) <= 512
        # With EDNS 4096 still truncated (300 records are ~4.9 KB)...
        out = dig.raw("big.ext", "A", "+ignore", "+bufsize=4096")
        assert " tc" in [l for l in out.splitlines() if "flags:" in l][0]
        # ...over TCP the whole answer: forwarded over TCP.
        want = sorted("10.0.%d.%d" % (i // 250, i % 250 + 1) for i in range(300))
        assert sorted(r[3] for r in dig.section("big.ext", "A", "+tcp", "+noedns")) == want
        # dig's own fallback: UDP, TC, then TCP through berth.
        assert dig.a("big.ext") == want
        # A name NSD does not have: its NXDOMAIN comes back over both.
        assert dig.status("nope.ext", "A") == "NXDOMAIN"
        assert dig.status("nope.ext", "A", "+tcp") == "NXDOMAIN"
        # TCP clients that leave before the answer: their forwards are dropped, nothing else.
        q = struct.pack(">HHHHHH", 9, 0x100, 1, 0, 0, 0) + b"\3big\3ext\0\0\1\0\1"
        for _ in range(30):
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            c.sendall(struct.pack(">H", len(q)) + q)
            c.close()
        # One that stays gets the whole answer on its connection, with its id.
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        c.sendall(struct.pack(">H", len(q)) + q)
        buf = b""
        while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
            chunk = c.recv(65536)
            assert chunk, "connection closed before the answer"
            buf += chunk
        c.close()
        ans = buf[2:]
        assert struct.unpack(">H", ans[:2])[0] == 9
        assert struct.unpack(">H", ans[6:8])[0] == 300  # ANCOUNT
        assert dig.a("small.ext") == ["10.9.9.9"]
        # Many TCP clients at once, each forwarded on its own connection.
        procs = [subprocess.Popen(["dig", "@127.0.0.1", "-p", str(port), "+tcp", "+short",
                                   "+time=5", "big.ext", "A"], stdout=subprocess.PIPE,
                                  text=True) for _ in range(20)]
        for p in procs:
            out, _ = p.communicate(timeout=30)
            assert sorted(out.split()) == want
    finally:
        nsd.terminate()
        nsd.wait(timeout=10)


def test_forwarding_to_resolvers(cluster):
    # The upstream: another master's DNS serving the domain "other".
    up_port = free_port()
    cluster.master(extra=["--dns", "127.0.0.1:%d" % up_port, "--dns-domain", "other"])
    dead = free_port()  # nothing answers there
    port = free_port()
    cluster.master(extra=["--dns", "127.0.0.1:%d" % port, "--dns-resolvers",
                          "127.0.0.1:%d,127.0.0.1:%d" % (dead, up_port)])
    dig = Dig(port)
    # The first resolver does not answer: the query goes on to the second.
    out = dig.raw("leader.other", "A", "+time=6")
    assert "status: NOERROR" in out and "127.0.0.1" in out.split("ANSWER SECTION")[1]
    assert Dig(up_port).status("leader.mesos") == "REFUSED"
    # Over TCP as well.
    out = dig.raw("leader.other", "A", "+tcp", "+time=6")
    assert "status: NOERROR" in out
    # Its own domain is still its own.
    assert dig.a("leader.mesos") == ["127.0.0.1"]
    # Only the dead resolver: SERVFAIL once it timed out.
    port2 = free_port()
    cluster.master(extra=["--dns", "127.0.0.1:%d" % port2, "--dns-resolvers",
                          "127.0.0.1:%d" % dead])
    assert Dig(port2).status("leader.other", "A", "+time=6") == "SERVFAIL"


def test_bad_dns_flags(cluster):
    out = subprocess.run([helpers_bin(), "master", "--dns", "127.0.0.1:0", "--dns-resolvers",
                          "not-an-ip", "--http", "127.0.0.1:0", "--store",
                          "sqlite:%s/x.db" % cluster.workdir], capture_output=True, text=True,
                         timeout=20)
    assert out.returncode != 0
    assert "--dns-resolvers 'not-an-ip'" in out.stderr
    out = subprocess.run([helpers_bin(), "master", "--dns", "127.0.0.1:0", "--dns-domain",
                          "my..domain", "--http", "127.0.0.1:0", "--store",
                          "sqlite:%s/z.db" % cluster.workdir], capture_output=True, text=True,
                         timeout=20)
    assert out.returncode != 0
    assert "--dns-domain 'my..domain'" in out.stderr


def helpers_bin():
    import conftest
    return conftest.berth_bin()


def test_discovery_watch(cluster):
    import conftest
    m = cluster.master()  # no --dns: the discovery watch is on regardless
    cluster.agent()
    assert requests.get(m.url + "/v1/version", timeout=10).status_code == 404
    r = requests.get(m.url + "/v2/services/svc/api", timeout=10)
    assert r.status_code == 200 and r.json() == {"appId": "/svc/api", "endpoints": [],
                                                 "stale": False}
    assert r.headers["X-Berth-Stale"] == "false"
    assert requests.get(m.url + "/v2/services/svc/api?watch=maybe",
                        timeout=10).status_code == 400
    # A watcher started before the app exists sees every endpoint come and go.
    env = dict(__import__("os").environ, BERTH_MASTER=m.url)
    p = subprocess.Popen([conftest.berth_bin(), "discover", "/svc/api", "--watch"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = helpers.LineReader(p.stdout)
    err = helpers.LineReader(p.stderr)
    try:
        wait_until(lambda: "watching '/svc/api' (0 endpoints)" in err.text(), 10,
                   what="the watch to start")
        app = app_def("/svc/api", "exec sleep 300", instances=2, portDefinitions=[{"port": 0}])
        assert m.api.post("/v2/apps", app).status_code == 201
        ts = m.api.wait_running("/svc/api", 2)
        lines = wait_until(lambda: [l for l in out.text().splitlines() if l.startswith("+ ")]
                           if out.text().count("+ ") == 2 else None, 10, what="2 added")
        for t in ts:
            assert "+ %s %s 127.0.0.1 %d" % (t["id"], t["host"], t["ports"][0]) in lines
        r = requests.get(m.url + "/v2/services/svc/api", timeout=10).json()
        assert sorted(e["taskId"] for e in r["endpoints"]) == sorted(t["id"] for t in ts)
        assert set(r["endpoints"][0]) == {"appId", "taskId", "host", "ipAddress", "ports"}
        # A killed task leaves; its replacement comes.
        victim = ts[0]["id"]
        assert m.api.delete("/v2/apps/svc/api/tasks/%s" % victim).status_code == 200
        wait_until(lambda: ("- %s " % victim) in out.text(), 10, what="removed")
        wait_until(lambda: out.text().count("+ ") == 3, 20, what="replacement added")
        # The CLI without --watch: the endpoints now.
        rc, so, se = cluster.cli("discover", "svc/api")
        assert rc == 0, se
        assert len(so.splitlines()) == 2 and victim not in so
    finally:
        p.terminate()
        assert p.wait(10) == 0


def test_dev_serves_dns(cluster):
    port = free_port()
    d = cluster.dev(extra=["--dns", "127.0.0.1:%d" % port])
    dig = Dig(port)
    assert dig.a("leader.mesos") == ["127.0.0.1"]
    assert dig.srv("_leader._tcp.mesos") == [("0", "1", str(d.port), "leader.mesos.")]
    # An address given that cannot be bound fails the start (only the default is soft).
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    try:
        out = subprocess.run([helpers_bin(), "master", "--dns", "127.0.0.1:%d" %
                              busy.getsockname()[1], "--http", "127.0.0.1:0", "--store",
                              "sqlite:%s/y.db" % cluster.workdir], capture_output=True,
                             text=True, timeout=20)
        assert out.returncode == 1 and "cannot listen on" in out.stderr
    finally:
        busy.close()
