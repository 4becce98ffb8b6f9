/* A task's own cgroup (docs/isolation.md): limits from the task's resources, the OOM kill
 * it may suffer, and its removal. Plain libc only: the shim and the agent both link it.
 *
 * The hierarchy is found under a root (normally /sys/fs/cgroup):
 *   v2 when <root>/cgroup.controllers exists (the unified hierarchy is mounted at root);
 *   v1 when <root>/memory exists (one mount per controller: <root>/cpu, <root>/memory, ...;
 *      cpu and cpuacct may be one mount reached through two names, which changes nothing).
 * A task's cgroup is <name> (e.g. "berth/<task id>") under each v1 controller used (cpu,
 * cpuacct, memory, pids, blkio), or under the v2 root, whose parents get the controllers
 * enabled in their cgroup.subtree_control.
 *
 * INVARIANT: the shim creates the cgroup before it forks the task and is never in it itself
 * (so an OOM kill or the pids limit only ever hits the task); the task's child joins it
 * before the exec; exec_cg_destroy kills whatever is left in it and removes it, and the shim
 * calls it before it records the end, so a task that ended leaves no cgroup. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum exec_cg_version { EXEC_CG_NONE = 0, EXEC_CG_V1 = 1, EXEC_CG_V2 = 2 };

#define EXEC_CG_MAX_PATH 512

struct exec_cg_limits {
	uint64_t cpu_shares;    /* v1 cpu.shares (1024 per cpu); v2 cpu.weight from it; 0 = none */
	uint64_t cfs_quota_us;  /* CFS quota per cfs_period_us; 0 = none */
	uint64_t cfs_period_us; /* 0 = 100000 */
	uint64_t mem_bytes;     /* memory limit, swap off; 0 = none */
	uint64_t pids_max;      /* 0 = none */
};

struct exec_cg {
	enum exec_cg_version version;
	char root[EXEC_CG_MAX_PATH];
	char name[EXEC_CG_MAX_PATH];
};

/* Which hierarchy root holds: EXEC_CG_V1, EXEC_CG_V2, or -ENOENT (none usable). */
int exec_cg_detect(const char *root);
/* Whether name is acceptable: relative, no "." or ".." component, no empty one, bounded. */
int exec_cg_name_valid(const char *name);
/* cpu.weight (v2, 1..10000) for v1 cpu.shares (2..262144), as runc maps it. */
uint64_t exec_cg_shares_to_weight(uint64_t shares);

/* Creates the cgroup and writes the limits. 0, or -errno with what failed in err. */
int exec_cg_create(struct exec_cg *cg, const char *root, const char *name,
		   const struct exec_cg_limits *l, char *err, size_t errsize);
/* Changes the cpu and memory limits of the existing cgroup name under root (a running task's:
 * the in-place resize, issue 14): cpu shares/weight, the CFS quota when l has one, and the
 * memory limit (v1: with memory+swap, in the order the kernel accepts). The pids limit is
 * left alone. 0, or -errno with what failed in err (-EBUSY: the kernel could not bring the
 * usage under a lower memory limit; -ENOENT: no such cgroup). */
int exec_cg_update(const char *root, const char *name, const struct exec_cg_limits *l,
		   char *err, size_t errsize);
/* Moves pid (0 = the caller) into the cgroup. 0 or -errno. */
int exec_cg_attach(const struct exec_cg *cg, pid_t pid);
/* exec_cg_attach(cg, 0) as a callback (exec_checks_set_child_hook); failures ignored: the
 * check then runs outside the task's cgroup. */
void exec_cg_attach_self(void *cg);
/* The number of OOM kills in the cgroup so far (0 when unknown), and the memory limit and
 * the largest usage seen, in bytes (0 when unknown). */
int exec_cg_oom_kills(const struct exec_cg *cg, uint64_t *limit, uint64_t *max_used);
/* SIGKILLs every process in the cgroup, waits (up to about 2 s) until it is empty, and
 * removes it from every hierarchy. 0, or -errno (-EBUSY: still populated). A cgroup that
 * does not exist is no error. */
int exec_cg_destroy(const struct exec_cg *cg);
/* exec_cg_destroy of the cgroup name under root, whichever version root holds. */
int exec_cg_destroy_name(const char *root, const char *name);

/* What a task's cgroup has used (Mesos's ResourceStatistics names); 0 when unknown. */
struct exec_cg_stats {
	double cpus_user_time_secs, cpus_system_time_secs;
	double cpus_limit;       /* shares / 1024 */
	uint64_t mem_rss_bytes;  /* anonymous memory */
	uint64_t mem_total_bytes; /* all memory charged (page cache included) */
	uint64_t mem_limit_bytes;
	uint64_t processes;      /* pids.current */
};
/* Reads cg's statistics. 0, or -ENOENT when the cgroup does not exist. */
int exec_cg_stats(const struct exec_cg *cg, struct exec_cg_stats *st);
/* exec_cg_stats of the cgroup name under root. */
int exec_cg_stats_name(const char *root, const char *name, struct exec_cg_stats *st);

/* An fd that becomes readable when the cgroup's memory controller records an event, OOM
 * kills among them (v1: an eventfd registered for memory.oom_control through
 * cgroup.event_control; v2: an inotify watch on memory.events). After it fires, read it with
 * exec_cg_oom_ack and look at exec_cg_oom_kills. -errno when unavailable (then OOM kills are
 * only seen at the end). */
int exec_cg_oom_fd(const struct exec_cg *cg);
/* Drains the fd's pending notification. */
void exec_cg_oom_ack(int fd);
