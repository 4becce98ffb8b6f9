"""GET /metrics/prometheus parsed by a strict text-format parser, and GET /metrics in
Marathon's JSON shape, after a little real activity (an app with a health check, a restart,
a kill, an event subscriber)."""
import math
import re

from helpers import SseClient, app_def, is_healthy, service_cmd, wait_until

NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\s*(,|$)')
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\\n]|\\.)*")*\})?[ ]([^ ]+)'
                    r'(?:[ ](-?\d+))?$')
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def parse_value(s):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    if not re.match(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$", s):
        raise AssertionError("bad sample value %r" % s)
    return float(s)


def parse_labels(s):
    out = {}
    body = s[1:-1]
    pos = 0
    while pos < len(body):
        m = LABEL.match(body, pos)
        assert m, "bad label set %r at %d" % (s, pos)
        k, v = m.group(1), m.group(2)
        assert k not in out, "duplicate label %s in %r" % (k, s)
        out[k] = v
        pos = m.end()
        if m.group(3) == "":
            break
    return out


def parse_prometheus(text):
    """A strict parser of the text exposition format 0.0.4. Returns {family: {"type", "help",
    "samples": [(name, labels, value)]}}. Every line must be a HELP/TYPE comment, another
    comment, or a valid sample of the family last declared; names and labels are checked; a
    family is declared once, TYPE before its samples; no duplicate series."""
    assert text.endswith("\n"), "the exposition ends with a newline"
    fams = {}
    cur = None
    seen = set()
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d: %r" % (n, line)
        assert line == line.rstrip() and line, "blank or trailing space " + where
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                assert NAME.match(name), where
                f = fams.setdefault(name, {"type": None, "help": None, "samples": []})
                if parts[1] == "TYPE":
                    assert f["type"] is None, "TYPE twice " + where
                    assert not f["samples"], "TYPE after samples " + where
                    assert len(parts) == 4 and parts[3] in TYPES, where
                    f["type"] = parts[3]
                else:
                    assert f["help"] is None, "HELP twice " + where
                    f["help"] = parts[3] if len(parts) == 4 else ""
                cur = name
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample " + where
        name, lab, val = m.group(1), m.group(2), m.group(3)
        labels = parse_labels(lab) if lab else {}
        value = parse_value(val)
        assert cur is not None, "sample before any TYPE " + where
        ftype = fams[cur]["type"]
        if ftype == "histogram":
            assert name in (cur + "_bucket", cur + "_sum", cur + "_count"), where
            if name == cur + "_bucket":
                assert "le" in labels, where
        elif ftype == "summary":
            assert name in (cur, cur + "_sum", cur + "_count"), where
        else:
            assert name == cur, "sample %s outside its family %s %s" % (name, cur, where)
        key = (name, tuple(sorted(labels.items())))
        assert key not in seen, "duplicate series " + where
        seen.add(key)
        fams[cur]["samples"].append((name, labels, value))
    for name, f in fams.items():
        assert f["type"], "family %s has no TYPE" % name
        if f["type"] == "counter":
            assert all(v >= 0 for _, _, v in f["samples"]), name
        if f["type"] == "histogram":
            check_histogram(name, f["samples"])
    return fams


def check_histogram(name, samples):
    series = {}
    for sname, labels, v in samples:
        base = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
        s = series.setdefault(base, {"buckets": [], "sum": None, "count": None})
        if sname.endswith("_bucket"):
            s["buckets"].append((parse_value(labels["le"]), v))
        elif sname.endswith("_sum"):
            s["sum"] = v
        else:
            s["count"] = v
    for base, s in series.items():
        b = s["buckets"]
        assert b and s["sum"] is not None and s["count"] is not None, (name, base)
        les = [le for le, _ in b]
        assert les == sorted(les) and len(set(les)) == len(les), (name, base, les)
        assert les[-1] == math.inf, "%s %s has no +Inf bucket" % (name, base)
        counts = [c for _, c in b]
        assert all(x <= y for x, y in zip(counts, counts[1:])), "not monotone %s %s" % (name,
                                                                                       base)
        assert counts[-1] == s["count"], "%s %s: +Inf %s != _count %s" % (name, base,
                                                                          counts[-1], s["count"])
        assert s["sum"] >= 0


def value(fams, family, sample=None, **labels):
    for name, lab, v in fams[family]["samples"]:
        if name == (sample or family) and all(lab.get(k) == x for k, x in labels.items()):
            return v
    raise AssertionError("no %s %r in %s" % (sample or family, labels, fams[family]["samples"]))


def test_prometheus_is_valid_and_has_the_families(one):
    api = one.m.api
    sse = SseClient(one.m.url)
    try:
        app = app_def("/mx", service_cmd(one.workdir), instances=2,
                      healthChecks=[{"protocol": "HTTP", "intervalSeconds": 1,
                                     "gracePeriodSeconds": 5}])
        assert api.post("/v2/apps", app).status_code == 201
        wait_until(lambda: len([t for t in api.tasks("/mx") if is_healthy(t)]) == 2, 15,
                   what="2 healthy tasks")
        api.wait_no_deployments()
        t = api.tasks("/mx")[0]
        assert api.delete("/v2/apps/mx/tasks/%s" % t["id"]).status_code == 200
        wait_until(lambda: t["id"] not in [x["id"] for x in api.running("/mx")]
                   and len(api.running("/mx")) == 2, 15, what="the killed task replaced")
        assert api.get("/v2/apps/nope").status_code == 404
        r = api.get("/metrics/prometheus")
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/plain"), r.headers
        assert "version=0.0.4" in r.headers["Content-Type"]
        fams = parse_prometheus(r.text)
    finally:
        sse.close()

    want = {
        "berth_http_requests_total": "counter",
        "berth_http_request_duration_seconds": "histogram",
        "berth_tasks": "gauge",
        "berth_tasks_launched_total": "counter",
        "berth_tasks_killed_total": "counter",
        "berth_task_status_updates_total": "counter",
        "berth_health_check_results_total": "counter",
        "berth_deployments_total": "counter",
        "berth_deployments_active": "gauge",
        "berth_allocation_pass_duration_seconds": "histogram",
        "berth_agents": "gauge",
        "berth_resources": "gauge",
        "berth_resources_used": "gauge",
        "berth_store_commit_duration_seconds": "histogram",
        "berth_event_subscribers": "gauge",
        "berth_apps": "gauge",
    }
    for name, typ in want.items():
        assert name in fams, "missing %s (have %s)" % (name, sorted(fams))
        assert fams[name]["type"] == typ, (name, fams[name]["type"])
        assert fams[name]["help"], name
    # HTTP requests by route and status, with latency histograms by route
    assert value(fams, "berth_http_requests_total", method="POST", route="/v2/apps",
                 status="201") >= 1
    assert value(fams, "berth_http_requests_total", method="GET", route="/v2/apps/{id}",
                 status="404") >= 1
    assert value(fams, "berth_http_requests_total", method="DELETE",
                 route="/v2/apps/{id}/tasks/{taskId}", status="200") >= 1
    routes = {lab.get("route") for _, lab, _ in fams["berth_http_requests_total"]["samples"]}
    assert not [x for x in routes if "mx" in x or "instance-" in x], routes
    assert value(fams, "berth_http_request_duration_seconds",
                 "berth_http_request_duration_seconds_count", method="POST",
                 route="/v2/apps") >= 1
    # tasks, launches, kills, health results, deployments, agents, resources, subscribers
    assert value(fams, "berth_tasks", state="TASK_RUNNING") >= 1
    assert value(fams, "berth_tasks_launched_total") >= 3
    assert value(fams, "berth_tasks_killed_total") >= 1
    assert value(fams, "berth_task_status_updates_total", state="TASK_RUNNING") >= 2
    assert value(fams, "berth_health_check_results_total", result="healthy") >= 2
    assert value(fams, "berth_deployments_total", outcome="started") >= 1
    assert value(fams, "berth_deployments_total", outcome="success") >= 1
    assert value(fams, "berth_agents", state="connected") == 1
    assert value(fams, "berth_resources", resource="cpus", role="*") == 4
    assert value(fams, "berth_resources", resource="mem", role="*") == 4096
    assert 0.01 <= value(fams, "berth_resources_used", resource="cpus", role="*") <= 0.03
    assert value(fams, "berth_store_commit_duration_seconds",
                 "berth_store_commit_duration_seconds_count") >= 1
    assert value(fams, "berth_allocation_pass_duration_seconds",
                 "berth_allocation_pass_duration_seconds_count") >= 1
    assert value(fams, "berth_event_subscribers") == 1
    assert value(fams, "berth_apps") == 1


def test_metrics_json_has_marathons_shape(cluster):
    m = cluster.master()
    assert m.api.get("/v2/apps").status_code == 200
    r = m.api.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    j = r.json()
    for k in ("version", "counters", "gauges", "histograms", "meters", "timers"):
        assert k in j, k
    for k in ("counters", "gauges", "histograms", "meters", "timers"):
        assert isinstance(j[k], dict), k
    for name, c in j["counters"].items():
        assert isinstance(c["count"], int) and c["count"] >= 0, (name, c)
    for name, g in j["gauges"].items():
        assert isinstance(g["value"], (int, float)), (name, g)
    for name, mt in j["meters"].items():
        for k in ("count", "m1_rate", "m5_rate", "m15_rate", "mean_rate", "units"):
            assert k in mt, (name, k)
    assert j["timers"], "timers (HTTP latency, allocation, store commits)"
    for name, t in j["timers"].items():
        for k in ("count", "min", "max", "mean", "stddev", "p50", "p75", "p95", "p98", "p99",
                  "p999", "m1_rate", "mean_rate", "duration_units", "rate_units"):
            assert k in t, (name, k)
        if t["count"]:
            assert t["min"] <= t["p50"] <= t["p99"] <= t["max"], (name, t)
    assert any("http" in n and "/v2/apps" in n for n in j["timers"]), list(j["timers"])
    assert m.api.post("/metrics").status_code == 405
    assert m.api.post("/metrics/prometheus").status_code == 405
