/* Pure helpers of the agent, unit tested without sockets. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A task id usable as a directory name: 1..255 bytes, not "." or "..", no '/', no control
 * characters. */
bool agent_task_id_valid(const char *id);

/* MemTotal from /proc/meminfo text, in MiB. 0 or -EINVAL. */
int agent_meminfo_total_mib(const char *text, uint64_t *out);
/* Resources the agent offers when --resources is absent: the given cpus, mem minus a reserve
 * of min(1 GiB, half), disk, ports [31000-32000]. Mesos syntax, malloc'd. */
char *agent_resources_default(unsigned ncpus, uint64_t mem_mib, uint64_t disk_mib);
/* Measures this machine (online cpus, /proc/meminfo, free space on work_dir's filesystem)
 * and returns agent_resources_default's string. Never NULL: what cannot be measured is 0
 * (cpus at least 1). */
char *agent_resources_measure(const char *work_dir);

/* "Command terminated by signal SIGSEGV" style name: "SIGSEGV", or "signal 77". buf holds
 * at least 32 bytes. */
const char *agent_signal_name(int sig, char *buf, size_t size);
