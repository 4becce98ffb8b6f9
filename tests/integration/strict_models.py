"""A strict-model client of Marathon's JSON, as client libraries with model classes behave:
every object is parsed into a class that raises on a key it does not know, on a required
key that is missing and on a value of the wrong type. The models are written from
reference/compat.md §10 (Marathon 1.10's RAML types and play-json writers), not from berth.

    Task.parse(obj)            -> Task (raises StrictError)
    parse_event(type, data)    -> the event's model
"""
import re

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class StrictError(Exception):
    pass


class Ts:
    """A Marathon timestamp: yyyy-MM-dd'T'HH:mm:ss.SSS'Z'."""


class Any:
    """Any JSON value (used only for nested objects whose own shape is out of scope)."""


class Null:
    """Written as null (play-json's None in Json.obj)."""


def nullable(t):
    return (t, Null)


def list_of(t):
    return [t]


def _check(path, v, t):
    if isinstance(t, tuple):  # one of several types
        errors = []
        for alt in t:
            try:
                return _check(path, v, alt)
            except StrictError as e:
                errors.append(str(e))
        raise StrictError("%s: %r matches none of %r (%s)" % (path, v, t, "; ".join(errors)))
    if isinstance(t, list):
        if not isinstance(v, list):
            raise StrictError("%s: expected an array, got %r" % (path, v))
        return [_check("%s[%d]" % (path, i), x, t[0]) for i, x in enumerate(v)]
    if t is Any:
        return v
    if t is Null:
        if v is not None:
            raise StrictError("%s: expected null, got %r" % (path, v))
        return v
    if t is Ts:
        if not isinstance(v, str) or not TS.match(v):
            raise StrictError("%s: expected a Marathon timestamp, got %r" % (path, v))
        return v
    if t is bool:
        if not isinstance(v, bool):
            raise StrictError("%s: expected a boolean, got %r" % (path, v))
        return v
    if t is int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise StrictError("%s: expected an integer, got %r" % (path, v))
        return v
    if t is float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise StrictError("%s: expected a number, got %r" % (path, v))
        return v
    if t is str:
        if not isinstance(v, str):
            raise StrictError("%s: expected a string, got %r" % (path, v))
        return v
    if t is dict:
        if not isinstance(v, dict):
            raise StrictError("%s: expected an object, got %r" % (path, v))
        return v
    if isinstance(t, type) and issubclass(t, Model):
        return t.parse(v, path)
    raise AssertionError("bad model type %r" % (t,))


class Model:
    """FIELDS: {key: type}; OPTIONAL: keys that may be left out; ONE_OF: groups of keys of
    which exactly one is present."""
    FIELDS = {}
    OPTIONAL = ()
    ONE_OF = ()

    @classmethod
    def parse(cls, obj, path=None):
        path = path or cls.__name__
        if not isinstance(obj, dict):
            raise StrictError("%s: expected an object, got %r" % (path, obj))
        unknown = sorted(set(obj) - set(cls.FIELDS))
        if unknown:
            raise StrictError("%s: unknown key(s) %s" % (path, unknown))
        grouped = {k for g in cls.ONE_OF for k in g}
        missing = sorted(k for k in cls.FIELDS
                         if k not in obj and k not in cls.OPTIONAL and k not in grouped)
        if missing:
            raise StrictError("%s: missing key(s) %s" % (path, missing))
        for g in cls.ONE_OF:
            if sum(1 for k in g if k in obj) != 1:
                raise StrictError("%s: exactly one of %s expected" % (path, g))
        self = cls()
        for k, v in obj.items():
            setattr(self, k, _check("%s.%s" % (path, k), v, cls.FIELDS[k]))
        return self


# ---- §10.1 tasks ----

class Health(Model):
    FIELDS = {"alive": bool, "consecutiveFailures": int, "firstSuccess": Ts,
              "instanceId": str, "lastSuccess": Ts, "lastFailure": Ts,
              "lastFailureCause": str}
    OPTIONAL = ("firstSuccess", "lastSuccess", "lastFailure", "lastFailureCause")


class IpAddress(Model):
    FIELDS = {"ipAddress": str, "protocol": str}

    @classmethod
    def parse(cls, obj, path=None):
        self = super().parse(obj, path)
        if self.protocol not in ("IPv4", "IPv6"):
            raise StrictError("%s.protocol: %r" % (path, self.protocol))
        return self


class LocalVolumeId(Model):
    FIELDS = {"runSpecId": str, "containerPath": str, "uuid": str, "persistenceId": str}


class CheckStatus(Model):
    FIELDS = {"http": dict, "tcp": dict, "command": dict}
    OPTIONAL = ("http", "tcp", "command")


TASK_STATES = {"TASK_ERROR", "TASK_FAILED", "TASK_FINISHED", "TASK_KILLED", "TASK_KILLING",
               "TASK_RUNNING", "TASK_STAGING", "TASK_STARTING", "TASK_UNREACHABLE",
               "TASK_UNKNOWN", "TASK_GONE", "TASK_DROPPED"}


class Task(Model):
    FIELDS = {"appId": str, "healthCheckResults": list_of(Health), "checkResult": CheckStatus,
              "host": str, "id": str, "ipAddresses": list_of(IpAddress), "ports": list_of(int),
              "servicePorts": list_of(int), "slaveId": str, "state": str, "stagedAt": Ts,
              "startedAt": Ts, "version": Ts, "localVolumes": list_of(LocalVolumeId),
              "region": str, "zone": str, "role": str}
    OPTIONAL = ("checkResult", "slaveId", "stagedAt", "startedAt", "version", "region", "zone")

    @classmethod
    def parse(cls, obj, path=None):
        self = super().parse(obj, path)
        if self.state not in TASK_STATES:
            raise StrictError("%s.state: %r" % (path or "Task", self.state))
        return self


class TaskList(Model):
    FIELDS = {"tasks": list_of(Task)}


class SingleTask(Model):
    FIELDS = {"task": Task}


# ---- apps (only what §10 needs: an App is an object with an id; its tasks are Tasks) ----

class App(Model):
    """Marathon's App; keys not checked one by one here except "tasks" and "id"."""

    @classmethod
    def parse(cls, obj, path=None):
        path = path or "App"
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            raise StrictError("%s: an app object with an id expected, got %r" % (path, obj))
        if "tasks" in obj:
            _check(path + ".tasks", obj["tasks"], list_of(Task))
        self = cls()
        self.__dict__.update(obj)
        return self


# ---- §10.2 queue ----

class QueueDelay(Model):
    FIELDS = {"timeLeftSeconds": int, "overdue": bool}


class RejectSummary(Model):
    FIELDS = {"reason": str, "declined": int, "processed": int}


class ProcessedOffersSummary(Model):
    FIELDS = {"processedOffersCount": int, "unusedOffersCount": int, "lastUnusedOfferAt": Ts,
              "lastUsedOfferAt": Ts, "rejectSummaryLastOffers": list_of(RejectSummary),
              "rejectSummaryLaunchAttempt": list_of(RejectSummary)}
    OPTIONAL = ("lastUnusedOfferAt", "lastUsedOfferAt")


class QueueItem(Model):
    # "role" (1.10) is left out by berth per §10's rule: strict clients reject it.
    FIELDS = {"count": int, "delay": QueueDelay, "since": Ts,
              "processedOffersSummary": ProcessedOffersSummary, "lastUnusedOffers": list_of(dict),
              "app": App, "pod": dict}
    OPTIONAL = ("lastUnusedOffers",)
    ONE_OF = (("app", "pod"),)


class Queue(Model):
    FIELDS = {"queue": list_of(QueueItem)}


class Versions(Model):
    FIELDS = {"versions": list_of(Ts)}


class Leader(Model):
    FIELDS = {"leader": str}


# ---- §10.3 info ----

NS = nullable(str)
NI = nullable(int)


class MarathonConfig(Model):
    FIELDS = {"access_control_allow_origin": nullable(list_of(str)), "checkpoint": bool,
              "decline_offer_duration": NI, "default_network_name": NS, "env_vars_prefix": NS,
              "executor": str, "failover_timeout": int, "features": list_of(str),
              "framework_name": str, "ha": bool, "hostname": str, "launch_token": int,
              "launch_token_refresh_interval": int, "leader_proxy_connection_timeout_ms": int,
              "leader_proxy_read_timeout_ms": int, "local_port_max": int,
              "local_port_min": int, "master": str, "max_instances_per_offer": int,
              "mesos_bridge_name": str, "mesos_heartbeat_failure_threshold": int,
              "mesos_heartbeat_interval": int, "mesos_leader_ui_url": NS, "mesos_role": NS,
              "mesos_user": NS, "new_group_enforce_role": str,
              "min_revive_offers_interval": int, "offer_matching_timeout": int,
              "on_elected_prepare_timeout": int, "reconciliation_initial_delay": int,
              "reconciliation_interval": int, "scale_apps_initial_delay": int,
              "scale_apps_interval": int, "store_cache": bool,
              "task_launch_confirm_timeout": int, "task_launch_timeout": int,
              "task_lost_expunge_initial_delay": int, "task_lost_expunge_interval": int,
              "task_reservation_timeout": int, "webui_url": NS, "maintenance_mode": bool}


class ZooKeeperConfig(Model):
    FIELDS = {"zk": str, "zk_compression": bool, "zk_compression_threshold": int,
              "zk_connection_timeout": int, "zk_max_node_size": int, "zk_max_versions": int,
              "zk_session_timeout": int, "zk_timeout": int}


class HttpConfig(Model):
    FIELDS = {"http_port": int, "https_port": int}


class Info(Model):
    FIELDS = {"name": str, "version": str, "buildref": str, "elected": bool, "leader": NS,
              "frameworkId": NS, "marathon_config": MarathonConfig,
              "zookeeper_config": ZooKeeperConfig, "http_config": HttpConfig}


# ---- §10.4 deployments ----

DEPLOYMENT_ACTIONS = {"StartApplication", "StopApplication", "ScaleApplication",
                      "RestartApplication", "StartPod", "StopPod", "ScalePod", "RestartPod",
                      "ResolveArtifacts"}


class DeploymentAction(Model):
    FIELDS = {"action": str, "app": str, "pod": str}
    ONE_OF = (("app", "pod"),)

    @classmethod
    def parse(cls, obj, path=None):
        self = super().parse(obj, path)
        if self.action not in DEPLOYMENT_ACTIONS:
            raise StrictError("%s.action: %r" % (path, self.action))
        return self


class DeploymentStep(Model):
    FIELDS = {"actions": list_of(DeploymentAction)}


class Group(Model):
    FIELDS = {"id": str, "apps": list_of(App), "groups": list_of(dict), "pods": list_of(dict),
              "dependencies": list_of(str), "version": Ts}


class GroupInfo(Model):
    """GET /v2/groups[/{id}] (Marathon 1.10's GroupInfo): apps, groups and pods only as
    embedded (embed=group.apps, group.groups, group.pods; all three by default)."""
    FIELDS = {"id": str, "apps": list_of(App), "groups": list_of(dict), "pods": list_of(dict),
              "dependencies": list_of(str), "version": Ts, "enforceRole": bool}
    OPTIONAL = ("apps", "groups", "pods")

    @classmethod
    def parse(cls, obj, path=None):
        self = super().parse(obj, path)
        path = path or cls.__name__
        self.groups = [GroupInfo.parse(g, "%s.groups[%d]" % (path, i))
                       for i, g in enumerate(getattr(self, "groups", None) or [])]
        return self


class LightPlan(Model):
    FIELDS = {"id": str, "steps": list_of(DeploymentStep), "version": Ts}


class HeavyPlan(Model):
    FIELDS = {"id": str, "original": Group, "target": Group,
              "steps": list_of(DeploymentStep), "version": Ts}


class ReadinessCheckResult(Model):
    FIELDS = {"name": str, "taskId": str, "ready": bool, "lastResponse": dict}
    OPTIONAL = ("lastResponse",)


class CurrentAction(Model):
    FIELDS = {"action": str, "app": str, "pod": str,
              "readinessCheckResults": list_of(ReadinessCheckResult)}
    ONE_OF = (("app", "pod"),)


class DeploymentInfo(Model):
    """An element of GET /v2/deployments."""
    FIELDS = {"id": str, "version": Ts, "affectedApps": list_of(str),
              "affectedPods": list_of(str), "steps": list_of(DeploymentStep),
              "currentActions": list_of(CurrentAction), "currentStep": int, "totalSteps": int}


class DeploymentResult(Model):
    FIELDS = {"version": Ts, "deploymentId": str}


# ---- §10.5 events ----

def event_model(name, fields, optional=()):
    f = {"eventType": str, "timestamp": Ts}
    f.update(fields)
    return type(name, (Model,), {"FIELDS": f, "OPTIONAL": tuple(optional)})


def plan_events(plan):
    return {
        "deployment_success": event_model("DeploymentSuccess", {"id": str, "plan": plan}),
        "deployment_failed": event_model("DeploymentFailed",
                                         {"id": str, "plan": plan, "reason": str}, ("reason",)),
        "deployment_info": event_model("DeploymentInfoEvent",
                                       {"plan": plan, "currentStep": DeploymentStep}),
        "deployment_step_success": event_model("DeploymentStepSuccess",
                                               {"plan": plan, "currentStep": DeploymentStep}),
        "deployment_step_failure": event_model("DeploymentStepFailure",
                                               {"plan": plan, "currentStep": DeploymentStep}),
    }


EVENTS = {
    "api_post_event": event_model("ApiPost", {"clientIp": str, "uri": str,
                                              "appDefinition": App}),
    "pod_created_event": event_model("PodCreated", {"clientIp": str, "uri": str}),
    "pod_updated_event": event_model("PodUpdated", {"clientIp": str, "uri": str}),
    "pod_deleted_event": event_model("PodDeleted", {"clientIp": str, "uri": str}),
    "scheduler_registered_event": event_model("SchedulerRegistered",
                                              {"frameworkId": str, "master": str}),
    "scheduler_reregistered_event": event_model("SchedulerReregistered", {"master": str}),
    "scheduler_disconnected_event": event_model("SchedulerDisconnected", {}),
    "subscribe_event": event_model("Subscribe", {"clientIp": str, "callbackUrl": str}),
    "unsubscribe_event": event_model("Unsubscribe", {"clientIp": str, "callbackUrl": str}),
    "event_stream_attached": event_model("StreamAttached", {"remoteAddress": str}),
    "event_stream_detached": event_model("StreamDetached", {"remoteAddress": str}),
    "add_health_check_event": event_model("AddHealthCheck", {"appId": str, "healthCheck": dict,
                                                             "version": Ts}),
    "remove_health_check_event": event_model("RemoveHealthCheck", {"appId": str}),
    "failed_health_check_event": event_model("FailedHealthCheck", {
        "appId": str, "healthCheck": dict, "taskId": str}),
    "health_status_changed_event": event_model("HealthStatusChanged", {
        "appId": str, "instanceId": str, "version": Ts, "alive": bool}),
    "unhealthy_instance_kill_event": event_model("UnhealthyInstanceKill", {
        "appId": str, "taskId": str, "instanceId": str, "version": Ts, "reason": str,
        "host": str, "slaveId": str}, ("slaveId",)),
    "group_change_success": event_model("GroupChangeSuccess", {"groupId": str, "version": str}),
    "group_change_failed": event_model("GroupChangeFailed", {"groupId": str, "version": str,
                                                             "reason": str}),
    "app_terminated_event": event_model("AppTerminated", {"appId": str}),
    "status_update_event": event_model("StatusUpdate", {
        "slaveId": str, "taskId": str, "taskStatus": str, "message": str, "appId": str,
        "host": str, "ipAddresses": list_of(IpAddress), "ports": list_of(int),
        "version": str}),
    "instance_changed_event": event_model("InstanceChanged", {
        "instanceId": str, "condition": str, "runSpecId": str, "agentId": NS, "host": NS,
        "runSpecVersion": Ts}),
    "instance_health_changed_event": event_model("InstanceHealthChanged", {
        "instanceId": str, "runSpecId": str, "healthy": nullable(bool),
        "runSpecVersion": Ts}),
    "unknown_instance_terminated_event": event_model("UnknownInstanceTerminated", {
        "instanceId": str, "runSpecId": str, "condition": str}),
    "framework_message_event": event_model("FrameworkMessage", {
        "executorId": str, "slaveId": str, "message": list_of(int)}),
}
HEAVY_EVENTS = dict(EVENTS, **plan_events(HeavyPlan))
LIGHT_EVENTS = dict(EVENTS, **plan_events(LightPlan))


def parse_event(event_type, data, light=False):
    models = LIGHT_EVENTS if light else HEAVY_EVENTS
    if event_type not in models:
        raise StrictError("unknown event type %r" % event_type)
    if data.get("eventType") != event_type:
        raise StrictError("%s: eventType %r" % (event_type, data.get("eventType")))
    return models[event_type].parse(data, event_type)
