"""The autoscaler's cpu metric against an agent that serves HTTPS and wants a client
certificate (docs/security.md, "TLS"): the master calls the agent's /monitor/statistics with
its own --tls-ca, --tls-cert and --tls-key (as its sandbox proxy does) and the leading
master's token, and the app scales on the cgroup CPU use. Through the real binary, with
certificates made by openssl."""
import os
import time

import requests

from helpers import Api, app_def, wait_until
from test_agent_tls import pki, tls_agent, tls_master  # noqa: F401 - pki is a fixture
from test_autoscale import BURNER


def test_cpu_metric_from_an_mtls_agent(cluster, pki, tmp_path):
    from test_isolation import need, remove_cgroups
    need("cpu", "cpuacct")
    parent = "berth-itest-astls-%d" % os.getpid()
    try:
        m = tls_master(cluster, pki)
        a = tls_agent(cluster, m, pki, cert=pki["agent"],
                      extra=["--isolation", "cgroups", "--cgroups-parent", parent,
                             "--cgroups-enable-cfs"])
        api = Api(m.url)
        api.s.verify = pki["ca"]
        api.s.cert = pki["client"]
        api.s.trust_env = False  # a CA bundle from the environment would win over verify
        wait_until(lambda: [s for s in api.get("/master/slaves").json()["slaves"]
                            if s["active"]], 20, what="agent registered over TLS")
        # The agent's statistics want a client certificate: none, no answer.
        try:
            r = requests.get(a.url + "/monitor/statistics", verify=pki["ca"], timeout=5)
            refused = r.status_code >= 400
        except requests.RequestException:
            refused = True
        assert refused
        burner = tmp_path / "burn.py"
        burner.write_text(BURNER)
        load = tmp_path / "load"
        load.write_text("0")
        d = app_def("/tlscpu", "exec python3 %s %s" % (burner, load), cpus=0.1, mem=64)
        d["labels"] = {"BERTH_AUTOSCALE_METRIC": "cpu", "BERTH_AUTOSCALE_TARGET": "0.5",
                       "BERTH_AUTOSCALE_MIN": "1", "BERTH_AUTOSCALE_MAX": "2",
                       "BERTH_AUTOSCALE_COOLDOWN": "1", "BERTH_AUTOSCALE_INTERVAL": "1"}
        r = api.post("/v2/apps", d)
        assert r.status_code == 201, r.text
        api.wait_running("/tlscpu", 1, timeout=30)

        def status():
            return api.get("/api/berth/autoscale/tlscpu").json()
        wait_until(lambda: status()["lastSamples"] >= 1, 20,
                   what="a cpu sample over mutual TLS")
        time.sleep(1.5)
        st = status()
        assert st["lastValue"] < 0.5, st
        assert api.app("/tlscpu")["instances"] == 1
        load.write_text("1")
        wait_until(lambda: api.app("/tlscpu")["instances"] == 2, 30,
                   what="scale-up on cpu over mutual TLS")
        load.write_text("0")
        wait_until(lambda: api.app("/tlscpu")["instances"] == 1, 40,
                   what="scale-down on cpu over mutual TLS")
        assert "certificate" not in (status().get("lastError") or "")
    finally:
        remove_cgroups(parent)
