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
                      "role": (6, S, False), "hostname": (7, S, False),
                      "principal": (8, S, False), "webui_url": (9, S, False),
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
                 "disk": (7, M("DiskInfo"), False),
                 "reservation": (8, M("ReservationInfo"), False),
                 "allocation_info": (11, M("AllocationInfo"), False),
                 "reservations": (13, M("ReservationInfo"), True)},
    "ReservationInfo": {"principal": (1, S, False), "labels": (2, M("Labels"), False),
                        "role": (3, S, False), "type": (4, E("ReservationType"), False)},
    "Persistence": {"id": (1, S, False), "principal": (2, S, False)},
    "DiskVolume": {"container_path": (1, S, False), "host_path": (2, S, False),
                   "mode": (3, E("VolumeMode"), False)},
    "DiskInfo": {"persistence": (1, M("Persistence"), False),
                 "volume": (2, M("DiskVolume"), False)},
    "Attribute": {"name": (1, S, False), "type": (2, E("ValueType"), False),
                  "scalar": (3, M("Scalar"), False), "ranges": (4, M("Ranges"), False),
                  "text": (5, M("Text"), False), "set": (6, M("Set"), False)},
    "Offer": {"id": (1, M("ID"), False), "framework_id": (2, M("ID"), False),
              "agent_id": (3, M("ID"), False), "hostname": (4, S, False),
              "resources": (5, M("Resource"), True), "executor_ids": (6, M("ID"), True),
              "attributes": (7, M("Attribute"), True), "url": (8, M("URL"), False),
              "allocation_info": (10, M("AllocationInfo"), False)},
    "Variable": {"name": (1, S, False), "value": (2, S, False),
                 "type": (3, E("VariableType"), False), "secret": (4, M("Secret"), False)},
    "SecretRef": {"name": (1, S, False), "key": (2, S, False)},
    "SecretValue": {"data": (1, Y, False)},
    "Secret": {"type": (1, E("SecretType"), False), "reference": (2, M("SecretRef"), False),
               "value": (3, M("SecretValue"), False)},
    "Parameter": {"key": (1, S, False), "value": (2, S, False)},
    "PortMapping": {"host_port": (1, U, False), "container_port": (2, U, False),
                    "protocol": (3, S, False)},
    "DockerInfo": {"image": (1, S, False), "network": (2, E("DockerNetwork"), False),
                   "port_mappings": (3, M("PortMapping"), True), "privileged": (4, B, False),
                   "parameters": (5, M("Parameter"), True),
                   "force_pull_image": (6, B, False)},
    "ImageDocker": {"name": (1, S, False)},
    "Image": {"type": (1, E("ImageType"), False), "docker": (3, M("ImageDocker"), False),
              "cached": (4, B, False)},
    "MesosInfo": {"image": (1, M("Image"), False)},
    "HostPath": {"path": (1, S, False)},
    "VolumeSource": {"type": (1, E("VolumeSourceType"), False),
                     "host_path": (5, M("HostPath"), False)},
    "Volume": {"mode": (3, E("VolumeMode"), False), "container_path": (1, S, False),
               "host_path": (2, S, False), "image": (4, M("Image"), False),
               "source": (5, M("VolumeSource"), False)},
    "ContainerInfo": {"type": (1, E("ContainerType"), False), "volumes": (2, M("Volume"), True),
                      "hostname": (4, S, False), "docker": (3, M("DockerInfo"), False),
                      "mesos": (5, M("MesosInfo"), False),
                      "network_infos": (7, M("NetworkInfo"), True)},
    "HTTPCheckInfo": {"protocol": (5, E("Protocol"), False), "scheme": (3, S, False),
                      "port": (1, U, False), "path": (2, S, False), "statuses": (4, U, True)},
    "TCPCheckInfo": {"protocol": (2, E("Protocol"), False), "port": (1, U, False)},
    "HealthCheck": {"delay_seconds": (2, D, False), "interval_seconds": (3, D, False),
                    "timeout_seconds": (4, D, False), "consecutive_failures": (5, U, False),
                    "grace_period_seconds": (6, D, False), "type": (8, E("CheckType"), False),
                    "command": (7, M("CommandInfo"), False),
                    "http": (1, M("HTTPCheckInfo"), False), "tcp": (9, M("TCPCheckInfo"), False)},
    "CheckCommand": {"command": (1, M("CommandInfo"), False)},
    "CheckInfo": {"type": (1, E("CheckType"), False), "command": (2, M("CheckCommand"), False),
                  "delay_seconds": (4, D, False), "interval_seconds": (5, D, False),
                  "timeout_seconds": (6, D, False)},
    "Environment": {"variables": (1, M("Variable"), True)},
    "CommandInfo": {"environment": (2, M("Environment"), False), "value": (3, S, False),
                    "shell": (6, B, False), "arguments": (7, S, True)},
    "Duration": {"nanoseconds": (1, I, False)},
    "KillPolicy": {"grace_period": (1, M("Duration"), False)},
    "TaskInfo": {"name": (1, S, False), "task_id": (2, M("ID"), False),
                 "agent_id": (3, M("ID"), False), "resources": (4, M("Resource"), True),
                 "command": (7, M("CommandInfo"), False),
                 "container": (9, M("ContainerInfo"), False),
                 "health_check": (8, M("HealthCheck"), False),
                 "check": (13, M("CheckInfo"), False),
                 "kill_policy": (12, M("KillPolicy"), False)},
    "Launch": {"task_infos": (1, M("TaskInfo"), True)},
    "Operation": {"type": (1, E("OperationType"), False), "launch": (2, M("Launch"), False),
                  "reserve": (3, M("OpResources"), False),
                  "unreserve": (4, M("OpResources"), False),
                  "create": (5, M("OpVolumes"), False), "destroy": (6, M("OpVolumes"), False),
                  "id": (12, M("ID"), False)},
    "OpResources": {"resources": (1, M("Resource"), True), "source": (2, M("Resource"), True)},
    "OpVolumes": {"volumes": (1, M("Resource"), True)},
    "Filters": {"refuse_seconds": (1, D, False)},
    "IPAddress": {"protocol": (1, E("Protocol"), False), "ip_address": (2, S, False)},
    "NetworkInfo": {"ip_addresses": (5, M("IPAddress"), True), "name": (6, S, False),
                    "port_mappings": (7, M("PortMapping"), True)},
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
             "suppress": (16, M("Roles"), False), "shutdown": (7, M("Shutdown"), False),
             "message": (10, M("SchedMessage"), False),
             "request": (11, M("RequestCall"), False),
             "acknowledge_operation_status": (17, M("AckOp"), False),
             "reconcile_operations": (18, M("ReconcileOps"), False),
             "update_framework": (19, M("Subscribe"), False),
             "accept_inverse_offers": (13, M("InverseCall"), False),
             "decline_inverse_offers": (14, M("InverseCall"), False)},
    "InverseCall": {"inverse_offer_ids": (1, M("ID"), True), "filters": (2, M("Filters"), False)},
    "Shutdown": {"executor_id": (1, M("ID"), False), "agent_id": (2, M("ID"), False)},
    "SchedMessage": {"agent_id": (1, M("ID"), False), "executor_id": (2, M("ID"), False),
                     "data": (3, Y, False)},
    "Request": {"agent_id": (1, M("ID"), False), "resources": (2, M("Resource"), True)},
    "RequestCall": {"requests": (1, M("Request"), True)},
    "AckOp": {"agent_id": (1, M("ID"), False), "uuid": (3, Y, False),
              "operation_id": (4, M("ID"), False)},
    "ReconcileOp": {"operation_id": (1, M("ID"), False), "agent_id": (2, M("ID"), False)},
    "ReconcileOps": {"operations": (1, M("ReconcileOp"), True)},
    "Subscribed": {"framework_id": (1, M("ID"), False),
                   "heartbeat_interval_seconds": (2, D, False),
                   "master_info": (3, M("MasterInfo"), False)},
    "Offers": {"offers": (1, M("Offer"), True)},
    "Rescind": {"offer_id": (1, M("ID"), False)},
    "Update": {"status": (1, M("TaskStatus"), False)},
    "Error": {"message": (1, S, False)},
    "Event": {"type": (1, E("EventType"), False), "subscribed": (2, M("Subscribed"), False),
              "offers": (3, M("Offers"), False), "rescind": (4, M("Rescind"), False),
              "update": (5, M("Update"), False), "error": (8, M("Error"), False),
              "inverse_offers": (9, M("InverseOffers"), False),
              "rescind_inverse_offer": (10, M("RescindInverse"), False),
              "update_operation_status": (11, M("Update2"), False)},
    "InverseOffer": {"id": (1, M("ID"), False), "url": (2, M("URL"), False),
                     "framework_id": (3, M("ID"), False), "agent_id": (4, M("ID"), False),
                     "unavailability": (5, M("Unavailability"), False),
                     "resources": (6, M("Resource"), True)},
    "InverseOffers": {"inverse_offers": (1, M("InverseOffer"), True)},
    "RescindInverse": {"inverse_offer_id": (1, M("ID"), False)},
    "UUID": {"value": (1, Y, False)},
    "OperationStatus": {"operation_id": (1, M("ID"), False),
                        "state": (2, E("OperationState"), False), "message": (3, S, False),
                        "uuid": (5, M("UUID"), False), "agent_id": (6, M("ID"), False)},
    "Update2": {"status": (1, M("OperationStatus"), False)},
}
SCHEMA.update({
    "_Entry": {"key": (1, S, False), "value": (2, "raw", False)},
    # mesos.proto, quota.proto, maintenance.proto and master.proto, for the operator API
    "Label": {"key": (1, S, False), "value": (2, S, False)},
    "Labels": {"labels": (1, M("Label"), True)},
    "ExecutorInfo": {"executor_id": (1, M("ID"), False), "command": (7, M("CommandInfo"), False),
                     "framework_id": (8, M("ID"), False), "name": (9, S, False),
                     "type": (15, E("ExecutorType"), False),
                     "resources": (5, M("Resource"), True)},
    "DPort": {"number": (1, U, False), "name": (2, S, False), "protocol": (3, S, False),
              "visibility": (4, E("Visibility"), False)},
    "DPorts": {"ports": (1, M("DPort"), True)},
    "DiscoveryInfo": {"visibility": (1, E("Visibility"), False), "name": (2, S, False),
                      "environment": (3, S, False), "location": (4, S, False),
                      "version": (5, S, False), "ports": (6, M("DPorts"), False),
                      "labels": (7, M("Labels"), False)},
    "Task": {"name": (1, S, False), "task_id": (2, M("ID"), False),
             "framework_id": (3, M("ID"), False), "executor_id": (4, M("ID"), False),
             "agent_id": (5, M("ID"), False), "state": (6, E("TaskState"), False),
             "resources": (7, M("Resource"), True), "statuses": (8, M("TaskStatus"), True),
             "status_update_state": (9, E("TaskState"), False),
             "status_update_uuid": (10, Y, False), "labels": (11, M("Labels"), False),
             "discovery": (12, M("DiscoveryInfo"), False),
             "user": (14, S, False), "kill_policy": (16, M("KillPolicy"), False)},
    "AgentCapability": {"type": (1, E("AgentCapability"), False)},
    "AgentInfo": {"hostname": (1, S, False), "port": (8, I, False),
                  "resources": (3, M("Resource"), True), "attributes": (5, M("Attribute"), True),
                  "id": (6, M("ID"), False)},
    "TimeInfo": {"nanoseconds": (1, I, False)},
    "DrainConfig": {"max_grace_period": (1, M("Duration"), False), "mark_gone": (2, B, False)},
    "DrainInfo": {"state": (1, E("DrainState"), False), "config": (2, M("DrainConfig"), False)},
    "Agent": {"agent_info": (1, M("AgentInfo"), False), "active": (2, B, False),
              "version": (3, S, False), "pid": (4, S, False),
              "registered_time": (5, M("TimeInfo"), False),
              "reregistered_time": (6, M("TimeInfo"), False),
              "total_resources": (7, M("Resource"), True),
              "allocated_resources": (8, M("Resource"), True),
              "offered_resources": (9, M("Resource"), True),
              "capabilities": (10, M("AgentCapability"), True), "deactivated": (12, B, False),
              "drain_info": (13, M("DrainInfo"), False)},
    "Framework": {"framework_info": (1, M("FrameworkInfo"), False), "active": (2, B, False),
                  "connected": (3, B, False), "registered_time": (4, M("TimeInfo"), False),
                  "reregistered_time": (5, M("TimeInfo"), False),
                  "unregistered_time": (6, M("TimeInfo"), False),
                  "offers": (7, M("Offer"), True),
                  "allocated_resources": (9, M("Resource"), True),
                  "offered_resources": (10, M("Resource"), True), "recovered": (11, B, False)},
    "Executor": {"executor_info": (1, M("ExecutorInfo"), False), "agent_id": (2, M("ID"), False)},
    "WeightInfo": {"weight": (1, D, False), "role": (2, S, False)},
    "VersionInfo": {"version": (1, S, False), "build_date": (2, S, False),
                    "build_time": (3, D, False), "build_user": (4, S, False),
                    "git_sha": (5, S, False), "git_branch": (6, S, False),
                    "git_tag": (7, S, False)},
    "Flag": {"name": (1, S, False), "value": (2, S, False)},
    "Role": {"name": (1, S, False), "weight": (2, D, False), "frameworks": (3, M("ID"), True),
             "resources": (4, M("Resource"), True)},
    "Metric": {"name": (1, S, False), "value": (2, D, False)},
    "FileInfo": {"path": (1, S, False), "nlink": (2, I, False), "size": (3, U, False),
                 "mtime": (4, M("TimeInfo"), False), "mode": (5, U, False),
                 "uid": (6, S, False), "gid": (7, S, False)},
    "MachineID": {"hostname": (1, S, False), "ip": (2, S, False)},
    "Unavailability": {"start": (1, M("TimeInfo"), False), "duration": (2, M("Duration"), False)},
    "Window": {"machine_ids": (1, M("MachineID"), True),
               "unavailability": (2, M("Unavailability"), False)},
    "Schedule": {"windows": (1, M("Window"), True)},
    "DrainingMachine": {"id": (1, M("MachineID"), False)},
    "ClusterStatus": {"draining_machines": (1, M("DrainingMachine"), True),
                      "down_machines": (2, M("MachineID"), True)},
    "QuotaInfo": {"role": (1, S, False), "principal": (2, S, False),
                  "guarantee": (3, M("Resource"), True)},
    "QuotaConfig": {"role": (1, S, False), "guarantees": (2, ("map", "Scalar"), True),
                    "limits": (3, ("map", "Scalar"), True)},
    "QuotaStatus": {"infos": (1, M("QuotaInfo"), True), "configs": (2, M("QuotaConfig"), True)},
    "MasterCall": {"type": (1, E("MasterCallType"), False),
                   "get_metrics": (2, M("GetMetricsCall"), False),
                   "set_logging_level": (3, M("SetLoggingLevel"), False),
                   "list_files": (4, M("PathCall"), False), "read_file": (5, M("ReadFile"), False),
                   "update_weights": (6, M("GetWeights"), False),
                   "update_quota": (20, M("UpdateQuota"), False),
                   "teardown": (16, M("Teardown"), False),
                   "reserve_resources": (7, M("AgentResources"), False),
                   "unreserve_resources": (8, M("AgentResources"), False),
                   "create_volumes": (9, M("AgentVolumes"), False),
                   "destroy_volumes": (10, M("AgentVolumes"), False),
                   "update_maintenance_schedule": (11, M("ScheduleCall"), False),
                   "start_maintenance": (12, M("Machines"), False),
                   "stop_maintenance": (13, M("Machines"), False),
                   "mark_agent_gone": (17, M("AgentCall"), False),
                   "drain_agent": (21, M("DrainAgent"), False),
                   "deactivate_agent": (22, M("AgentCall"), False),
                   "reactivate_agent": (23, M("AgentCall"), False)},
    "AgentResources": {"agent_id": (1, M("ID"), False), "resources": (2, M("Resource"), True),
                       "source": (3, M("Resource"), True)},
    "AgentVolumes": {"agent_id": (1, M("ID"), False), "volumes": (2, M("Resource"), True)},
    "ScheduleCall": {"schedule": (1, M("Schedule"), False)},
    "Machines": {"machines": (1, M("MachineID"), True)},
    "AgentCall": {"agent_id": (1, M("ID"), False)},
    "PbDuration": {"seconds": (1, I, False), "nanos": (2, I, False)},
    "DrainAgent": {"agent_id": (1, M("ID"), False), "max_grace_period": (2, M("PbDuration"), False),
                   "mark_gone": (3, B, False)},  # master.proto: optional bool mark_gone = 3
    "OpInfo": {"framework_id": (1, M("ID"), False), "agent_id": (2, M("ID"), False),
               "info": (3, M("Operation"), False),
               "latest_status": (4, M("OperationStatus"), False),
               "statuses": (5, M("OperationStatus"), True), "uuid": (6, M("UUID"), False)},
    "GetOperations": {"operations": (1, M("OpInfo"), True)},
    "GetMetricsCall": {"timeout": (1, M("Duration"), False)},
    "SetLoggingLevel": {"level": (1, U, False), "duration": (2, M("Duration"), False)},
    "PathCall": {"path": (1, S, False)},
    "ReadFile": {"path": (1, S, False), "offset": (2, U, False), "length": (3, U, False)},
    "UpdateQuota": {"force": (1, B, False), "quota_configs": (2, M("QuotaConfig"), True)},
    "Teardown": {"framework_id": (1, M("ID"), False)},
    "GetTasks": {"pending_tasks": (1, M("Task"), True), "tasks": (2, M("Task"), True),
                 "completed_tasks": (3, M("Task"), True), "orphan_tasks": (4, M("Task"), True),
                 "unreachable_tasks": (5, M("Task"), True)},
    "GetExecutors": {"executors": (1, M("Executor"), True),
                     "orphan_executors": (2, M("Executor"), True)},
    "GetFrameworks": {"frameworks": (1, M("Framework"), True),
                      "completed_frameworks": (2, M("Framework"), True),
                      "recovered_frameworks": (3, M("FrameworkInfo"), True)},
    "GetAgents": {"agents": (1, M("Agent"), True), "recovered_agents": (2, M("AgentInfo"), True)},
    "GetState": {"get_tasks": (1, M("GetTasks"), False),
                 "get_executors": (2, M("GetExecutors"), False),
                 "get_frameworks": (3, M("GetFrameworks"), False),
                 "get_agents": (4, M("GetAgents"), False)},
    "GetWeights": {"weight_infos": (1, M("WeightInfo"), True)},
    "Response": {"type": (1, E("ResponseType"), False),
                 "get_health": (2, M("GetHealth"), False),
                 "get_flags": (3, M("GetFlags"), False),
                 "get_version": (4, M("GetVersion"), False),
                 "get_metrics": (5, M("GetMetrics"), False),
                 "get_logging_level": (6, M("GetLoggingLevel"), False),
                 "list_files": (7, M("ListFiles"), False), "read_file": (8, M("ReadFileR"), False),
                 "get_state": (9, M("GetState"), False), "get_agents": (10, M("GetAgents"), False),
                 "get_frameworks": (11, M("GetFrameworks"), False),
                 "get_executors": (12, M("GetExecutors"), False),
                 "get_tasks": (13, M("GetTasks"), False), "get_roles": (14, M("GetRoles"), False),
                 "get_weights": (15, M("GetWeights"), False),
                 "get_master": (16, M("GetMaster"), False),
                 "get_maintenance_status": (17, M("GetMaintenanceStatus"), False),
                 "get_maintenance_schedule": (18, M("GetMaintenanceSchedule"), False),
                 "get_quota": (19, M("GetQuota"), False),
                 "get_operations": (20, M("GetOperations"), False)},
    "GetHealth": {"healthy": (1, B, False)},
    "MasterEvent": {"type": (1, E("MasterEventType"), False),
                    "subscribed": (2, M("OpSubscribed"), False),
                    "task_added": (3, M("TaskAdded"), False),
                    "task_updated": (4, M("TaskUpdated"), False),
                    "agent_added": (5, M("AgentAdded"), False),
                    "agent_removed": (6, M("AgentRemoved"), False),
                    "framework_added": (7, M("FwEvent"), False),
                    "framework_updated": (8, M("FwEvent"), False),
                    "framework_removed": (9, M("FwRemoved"), False)},
    "OpSubscribed": {"get_state": (1, M("GetState"), False),
                     "heartbeat_interval_seconds": (2, D, False)},
    "TaskAdded": {"task": (1, M("Task"), False)},
    "TaskUpdated": {"framework_id": (1, M("ID"), False), "status": (2, M("TaskStatus"), False),
                    "state": (3, E("TaskState"), False)},
    "AgentAdded": {"agent": (1, M("Agent"), False)},
    "AgentRemoved": {"agent_id": (1, M("ID"), False)},
    "FwEvent": {"framework": (1, M("Framework"), False)},
    "FwRemoved": {"framework_info": (1, M("FrameworkInfo"), False)},
    "GetFlags": {"flags": (1, M("Flag"), True)},
    "GetVersion": {"version_info": (1, M("VersionInfo"), False)},
    "GetMetrics": {"metrics": (1, M("Metric"), True)},
    "GetLoggingLevel": {"level": (1, U, False)},
    "ListFiles": {"file_infos": (1, M("FileInfo"), True)},
    "ReadFileR": {"size": (1, U, False), "data": (2, Y, False)},
    "GetRoles": {"roles": (1, M("Role"), True)},
    "GetMaster": {"master_info": (1, M("MasterInfo"), False), "start_time": (2, D, False),
                  "elected_time": (3, D, False)},
    "GetMaintenanceStatus": {"status": (1, M("ClusterStatus"), False)},
    "GetMaintenanceSchedule": {"schedule": (1, M("Schedule"), False)},
    "GetQuota": {"status": (1, M("QuotaStatus"), False)},
})
ENUMS = {
    "CallType": ["UNKNOWN", "SUBSCRIBE", "TEARDOWN", "ACCEPT", "DECLINE", "REVIVE", "KILL",
                 "SHUTDOWN", "ACKNOWLEDGE", "RECONCILE", "MESSAGE", "REQUEST", "SUPPRESS",
                 "ACCEPT_INVERSE_OFFERS", "DECLINE_INVERSE_OFFERS",
                 "ACKNOWLEDGE_OPERATION_STATUS", "RECONCILE_OPERATIONS", "UPDATE_FRAMEWORK"],
    "EventType": ["UNKNOWN", "SUBSCRIBED", "OFFERS", "RESCIND", "UPDATE", "MESSAGE",
                  "FAILURE", "ERROR", "HEARTBEAT", "INVERSE_OFFERS", "RESCIND_INVERSE_OFFER",
                  "UPDATE_OPERATION_STATUS"],
    "ValueType": ["SCALAR", "RANGES", "SET", "TEXT"],
    "VariableType": ["UNKNOWN", "VALUE", "SECRET"],
    "ReservationType": ["UNKNOWN", "STATIC", "DYNAMIC"],
    "SecretType": ["UNKNOWN", "REFERENCE", "VALUE"],
    "DockerNetwork": {1: "HOST", 2: "BRIDGE", 3: "NONE", 4: "USER"},
    "ImageType": {1: "APPC", 2: "DOCKER"},
    "VolumeMode": {1: "RW", 2: "RO"},
    "VolumeSourceType": ["UNKNOWN", "DOCKER_VOLUME", "SANDBOX_PATH", "SECRET", "HOST_PATH",
                         "CSI_VOLUME"],
    "ContainerType": {1: "DOCKER", 2: "MESOS"},
    "CheckType": ["UNKNOWN", "COMMAND", "HTTP", "TCP"],
    "OperationState": ["OPERATION_UNSUPPORTED", "OPERATION_PENDING", "OPERATION_FINISHED",
                       "OPERATION_FAILED", "OPERATION_ERROR", "OPERATION_DROPPED",
                       "OPERATION_UNREACHABLE", "OPERATION_GONE_BY_OPERATOR",
                       "OPERATION_RECOVERING", "OPERATION_UNKNOWN"],
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
    "ExecutorType": ["UNKNOWN", "DEFAULT", "CUSTOM"],
    "MasterEventType": ["UNKNOWN", "SUBSCRIBED", "TASK_ADDED", "TASK_UPDATED", "AGENT_ADDED",
                        "AGENT_REMOVED", "FRAMEWORK_ADDED", "FRAMEWORK_UPDATED",
                        "FRAMEWORK_REMOVED", "HEARTBEAT"],
    "Visibility": ["FRAMEWORK", "CLUSTER", "EXTERNAL"],
    "DrainState": ["UNKNOWN", "DRAINING", "DRAINED"],
    "AgentCapability": ["UNKNOWN", "MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT",
                        "RESOURCE_PROVIDER", "RESIZE_VOLUME", "AGENT_OPERATION_FEEDBACK",
                        "AGENT_DRAINING", "TASK_RESOURCE_LIMITS"],
    "MasterCallType": {1: "GET_HEALTH", 2: "GET_FLAGS", 3: "GET_VERSION", 4: "GET_METRICS",
                       5: "GET_LOGGING_LEVEL", 6: "SET_LOGGING_LEVEL", 7: "LIST_FILES",
                       8: "READ_FILE", 9: "GET_STATE", 10: "GET_AGENTS", 11: "GET_FRAMEWORKS",
                       12: "GET_EXECUTORS", 13: "GET_TASKS", 14: "GET_ROLES",
                       15: "GET_WEIGHTS", 16: "UPDATE_WEIGHTS", 17: "GET_MASTER",
                       23: "GET_MAINTENANCE_STATUS", 24: "GET_MAINTENANCE_SCHEDULE",
                       18: "SUBSCRIBE", 28: "GET_QUOTA", 31: "TEARDOWN", 33: "GET_OPERATIONS",
                       19: "RESERVE_RESOURCES", 20: "UNRESERVE_RESOURCES", 21: "CREATE_VOLUMES",
                       22: "DESTROY_VOLUMES", 25: "UPDATE_MAINTENANCE_SCHEDULE",
                       26: "START_MAINTENANCE", 27: "STOP_MAINTENANCE", 32: "MARK_AGENT_GONE",
                       37: "DRAIN_AGENT", 38: "DEACTIVATE_AGENT", 39: "REACTIVATE_AGENT",
                       36: "UPDATE_QUOTA"},
    "ResponseType": {1: "GET_HEALTH", 2: "GET_FLAGS", 3: "GET_VERSION", 4: "GET_METRICS",
                     5: "GET_LOGGING_LEVEL", 6: "LIST_FILES", 7: "READ_FILE", 8: "GET_STATE",
                     9: "GET_AGENTS", 10: "GET_FRAMEWORKS", 11: "GET_EXECUTORS",
                     12: "GET_TASKS", 13: "GET_ROLES", 14: "GET_WEIGHTS", 15: "GET_MASTER",
                     16: "GET_MAINTENANCE_STATUS", 17: "GET_MAINTENANCE_SCHEDULE",
                     18: "GET_QUOTA", 19: "GET_OPERATIONS"},
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


def _bytes_field(num, b):
    return _varint(num << 3 | 2) + _varint(len(b)) + b


def encode(msg, obj):
    out = bytearray()
    for name, value in obj.items():
        num, kind, rep = SCHEMA[msg][name]  # KeyError: the test uses a field not listed
        if isinstance(kind, tuple) and kind[0] == "map":
            for k, v in value.items():
                body = _bytes_field(1, k.encode()) + _bytes_field(2, encode(kind[1], v))
                out += _bytes_field(num, body)
            continue
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
        if isinstance(kind, tuple) and kind[0] == "map":
            entry = decode("_Entry", raw)
            value = decode(kind[1], entry.get("value", b""))
            out.setdefault(name, {})[entry.get("key", "")] = value
            continue
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
        elif kind == "raw":
            v = raw
        else:
            v = base64.b64encode(raw).decode()
        if rep:
            out.setdefault(name, []).append(v)
        else:
            out[name] = v
    return out
