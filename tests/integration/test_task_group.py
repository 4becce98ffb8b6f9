"""LAUNCH_GROUP's kill-together (issue 19, docs/scheduler-api.md): as under Mesos's default
executor, a KILL of one task of a group, or one task ending other than TASK_FINISHED, kills
the group's other tasks; a task that finishes leaves the others running. The group runs
under one default executor (test_default_executor.py)."""
import helpers
from mesos_client import Framework, command_task


def env():
    return {helpers.TAG_VAR: helpers.current_tag()}


def launch_group(fw, offer, tasks, also=()):
    """ACCEPT with LAUNCH_GROUP of tasks, and a plain LAUNCH of the tasks in also."""
    ops = [{"type": "LAUNCH_GROUP", "launch_group": {
        "executor": {"type": "DEFAULT", "executor_id": {"value": "ex"}, "resources": []},
        "task_group": {"tasks": tasks}}}]
    if also:
        ops.append({"type": "LAUNCH", "launch": {"task_infos": list(also)}})
    r = fw.call({"type": "ACCEPT", "accept": {
        "offer_ids": [{"value": offer["id"]["value"]}],
        "operations": ops,
        "filters": {"refuse_seconds": 0}}})
    assert r.status_code == 202, r.text


def test_kill_of_one_task_kills_its_group(one):
    fw = Framework(one.m.url)
    fw.subscribe()
    o = fw.wait_offers()[0]
    # A plain task beside the group is not part of it.
    launch_group(fw, o, [command_task("k1", o, "exec sleep 300", cpus=0.1, env=env()),
                         command_task("k2", o, "exec sleep 300", cpus=0.1, env=env())],
                 also=[command_task("solo", o, "exec sleep 300", cpus=0.1, env=env())])
    for t in ("k1", "k2", "solo"):
        helpers.wait_until(lambda: [e for e in fw.all_events if e["type"] == "UPDATE"
                                    and e["update"]["status"]["task_id"]["value"] == t
                                    and e["update"]["status"]["state"] == "TASK_RUNNING"],
                           timeout=20, what="%s running" % t)
    assert fw.kill("k1").status_code == 202
    for t in ("k1", "k2"):
        helpers.wait_until(lambda: [e for e in fw.all_events if e["type"] == "UPDATE"
                                    and e["update"]["status"]["task_id"]["value"] == t
                                    and e["update"]["status"]["state"] == "TASK_KILLED"],
                           timeout=20, what="%s killed" % t)
    assert [e for e in fw.all_events if e["type"] == "UPDATE"
            and e["update"]["status"]["task_id"]["value"] == "solo"
            and e["update"]["status"]["state"] not in ("TASK_STARTING", "TASK_RUNNING")] == []


def test_failed_task_kills_its_group_finished_does_not(one):
    fw = Framework(one.m.url)
    fw.subscribe()
    o = fw.wait_offers()[0]
    launch_group(fw, o, [command_task("f1", o, "sleep 1; exit 0", cpus=0.1, env=env()),
                         command_task("f2", o, "sleep 2; exit 1", cpus=0.1, env=env()),
                         command_task("f3", o, "exec sleep 300", cpus=0.1, env=env())])
    fw.wait_update("f1", "TASK_FINISHED")
    fw.wait_update("f2", "TASK_FAILED")
    fw.wait_update("f3", "TASK_KILLED")
    # f3 was still running when f1 finished: only f2's failure killed it.
    states = [e["update"]["status"]["state"] for e in fw.all_events if e["type"] == "UPDATE"
              and e["update"]["status"]["task_id"]["value"] == "f3"]
    assert "TASK_KILLED" in states and states.index("TASK_KILLED") > states.index("TASK_RUNNING")
