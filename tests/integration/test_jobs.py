"""The jobs framework (Chronos API, reference/compat.md §6, docs/jobs.md) through the real
binary: every endpoint on /scheduler and /v1/scheduler, validation, dependency chains, retries,
epsilon skips, run-now with arguments, and a master kill -9 between runs."""
import datetime
import json
import time

import pytest

from helpers import SseClient, wait_until


@pytest.fixture
def tmp_path(cluster):
    """Where the jobs' commands write what the test reads: under the test's work dir, not /tmp,
    which each task has a private one of (isolation is on by default)."""
    d = cluster.workdir / "shared"
    d.mkdir(exist_ok=True)
    return d


P = "/scheduler"
V1 = "/v1/scheduler"


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def job(api, name):
    r = api.get(P + "/job/" + name)
    assert r.status_code == 200, r.text
    return r.json()


def bad(r, words):
    assert r.status_code == 400, (r.status_code, r.text)
    b = r.json()
    assert b["status"] == "Bad Request"
    assert words in b["message"], b["message"]


# ---- the API alone (no agent) ----

def test_post_get_fields_and_unknown_fields_kept(shared_master):
    api = shared_master.m.api
    r = api.post(V1 + "/iso8601", {"name": "nightly", "command": "echo hi",
                                   "schedule": "R/2030-01-01T02:30:00Z/P1D",
                                   "scheduleTimeZone": "America/Los_Angeles",
                                   "owner": "ops@example.com", "cpus": 0.5, "mem": 64,
                                   "myExtra": {"k": [1, 2]}, "successCount": 99})
    assert r.status_code == 204 and r.text == ""
    j = job(api, "nightly")
    assert j["name"] == "nightly" and j["command"] == "echo hi"
    assert j["schedule"] == "R/2030-01-01T02:30:00.000-08:00/P1D"
    assert j["scheduleTimeZone"] == "America/Los_Angeles"
    assert j["myExtra"] == {"k": [1, 2]}
    assert j["successCount"] == 0 and j["errorCount"] == 0  # counters are output only
    assert j["lastSuccess"] == "" and j["lastError"] == "" and j["errorsSinceLastSuccess"] == 0
    assert j["retries"] == 2 and j["shell"] is True and j["disabled"] is False
    assert j["cpus"] == 0.5 and j["mem"] == 64 and j["disk"] == 256
    assert j["owner"] == "ops@example.com"
    # the same job through the 2.x path
    assert api.get(P + "/job/nightly").json() == api.get(V1 + "/job/nightly").json()
    # replaced by a POST of the same name
    assert api.post(P + "/iso8601", {"name": "nightly", "command": "echo again",
                                     "schedule": "R5/2030-01-01T00:00:00Z/PT1H"}).status_code == 204
    j = job(api, "nightly")
    assert j["command"] == "echo again" and j["schedule"] == "R5/2030-01-01T00:00:00.000Z/PT1H"
    assert "myExtra" not in j
    assert api.delete(P + "/job/nightly").status_code == 204
    bad(api.get(P + "/job/nightly"), "JobSchedule 'nightly' not found")


def test_validation_errors_change_nothing(shared_master):
    api = shared_master.m.api
    base = {"name": "v", "command": "true", "schedule": "R/2030-01-01T00:00:00Z/PT1H"}
    cases = [
        ({"schedule": "R/2030-01-01T00:00:00Z/PT0S"}, "Cannot parse schedule"),
        ({"schedule": "every day"}, "Cannot parse schedule 'every day'"),
        ({"schedule": "R/2030-02-30T00:00:00Z/P1D"}, "does not exist"),
        ({"schedule": "R/1969-01-01T00:00:00Z/P1D"}, "before 1970"),
        ({"scheduleTimeZone": "Mars/Olympus"}, "unknown scheduleTimeZone 'Mars/Olympus'"),
        ({"name": "a/b"}, "must not contain '/'"),
        ({"name": "sp ace"}, "'name' must match"),
        ({"command": 5}, "'command' must be a string"),
        ({"retries": "x"}, "'retries' must be an integer"),
        ({"epsilon": "soon"}, "'epsilon' is not an ISO 8601 duration"),
        ({"uris": ["http://x"], "fetch": [{"uri": "http://y"}]}, "both uris"),
        ({"constraints": [["rack", "NEAR", "1"]]}, "EQUALS, LIKE or UNLIKE"),
        ({"perInstance": True}, "'perInstance' needs 'app'"),
    ]
    for change, words in cases:
        body = dict(base)
        body.update(change)
        bad(api.post(P + "/iso8601", body), words)
    bad(api.post(P + "/iso8601", {"command": "true"}), "'name' is required")
    r = api.req("POST", P + "/iso8601", data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["status"] == "Bad Request"
    # dependency: parents required, must exist, no cycle
    bad(api.post(P + "/dependency", {"name": "d", "command": "true"}), "parent does not exist")
    bad(api.post(P + "/dependency", {"name": "d", "command": "true", "parents": ["nope"]}),
        "parent 'nope' does not exist")
    assert api.post(P + "/iso8601", base).status_code == 204
    assert api.post(P + "/dependency", {"name": "d1", "command": "true", "parents": ["v"]}).status_code == 204
    assert api.post(P + "/dependency", {"name": "d2", "command": "true", "parents": ["d1"]}).status_code == 204
    bad(api.post(P + "/dependency", {"name": "d1", "command": "true", "parents": ["d2"]}),
        "cycle")
    assert job(api, "d1")["parents"] == ["v"]
    names = sorted(j["name"] for j in api.get(P + "/jobs").json())
    assert names == ["d1", "d2", "v"]
    assert api.delete(V1 + "/jobs").status_code == 204
    assert api.get(P + "/jobs").json() == []


def test_summary_search_graph_leader_stats_and_reparenting(shared_master):
    api = shared_master.m.api
    assert api.post(P + "/iso8601", {"name": "load", "command": "load.sh",
                                     "description": "Nightly LOAD",
                                     "schedule": "R/2030-01-01T00:00:00Z/P1D"}).status_code == 204
    assert api.post(P + "/dependency", {"name": "report", "command": "report.sh",
                                        "parents": ["load"]}).status_code == 204
    assert api.post(P + "/dependency", {"name": "mail", "command": "mail.sh",
                                        "parents": ["report"]}).status_code == 204
    s = api.get(P + "/jobs/summary").json()
    by = {j["name"]: j for j in s["jobs"]}
    assert set(by["load"]) == {"name", "status", "state", "schedule", "parents", "disabled"}
    assert by["load"]["status"] == "fresh" and by["load"]["state"] == "idle"
    assert by["report"]["parents"] == ["load"] and by["report"]["schedule"] == ""
    # search: case-insensitive contains; any looks at name, command, description
    found = [j["name"] for j in api.get(P + "/jobs/search", params={"name": "LOA"}).json()]
    assert found == ["load"]
    found = [j["name"] for j in api.get(P + "/jobs/search", params={"command": ".sh"}).json()]
    assert found == ["load", "mail", "report"]
    found = [j["name"] for j in api.get(P + "/jobs/search", params={"any": "nightly"}).json()]
    assert found == ["load"]
    found = [j["name"] for j in api.get(P + "/jobs/search",
                                        params={"command": ".sh", "limit": 1, "offset": 1}).json()]
    assert found == ["mail"]
    bad(api.get(P + "/jobs/search", params={"limit": "-1"}), "limit")
    dot = api.get(P + "/graph/dot")
    assert dot.status_code == 200 and dot.text.startswith("digraph G {")
    assert '"load" -> "report";' in dot.text and '"report" -> "mail";' in dot.text
    csv = api.get(V1 + "/graph/csv").text.splitlines()
    assert "link,load,report" in csv and "node,load,fresh,idle" in csv
    assert api.get(P + "/leader").json() == {"leader": shared_master.m.addr}
    assert api.get(V1 + "/stats/99thPercentile").json() == []
    bad(api.get(P + "/stats/12thPercentile"), "unknown percentile")
    st = api.get(P + "/job/stat/load").json()
    assert st["histogram"]["count"] == 0 and st["taskStatHistory"] == []
    # deleting a dependent job: its children take its parents
    assert api.delete(P + "/job/report").status_code == 204
    assert job(api, "mail")["parents"] == ["load"]
    # deleting a scheduled job: its children become scheduled with its schedule
    assert api.delete(P + "/job/load").status_code == 204
    m = job(api, "mail")
    assert "parents" not in m and m["schedule"] == "R/2030-01-01T00:00:00.000Z/P1D"
    bad(api.delete(P + "/job/load"), "not found")
    bad(api.put(P + "/job/success/load"), "not found")
    bad(api.delete(P + "/task/kill/load"), "not found")
    r = api.put(P + "/job/success/mail")
    assert r.status_code == 200 and r.text == "marked job mail as successful: true"
    assert job(api, "mail")["successCount"] == 1
    assert api.delete(P + "/jobs").status_code == 204


# ---- runs (a master and an agent) ----

def wait_job(api, name, pred, timeout=30.0, what=None):
    return wait_until(lambda: (lambda j: j if pred(j) else None)(job(api, name)), timeout,
                      what=what or "job %s" % name)


def test_dependency_chain_depth_3_and_master_state(one, tmp_path):
    api = one.m.api
    out = tmp_path / "order"
    assert api.post(P + "/iso8601", {"name": "a", "command": "echo a >> %s" % out,
                                     "schedule": "R1//PT1H"}).status_code == 204
    assert api.post(P + "/dependency", {"name": "b", "command": "echo b >> %s" % out,
                                        "parents": ["a"]}).status_code == 204
    assert api.post(P + "/dependency", {"name": "c", "command": "echo c >> %s; sleep 2" % out,
                                        "parents": ["b"]}).status_code == 204

    def chronos_running():
        st = api.get("/master/state").json()
        for f in st["frameworks"]:
            if f["name"] == "chronos":
                for t in f["tasks"]:
                    if t["name"] == "ChronosTask:c" and t["state"] == "TASK_RUNNING":
                        return t
        return None
    t = wait_until(chronos_running, 30, what="c running in /master/state as chronos")
    assert t["id"].startswith("ct:") and t["id"].endswith(":0:c:")
    wait_job(api, "c", lambda j: j["successCount"] == 1)
    assert out.read_text().split() == ["a", "b", "c"]
    for n in ("a", "b", "c"):
        j = job(api, n)
        assert j["successCount"] == 1 and j["errorCount"] == 0 and j["lastSuccess"]
    # R1: a ran once and is finished
    assert job(api, "a")["schedule"].startswith("R0/")
    s = {j["name"]: j for j in api.get(P + "/jobs/summary").json()["jobs"]}
    assert s["c"]["status"] == "success"
    st = api.get(P + "/job/stat/c").json()
    assert st["histogram"]["count"] == 1 and st["histogram"]["median"] >= 1.5
    assert [x["jobNameLabel"] for x in api.get(P + "/stats/median").json()] == ["a", "b", "c"]


def test_retries_then_error_counted(one, tmp_path):
    api = one.m.api
    tries = tmp_path / "tries"
    assert api.post(P + "/iso8601", {"name": "flaky", "command": "echo x >> %s; exit 3" % tries,
                                     "retries": 2, "schedule": "R1//PT1H"}).status_code == 204
    j = wait_job(api, "flaky", lambda j: j["errorCount"] == 1)
    assert j["successCount"] == 0 and j["errorsSinceLastSuccess"] == 1 and j["lastError"]
    assert len(tries.read_text().split()) == 3  # the run and its 2 retries
    h = api.get("/api/berth/jobs/flaky/history").json()
    assert h["runs"][-1]["attempts"] == 3 and h["runs"][-1]["result"] == "TASK_FAILED"
    # a retry that succeeds counts one success
    ok = tmp_path / "ok"
    assert api.post(P + "/iso8601", {"name": "second", "retries": 1, "schedule": "R1//PT1H",
                                     "command": "test -f %s || { touch %s; exit 1; }" % (ok, ok)}
                    ).status_code == 204
    j = wait_job(api, "second", lambda j: j["successCount"] == 1)
    assert j["errorCount"] == 0
    prom = api.get("/metrics/prometheus").text
    assert 'berth_job_runs_total{result="failure"} 1' in prom, prom[-3000:]
    assert 'berth_job_runs_total{result="success"} 1' in prom
    assert "berth_job_start_delay_seconds_count 5" in prom  # 3 + 2 attempts launched


def test_epsilon_skips_missed_runs(one):
    api = one.m.api
    start = iso(time.time() - 3600 - 30)
    # every 10 minutes since an hour and 30 s ago: 6 runs missed by more than a minute are
    # skipped, the one 30 s ago (within epsilon) runs
    assert api.post(P + "/iso8601", {"name": "late", "command": "true", "epsilon": "PT1M",
                                     "schedule": "R/%s/PT10M" % start}).status_code == 204
    wait_job(api, "late", lambda j: j["successCount"] == 1)
    h = api.get("/api/berth/jobs/late/history").json()
    assert h["skipCount"] == 6 and h["pending"] == []
    assert job(api, "late")["successCount"] == 1
    nxt = datetime.datetime.strptime(h["nextRun"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    assert time.time() < nxt < time.time() + 600


def test_run_now_with_arguments(one, tmp_path):
    api = one.m.api
    out = tmp_path / "args"
    assert api.post(P + "/iso8601", {"name": "argy", "shell": False, "command": "/bin/sh",
                                     "arguments": ["-c", 'echo "$@" >> %s' % out, "sh"],
                                     "schedule": "R/2099-01-01T00:00:00Z/P1D"}).status_code == 204
    r = api.put(P + "/job/argy", params={"arguments": "hello world"})
    assert r.status_code == 204 and r.text == ""
    wait_job(api, "argy", lambda j: j["successCount"] == 1)
    assert out.read_text() == "hello world\n"
    # the schedule did not move: a manual run is not a scheduled one
    assert job(api, "argy")["schedule"] == "R/2099-01-01T00:00:00.000Z/P1D"
    bad(api.put(P + "/job/nope"), "JobSchedule 'nope' not found")


def test_kill_a_running_job(one, tmp_path):
    api = one.m.api
    assert api.post(P + "/iso8601", {"name": "long", "command": "sleep 300",
                                     "schedule": "R1//PT1H"}).status_code == 204
    wait_until(lambda: any(j["name"] == "long" and j["state"] == "1 running"
                           for j in api.get(P + "/jobs/summary").json()["jobs"]), 30,
               what="long running")
    assert api.delete(P + "/task/kill/long").status_code == 204
    j = wait_job(api, "long", lambda j: j["errorCount"] == 1)
    assert j["successCount"] == 0  # killed: an error, not retried


def test_master_kill9_between_runs_neither_loses_nor_doubles(one, tmp_path):
    api = one.m.api
    out = tmp_path / "ticks"
    start = iso(time.time() + 2)
    # concurrent: the runs missed while the master was down run late, side by side
    assert api.post(P + "/iso8601", {"name": "tick", "epsilon": "PT5M", "concurrent": True,
                                     "command": "echo $mesos_task_id >> %s" % out,
                                     "schedule": "R/%s/PT2S" % start}).status_code == 204
    wait_job(api, "tick", lambda j: j["successCount"] >= 2, timeout=30)
    one.m.restart()
    one.a.ready()
    before = time.time()

    def contiguous():
        ids = out.read_text().split()
        sched = sorted(set(int(i.split(":")[1]) for i in ids))
        if len(sched) >= 6 and sched == [sched[0] + 2000 * k for k in range(len(sched))]:
            return ids
        return None
    ids = wait_until(contiguous, 40, what="4 more runs after the restart, none lost")
    sched = [int(i.split(":")[1]) for i in ids]
    assert len(sched) == len(set(sched)), "a run twice: %s" % ids
    assert all(i.split(":")[2] == "0" for i in ids)  # no retries needed
    assert time.time() - before < 40


def test_cli_job_commands(one, tmp_path):
    c = one
    out = tmp_path / "cli-out"
    f = tmp_path / "job.json"
    f.write_text(json.dumps({"name": "clijob", "shell": False, "command": "/bin/sh",
                             "arguments": ["-c", 'echo "run $*" >> %s' % out, "sh"],
                             "schedule": "R/2099-01-01T00:00:00Z/P1D"}))
    rc, so, se = c.cli("job", "add", str(f))
    assert rc == 0, se
    assert "job 'clijob' saved" in so
    dep = tmp_path / "dep.json"
    dep.write_text(json.dumps({"name": "after", "command": "true", "parents": ["clijob"]}))
    assert c.cli("job", "add", str(dep))[0] == 0
    rc, so, se = c.cli("job", "list")
    assert rc == 0, se
    lines = so.splitlines()
    assert lines[0].split()[:4] == ["NAME", "SCHEDULE", "STATE", "LAST"]
    assert any(l.split()[:5] == ["clijob", "R/2099-01-01T00:00:00.000Z/P1D", "idle", "fresh", "0"]
               for l in lines), so
    assert any(l.startswith("after") and "after clijob" in l for l in lines), so
    rc, so, se = c.cli("job", "run", "clijob", "one", "two")
    assert rc == 0 and "job 'clijob' started" in so, se
    wait_until(lambda: out.exists() and out.read_text() == "run one two\n", 30,
               what="the CLI's run")
    wait_job(c.m.api, "after", lambda j: j["successCount"] == 1)
    rc, so, se = c.cli("job", "history", "clijob")
    assert rc == 0, se
    assert so.splitlines()[0].split() == ["SCHEDULED", "STARTED", "FINISHED", "RESULT", "ATTEMPTS",
                                          "TASK"]
    assert "TASK_FINISHED" in so and "next run: 2099-01-01T00:00:00.000Z" in so
    # the run's output stays reachable through berth logs once it has ended
    task = so.splitlines()[1].split()[-1]
    assert task.startswith("ct:") and task.endswith(":0:clijob:one_two"), task
    rc, so, se = c.cli("logs", task)
    assert rc == 0, se
    assert so == "", so  # its command wrote to a file; now one that prints
    assert c.m.api.post(P + "/iso8601", {"name": "talker", "command": "echo said-something",
                                         "schedule": "R1//PT1H"}).status_code == 204
    wait_job(c.m.api, "talker", lambda j: j["successCount"] == 1)
    t = c.m.api.get("/api/berth/jobs/talker/history").json()["runs"][0]["taskId"]
    rc, so, se = c.cli("logs", t)
    assert rc == 0 and so == "said-something\n", (so, se)
    rc, so, se = c.cli("job", "graph")
    assert rc == 0, se
    assert "clijob -> after" in so.splitlines() and "clijob (success, idle)" in so.splitlines()
    rc, so, se = c.cli("job", "list", "--json")
    assert rc == 0 and {j["name"] for j in json.loads(so)} == {"clijob", "after", "talker"}
    # errors in the API's words
    bad_file = tmp_path / "bad.json"
    bad_file.write_text(json.dumps({"name": "x/y", "command": "true"}))
    rc, so, se = c.cli("job", "add", str(bad_file))
    assert rc == 1 and "'name' must not contain '/'" in se
    rc, so, se = c.cli("job", "remove", "nope")
    assert rc == 1 and "JobSchedule 'nope' not found" in se
    rc, so, se = c.cli("job", "remove", "clijob")
    assert rc == 0 and "job 'clijob' removed" in so
    # its child became a scheduled job with its schedule
    assert job(c.m.api, "after")["schedule"] == "R/2099-01-01T00:00:00.000Z/P1D"


def test_constraints_pick_the_agent(cluster, tmp_path):
    m = cluster.master()
    agents = {"r1": cluster.agent(attributes="rack:r1", name="agent-r1"),
              "r2": cluster.agent(attributes="rack:r2", name="agent-r2")}
    api = m.api
    out = tmp_path / "where"
    for rack in ("r1", "r2"):
        assert api.post(P + "/iso8601", {"name": "on-" + rack, "schedule": "R1//PT1H",
                                         "command": "echo %s $MESOS_SANDBOX >> %s" % (rack, out),
                                         "constraints": [["rack", "EQUALS", rack]]}
                        ).status_code == 204
    assert api.post(P + "/iso8601", {"name": "nowhere", "schedule": "R1//PT1H", "command": "true",
                                     "constraints": [["rack", "LIKE", "r[3-9]"]]}).status_code == 204
    bad(api.post(P + "/iso8601", {"name": "x", "command": "true",
                                  "constraints": [["rack", "LIKE", "("]]}), "not a regular expression")
    for rack in ("r1", "r2"):
        wait_job(api, "on-" + rack, lambda j: j["successCount"] == 1)
        h = api.get("/api/berth/jobs/on-%s/history" % rack).json()
        assert h["runs"][0]["result"] == "TASK_FINISHED"
    # each ran on the agent of its rack: its sandbox is under that agent's work dir
    lines = dict(l.split(" ", 1) for l in out.read_text().splitlines())
    assert sorted(lines) == ["r1", "r2"]
    for rack, a in agents.items():
        assert lines[rack].startswith(str(a.work_dir)), (rack, lines[rack], a.work_dir)
    # the job no agent satisfies waits in the queue (recorded at the tick after it came due,
    # which a loaded machine may run after the other two finished)
    def queued():
        h = api.get("/api/berth/jobs/nowhere/history").json()
        return len(h["pending"]) == 1 and h["pending"][0]["state"] == "QUEUED" and h
    h = wait_until(queued, 10, what="the run of 'nowhere' queued")
    assert not h["runs"], h


def test_long_catch_up_in_a_zone_runs_nothing_missed(one):
    # daily in Paris since 1970: ~20,000 missed runs, skipped over several passes (each bounded),
    # none of them run
    api = one.m.api
    assert api.post(P + "/iso8601", {"name": "old", "command": "true", "epsilon": "PT1M",
                                     "schedule": "R/1970-01-02T00:00:00/P1D",
                                     "scheduleTimeZone": "Europe/Paris"}).status_code == 204

    def caught_up():
        h = api.get("/api/berth/jobs/old/history").json()
        nxt = datetime.datetime.strptime(h["nextRun"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        return h if nxt > time.time() else None
    h = wait_until(caught_up, 60, what="the schedule caught up")
    # days as Paris counts them (its date is a day ahead of UTC's from 23:00 UTC in winter)
    from zoneinfo import ZoneInfo
    today = datetime.datetime.now(ZoneInfo("Europe/Paris")).date()
    days = (today - datetime.date(1970, 1, 2)).days
    assert days - 1 <= h["skipCount"] <= days + 1, (h["skipCount"], days)
    # Nothing missed is run; only today's run may be, when the test runs within epsilon of
    # midnight in Paris (then it is due, not missed).
    def recent(e):
        at = datetime.datetime.strptime(e["scheduledAt"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        return time.time() - at < 180
    assert [e for e in h["pending"] + h["runs"] if not recent(e)] == [], h
    assert job(api, "old")["successCount"] <= 1


def test_job_runs_on_the_operator_stream(cluster):
    # The jobs framework's runs: TASK_ADDED, then TASK_UPDATED up to TASK_FINISHED.
    from test_operator_stream import OperatorStream
    m = cluster.master()
    cluster.agent()
    s = OperatorStream(m.url)
    try:
        wait_until(lambda: s.events and s.events[0], 10, what="SUBSCRIBED")
        r = m.api.post(V1 + "/iso8601", {"name": "opjob", "command": "true",
                                         "schedule": "R1//PT1H"})
        assert r.status_code == 204, r.text

        def finished():
            return [e for e in s.of("TASK_UPDATED")
                    if e["task_updated"]["state"] == "TASK_FINISHED"]
        done = wait_until(finished, 20, what="TASK_FINISHED of the job's run")
        tid = done[0]["task_updated"]["status"]["task_id"]["value"]
        assert tid.startswith("ct:") and tid.endswith(":0:opjob:")
        added = [e for e in s.of("TASK_ADDED")
                 if e["task_added"]["task"]["task_id"]["value"] == tid]
        assert len(added) == 1
        assert added[0]["task_added"]["task"]["name"] == "ChronosTask:opjob"
        kinds = [e["type"] for e in list(s.events) if tid in json.dumps(e)]
        assert kinds[0] == "TASK_ADDED" and kinds[-1] == "TASK_UPDATED", kinds
    finally:
        s.close()


def test_same_definition_posted_again_runs_nothing_twice(one, tmp_path):
    api = one.m.api
    out = tmp_path / "runs"
    body = {"name": "once", "command": "echo $mesos_task_id >> %s" % out,
            "schedule": "R2/%s/PT1H" % iso(time.time() - 10)}
    assert api.post(P + "/iso8601", body).status_code == 204
    wait_job(api, "once", lambda j: j["successCount"] == 1)
    assert api.post(P + "/iso8601", body).status_code == 204  # unchanged: nothing runs again
    body2 = dict(body, command=body["command"] + " # changed")
    assert api.post(P + "/iso8601", body2).status_code == 204  # same schedule, new command
    j = job(api, "once")
    assert j["schedule"].startswith("R1/") and j["command"].endswith("# changed")
    assert j["successCount"] == 1
    assert api.get("/api/berth/jobs/once/history").json()["pending"] == []
    # a run now goes through (so the pass has run since the re-posts), and only it
    assert api.put(P + "/job/once").status_code == 204
    wait_job(api, "once", lambda j: j["successCount"] >= 2)
    assert job(api, "once")["successCount"] == 2
    assert len(out.read_text().split()) == 2


def test_job_run_events_on_marathon_bus(one, tmp_path):
    api = one.m.api
    sse = SseClient(one.m.url, types=("job_run_launched_event", "job_run_finished_event",
                                      "job_run_skipped_event"))
    every = SseClient(one.m.url)  # no filter: Marathon's types only (berth's are opt-in)
    try:
        assert sse.status == 200
        ok = tmp_path / "ok"
        assert api.post(P + "/iso8601", {
            "name": "evjob", "retries": 1, "schedule": "R1//PT1H",
            "command": "test -f %s || { touch %s; exit 1; }" % (ok, ok)}).status_code == 204
        fin = sse.wait_for(lambda t, d: t == "job_run_finished_event" and
                           d["jobName"] == "evjob", 30, what="evjob finished")
        assert fin["result"] == "success" and fin["taskStatus"] == "TASK_FINISHED"
        assert fin["attempts"] == 2 and fin["taskId"].startswith("ct:")
        assert fin["eventType"] == "job_run_finished_event" and fin["timestamp"]
        launched = [d for d in sse.of_type("job_run_launched_event") if d["jobName"] == "evjob"]
        assert [d["attempt"] for d in launched] == [1, 2], launched
        assert launched[1]["taskId"] == fin["taskId"] and launched[0]["manual"] is False
        assert launched[0]["scheduledAt"] == fin["scheduledAt"]
        # a failure after its retries
        assert api.post(P + "/iso8601", {"name": "evbad", "retries": 0, "command": "exit 4",
                                         "schedule": "R1//PT1H"}).status_code == 204
        bad_ = sse.wait_for(lambda t, d: t == "job_run_finished_event" and
                            d["jobName"] == "evbad", 30, what="evbad finished")
        assert bad_["result"] == "failure" and bad_["taskStatus"] == "TASK_FAILED"
        # runs missed by more than epsilon are skipped, with an event
        start = iso(time.time() - 3600 - 30)
        assert api.post(P + "/iso8601", {"name": "evlate", "command": "true", "epsilon": "PT1M",
                                         "schedule": "R/%s/PT10M" % start}).status_code == 204
        sk = sse.wait_for(lambda t, d: t == "job_run_skipped_event" and
                          d["jobName"] == "evlate", 30, what="evlate skipped")
        assert sk["count"] == 6 and sk["reason"] == "missed"
        # nothing else leaks through the filter
        assert {t for t, _, _ in sse.snapshot()} <= {"job_run_launched_event",
                                                     "job_run_finished_event",
                                                     "job_run_skipped_event"}
        every.wait_for(lambda t, d: t == "event_stream_attached", 10)
        assert not [t for t, _, _ in every.snapshot() if t.startswith("job_run_")]
    finally:
        sse.close()
        every.close()


def test_fetch_and_uris_downloaded_into_the_run_sandbox(one, tmp_path):
    import io
    import tarfile
    api = one.m.api
    www = tmp_path / "www"
    www.mkdir()
    with tarfile.open(www / "pkg.tgz", "w:gz") as tf:
        data = b"from the tarball\n"
        info = tarfile.TarInfo("pkg/data.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    (www / "tool.sh").write_text("#!/bin/sh\necho tool ran\n")
    out = tmp_path / "out"
    assert api.post(P + "/iso8601", {
        "name": "fetchy", "schedule": "R1//PT1H", "retries": 0,
        "fetch": [{"uri": "file://%s" % (www / "tool.sh"), "executable": True,
                   "cache": False}],
        "command": "./tool.sh > %s" % out}).status_code == 204
    j = wait_job(api, "fetchy", lambda j: j["successCount"] + j["errorCount"] == 1)
    assert j["successCount"] == 1, j
    assert out.read_text() == "tool ran\n"
    assert api.post(P + "/iso8601", {
        "name": "urisy", "schedule": "R1//PT1H", "retries": 0,
        "uris": [str(www / "pkg.tgz"), "file://%s" % (www / "tool.sh")],
        "command": "sh ./tool.sh > %s && cat pkg/data.txt >> %s" % (out, out)}).status_code == 204
    j = wait_job(api, "urisy", lambda j: j["successCount"] + j["errorCount"] == 1)
    assert j["successCount"] == 1, j
    assert out.read_text() == "tool ran\nfrom the tarball\n"
    # a URI that cannot be fetched fails the run
    assert api.post(P + "/iso8601", {
        "name": "nofetch", "schedule": "R1//PT1H", "retries": 0, "command": "true",
        "uris": [str(www / "missing.tgz")]}).status_code == 204
    j = wait_job(api, "nofetch", lambda j: j["errorCount"] == 1)
    h = api.get("/api/berth/jobs/nofetch/history").json()
    assert h["runs"][-1]["result"] == "TASK_FAILED"


def test_soft_error_still_runs_the_children(one, tmp_path):
    api = one.m.api
    out = tmp_path / "soft"
    for name, soft in (("hard", False), ("soft", True)):
        assert api.post(P + "/iso8601", {"name": name, "command": "exit 1", "retries": 0,
                                         "softError": soft, "schedule": "R/2099-01-01T00:00:00Z/P1D"}
                        ).status_code == 204
        assert api.post(P + "/dependency", {"name": name + "-child", "parents": [name],
                                            "command": "echo %s >> %s" % (name, out)}
                        ).status_code == 204
    assert api.put(P + "/job/hard").status_code == 204
    wait_job(api, "hard", lambda j: j["errorCount"] == 1)
    assert api.put(P + "/job/soft").status_code == 204
    wait_job(api, "soft", lambda j: j["errorCount"] == 1)
    # the soft one's child runs (Chronos: a softError failure processes the dependents)
    wait_job(api, "soft-child", lambda j: j["successCount"] == 1)
    assert out.read_text() == "soft\n"
    # and the hard one's child did not: its history has no run, nothing queued
    h = api.get("/api/berth/jobs/hard-child/history").json()
    assert h["runs"] == [] and h["pending"] == []
    assert job(api, "hard-child")["successCount"] == 0


def test_high_priority_runs_are_placed_first(one, tmp_path):
    api = one.m.api
    gate = tmp_path / "gate"
    order = tmp_path / "order"
    # the agent has 4 cpus: each of these jobs needs 3, so they run one at a time
    assert api.post(P + "/iso8601", {"name": "blocker", "cpus": 3, "schedule": "R1//PT1H",
                                     "command": "while [ ! -f %s ]; do sleep 0.05; done" % gate}
                    ).status_code == 204
    wait_until(lambda: any(j["name"] == "blocker" and j["state"] == "1 running"
                           for j in api.get(P + "/jobs/summary").json()["jobs"]), 30,
               what="blocker running")
    for name, hi in (("low1", False), ("low2", False), ("high", True)):
        assert api.post(P + "/iso8601", {"name": name, "cpus": 3, "highPriority": hi,
                                         "schedule": "R/2099-01-01T00:00:00Z/P1D",
                                         "command": "echo %s >> %s" % (name, order)}
                        ).status_code == 204
        assert api.put(P + "/job/" + name).status_code == 204
        wait_until(lambda: api.get("/api/berth/jobs/%s/history" % name).json()["pending"], 10,
                   what="%s queued" % name)
    gate.write_text("")
    wait_job(api, "low2", lambda j: j["successCount"] == 1)
    wait_job(api, "low1", lambda j: j["successCount"] == 1)
    o = order.read_text().split()
    assert o[0] == "high" and sorted(o[1:]) == ["low1", "low2"], o
