"""A small protobuf codec for the tests, written from Mesos's documented field numbers
(include/mesos/v1/mesos.proto, scheduler/scheduler.proto) independently of berth's .proto
files: a message is encoded from and decoded to Mesos's JSON form (field names as keys, enums
by name, bytes as base64), as a Java or Go client's protobuf bytes would be."""
import base64
import struct

# message -> {field name: (number, kind, repeated)}; kind: a scalar kind, ("msg", name) or
# ("enum", name)
I, U, D, B, S, Y = "int", "uint", "double", "bool", "string", "bytes"
M = lambda n: ("msg", n)  # noqa: E731
E = lambda n: ("enum", n)  # noqa: E731
ID = {"value": (1, S, False)}
SCHEMA = {
    "ID": ID,
    "Address": {"hostname": (1, S, False), "ip": (2, S, False), "port": (3, I, False)},
    "MasterInfo": {"id": (1, S, False), "ip": (2, U, False), "port": (3, U, False),
                   "pid": (4, S, False), "hostname": (5, S, False), "version": (6, S, False),
                   "address": (7, M("Address"), False)},
    "Capability": {"type": (1, E("Capability"), False)},
    "URL": {"scheme": (1, S, False), "address": (2, M("Address"), False),
            "path": (3, S, False)},
    "FrameworkInfo": {"user": (1, S, False), "name": (2, S, False), "id": (3, M("ID"), False),
                      "failover_timeout": (4, D, False), "checkpoint": (5, B, False),
                      "hostname": (7, S, False), "principal": (8, S, False),
                      "capabilities": (10, M("Capability"), True), "roles": (12, S, True)},
    "Scalar": {"value": (1, D, False)},
    "Range": {"begin": (1, U, False), "end": (2, U, False)},
    "Ranges": {"range": (1, M("Range"), True)},
    "Set": {"item": (1, S, True)},
    "Text": {"value": (1, S, False)},
    "AllocationInfo": {"role": (1, S, False)},
    "Resource": {"name": (1, S, False), "type": (2, E("ValueType"), False),
                 "scalar": (3, M("Scalar"), False), "ranges": (4, M("Ranges"), False),
                 "set": (5, M("Set"), False), "role": (6, S, False),
                 "allocation_info": (11, M("AllocationInfo"), False)},
    "Attribute": {"name": (1, S, False), "type": (2, E("ValueType"), False),
                  "scalar": (3, M("Scalar"), False), "ranges": (4, M("Ranges"), False),
                  "text": (5, M("Text"), False), "set": (6, M("Set"), False)},
    "Offer": {"id": (1, M("ID"), False), "framework_id": (2, M("ID"), False),
              "agent_id": (3, M("ID"), False), "hostname": (4, S, False),
              "resources": (5, M("Resource"), True), "executor_ids": (6, M("ID"), True),
              "attributes": (7, M("Attribute"), True), "url": (8, M("URL"), False),
              "allocation_info": (10, M("AllocationInfo"), False)},
    "Variable": {"name": (1, S, False), "value": (2, S, False)},
    "Environment": {"variables": (1, M("Variable"), True)},
    "CommandInfo": {"environment": (2, M("Environment"), False), "value": (3, S, False),
                    "shell": (6, B, False), "arguments": (7, S, True)},
    "Duration": {"nanoseconds": (1, I, False)},
    "KillPolicy": {"grace_period": (1, M("Duration"), False)},
    "TaskInfo": {"name": (1, S, False), "task_id": (2, M("ID"), False),
                 "agent_id": (3, M("ID"), False), "resources": (4, M("Resource"), True),
                 "command": (7, M("CommandInfo"), False),
                 "kill_policy": (12, M("KillPolicy"), False)},
    "Launch": {"task_infos": (1, M("TaskInfo"), True)},
    "Operation": {"type": (1, E("OperationType"), False), "launch": (2, M("Launch"), False)},
    "Filters": {"refuse_seconds": (1, D, False)},
    "IPAddress": {"protocol": (1, E("Protocol"), False), "ip_address": (2, S, False)},
    "NetworkInfo": {"ip_addresses": (5, M("IPAddress"), True), "name": (6, S, False)},
    "ContainerStatus": {"network_infos": (1, M("NetworkInfo"), True),
                        "executor_pid": (3, U, False), "container_id": (4, M("ID"), False)},
    "TaskStatus": {"task_id": (1, M("ID"), False), "state": (2, E("TaskState"), False),
                   "data": (3, Y, False), "message": (4, S, False),
                   "agent_id": (5, M("ID"), False), "timestamp": (6, D, False),
                   "executor_id": (7, M("ID"), False), "healthy": (8, B, False),
                   "source": (9, E("Source"), False), "reason": (10, E("Reason"), False),
                   "uuid": (11, Y, False),
                   "container_status": (13, M("ContainerStatus"), False)},
    # scheduler.proto
    "Subscribe": {"framework_info": (1, M("FrameworkInfo"), False),
                  "suppressed_roles": (2, S, True)},
    "Accept": {"offer_ids": (1, M("ID"), True), "operations": (2, M("Operation"), True),
               "filters": (3, M("Filters"), False)},
    "Decline": {"offer_ids": (1, M("ID"), True), "filters": (2, M("Filters"), False)},
    "Roles": {"roles": (1, S, True)},
    "Kill": {"task_id": (1, M("ID"), False), "agent_id": (2, M("ID"), False)},
    "Acknowledge": {"agent_id": (1, M("ID"), False), "task_id": (2, M("ID"), False),
                    "uuid": (3, Y, False)},
    "ReconcileTask": {"task_id": (1, M("ID"), False), "agent_id": (2, M("ID"), False)},
    "Reconcile": {"tasks": (1, M("ReconcileTask"), True)},
    "Call": {"framework_id": (1, M("ID"), False), "type": (2, E("CallType"), False),
             "subscribe": (3, M("Subscribe"), False), "accept": (4, M("Accept"), False),
             "decline": (5, M("Decline"), False), "kill": (6, M("Kill"), False),
             "acknowledge": (8, M("Acknowledge"), False),
             "reconcile": (9, M("Reconcile"), False), "revive": (15, M("Roles"), False),
             "suppress": (16, M("Roles"), False)},
    "Subscribed": {"framework_id": (1, M("ID"), False),
                   "heartbeat_interval_seconds": (2, D, False),
                   "master_info": (3, M("MasterInfo"), False)},
    "Offers": {"offers": (1, M("Offer"), True)},
    "Rescind": {"offer_id": (1, M("ID"), False)},
    "Update": {"status": (1, M("TaskStatus"), False)},
    "Error": {"message": (1, S, False)},
    "Event": {"type": (1, E("EventType"), False), "subscribed": (2, M("Subscribed"), False),
              "offers": (3, M("Offers"), False), "rescind": (4, M("Rescind"), False),
              "update": (5, M("Update"), False), "error": (8, M("Error"), False)},
}
ENUMS = {
    "CallType": ["UNKNOWN", "SUBSCRIBE", "TEARDOWN", "ACCEPT", "DECLINE", "REVIVE", "KILL",
                 "SHUTDOWN", "ACKNOWLEDGE", "RECONCILE", "MESSAGE", "REQUEST", "SUPPRESS",
                 "ACCEPT_INVERSE_OFFERS", "DECLINE_INVERSE_OFFERS",
                 "ACKNOWLEDGE_OPERATION_STATUS", "RECONCILE_OPERATIONS", "UPDATE_FRAMEWORK"],
    "EventType": ["UNKNOWN", "SUBSCRIBED", "OFFERS", "RESCIND", "UPDATE", "MESSAGE",
                  "FAILURE", "ERROR", "HEARTBEAT", "INVERSE_OFFERS", "RESCIND_INVERSE_OFFER",
                  "UPDATE_OPERATION_STATUS"],
    "ValueType": ["SCALAR", "RANGES", "SET", "TEXT"],
    "OperationType": ["UNKNOWN", "LAUNCH", "RESERVE", "UNRESERVE", "CREATE", "DESTROY",
                      "LAUNCH_GROUP"],
    "TaskState": ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED", "TASK_FAILED",
                  "TASK_KILLED", "TASK_LOST", "TASK_STAGING", "TASK_ERROR", "TASK_KILLING",
                  "TASK_DROPPED", "TASK_UNREACHABLE", "TASK_GONE", "TASK_GONE_BY_OPERATOR",
                  "TASK_UNKNOWN"],
    "Protocol": {1: "IPv4", 2: "IPv6"},
    "Source": ["SOURCE_MASTER", "SOURCE_AGENT", "SOURCE_EXECUTOR"],
    "Reason": {0: "REASON_COMMAND_EXECUTOR_FAILED", 1: "REASON_EXECUTOR_TERMINATED",
               9: "REASON_RECONCILIATION", 14: "REASON_TASK_INVALID",
               16: "REASON_TASK_UNKNOWN", 8: "REASON_CONTAINER_LIMITATION_MEMORY"},
    "Capability": ["UNKNOWN", "REVOCABLE_RESOURCES", "TASK_KILLING_STATE", "GPU_RESOURCES",
                   "SHARED_RESOURCES", "PARTITION_AWARE", "MULTI_ROLE"],
}


def _enum_names(name):
    e = ENUMS[name]
    return e if isinstance(e, dict) else dict(enumerate(e))


def _varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7f) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def encode(msg, obj):
    out = bytearray()
    for name, value in obj.items():
        num, kind, rep = SCHEMA[msg][name]  # KeyError: the test uses a field not listed
        for v in (value if rep else [value]):
            if isinstance(kind, tuple) and kind[0] == "msg":
                body = encode(kind[1], v)
                out += _varint(num << 3 | 2) + _varint(len(body)) + body
            elif isinstance(kind, tuple):
                code = {n: c for c, n in _enum_names(kind[1]).items()}[v]
                out += _varint(num << 3) + _varint(code)
            elif kind in (I, U):
                out += _varint(num << 3) + _varint(int(v))
            elif kind == B:
                out += _varint(num << 3) + _varint(1 if v else 0)
            elif kind == D:
                out += _varint(num << 3 | 1) + struct.pack("<d", float(v))
            else:
                b = v.encode() if kind == S else base64.b64decode(v)
                out += _varint(num << 3 | 2) + _varint(len(b)) + b
    return bytes(out)


def _read_varint(b, i):
    n = shift = 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 0x7f) << shift
        shift += 7
        if c < 0x80:
            return n, i


def decode(msg, b):
    """Mesos's JSON form of the bytes b of message msg; a field the schema lacks is kept as
    "#<number>" so that a test sees it."""
    by_num = {num: (name, kind, rep) for name, (num, kind, rep) in SCHEMA[msg].items()}
    out = {}
    i = 0
    while i < len(b):
        key, i = _read_varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            raw, i = _read_varint(b, i)
        elif wire == 1:
            raw, i = b[i:i + 8], i + 8
        elif wire == 5:
            raw, i = b[i:i + 4], i + 4
        elif wire == 2:
            n, i = _read_varint(b, i)
            raw, i = b[i:i + n], i + n
        else:
            raise ValueError("wire type %d" % wire)
        if num not in by_num:
            out["#%d" % num] = raw
            continue
        name, kind, rep = by_num[num]
        if isinstance(kind, tuple) and kind[0] == "msg":
            v = decode(kind[1], raw)
        elif isinstance(kind, tuple):
            v = _enum_names(kind[1]).get(raw, raw)
        elif kind == I:
            v = raw - (1 << 64) if raw >= 1 << 63 else raw
        elif kind == U:
            v = raw
        elif kind == B:
            v = bool(raw)
        elif kind == D:
            v = struct.unpack("<d", raw)[0]
        elif kind == S:
            v = raw.decode()
        else:
            v = base64.b64encode(raw).decode()
        if rep:
            out.setdefault(name, []).append(v)
        else:
            out[name] = v
    return out
