"""Stable instance indexes and peers (issue 5, "Stable instance identity")."""
from helpers import (_proc_environ, app_def, task_pids, volumes, wait_indexes, wait_replaced, wait_until)


def task_env(task_id):
    """The environment of the task's first process (found by MESOS_TASK_ID)."""
    pids = wait_until(lambda: task_pids(task_id), 10, what="processes of %s" % task_id)
    return _proc_environ(min(pids))


def parse_peers(s):
    out = {}
    for item in filter(None, (s or "").split(",")):
        idx, hp = item.split("=", 1)
        assert idx not in out, s
        out[int(idx)] = hp
    return out


def check_peers(tasks):
    """Every task's BERTH_INSTANCE_INDEX is its index; its BERTH_PEERS names only other live
    instances, each as index=host:firstPort; the last one placed sees all the others."""
    most = 0
    for idx, t in tasks.items():
        env = task_env(t["id"])
        assert env["BERTH_INSTANCE_INDEX"] == str(idx), (env, t)
        assert env["MESOS_TASK_ID"] == t["id"]
        peers = parse_peers(env.get("BERTH_PEERS"))
        assert idx not in peers, env["BERTH_PEERS"]
        for pi, hp in peers.items():
            assert pi in tasks, (pi, env["BERTH_PEERS"], sorted(tasks))
            assert hp == "%s:%d" % (tasks[pi]["host"], tasks[pi]["ports"][0]), (hp, tasks[pi])
        most = max(most, len(peers))
    assert most == len(tasks) - 1, "no task saw all its peers"


def test_indexes_peers_and_replacement(one):
    api = one.m.api
    r = api.post("/v2/apps", app_def("/idx", "exec sleep 1000", instances=3,
                                     portDefinitions=[{"port": 0}, {"port": 0}]))
    assert r.status_code == 201, r.text
    tasks = wait_indexes(api, "/idx", [0, 1, 2])
    check_peers(tasks)

    # A replaced task keeps its index; its peers are the two others.
    old = tasks[1]
    r = api.delete("/v2/apps/idx/tasks/%s" % old["id"])
    assert r.status_code == 200, r.text
    wait_replaced(api, "/idx", old)
    tasks = wait_indexes(api, "/idx", [0, 1, 2])
    env = task_env(tasks[1]["id"])
    assert sorted(parse_peers(env["BERTH_PEERS"])) == [0, 2], env["BERTH_PEERS"]

    # CLI shows the index
    rc, out, err = one.cli("task", "list", "--app", "/idx")
    assert rc == 0, err
    assert "INDEX" in out.upper(), out


def test_scaling_reuses_the_lowest_indexes(one):
    """A stateful app (local volume): 3 -> 5 -> 2 -> 4. Scale-down stops the highest indexes
    and keeps them suspended; scale-up wakes them lowest first."""
    api = one.m.api
    app = app_def("/scl", "echo $BERTH_INSTANCE_INDEX >> data/who; exec sleep 1000",
                  container={"type": "MESOS", "volumes": [
                      {"containerPath": "data", "mode": "RW", "persistent": {"size": 4}}]})
    app["instances"] = 3
    r = api.post("/v2/apps", app)
    assert r.status_code == 201, r.text
    t3 = wait_indexes(api, "/scl", [0, 1, 2])
    pid_of = {i: t["localVolumes"][0]["persistenceId"] for i, t in t3.items()}
    check_peers(t3)

    for n, want in ((5, [0, 1, 2, 3, 4]), (2, [0, 1]), (4, [0, 1, 2, 3])):
        r = api.put("/v2/apps/scl", {"instances": n})
        assert r.status_code == 200, r.text
        tasks = wait_indexes(api, "/scl", want, timeout=30)
        api.wait_no_deployments(30)
        # GET /v2/apps/{id}/tasks is the current set
        assert sorted(t["index"] for t in api.tasks("/scl")) == want
        for i, t in tasks.items():
            p = t["localVolumes"][0]["persistenceId"]
            pid_of.setdefault(i, p)
            assert p == pid_of[i], "index %d on another volume" % i
        check_peers(tasks)
        vs = {v["index"]: v for v in volumes(api) if v["app"] == "/scl"}
        assert sorted(vs) == list(range(5 if n != 3 else 3)), vs
        for i, v in vs.items():
            assert v["state"] == ("in use" if i in want else "suspended"), vs

    # Each volume saw only its own index.
    for i, p in pid_of.items():
        who = (one.a.work_dir / "volumes" / p / "who").read_text().split()
        assert set(who) == {str(i)}, (i, who)
