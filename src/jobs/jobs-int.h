/* The jobs framework's state, shared by its files. Internal.
 *
 * Invariants (what makes a master kill -9 neither lose nor double a run):
 *  - A job's schedule is its anchor and n, the runs passed. A due run is recorded in the store
 *    (jobs/run/<name>/<scheduled ms>) in the same transaction that moves the job's n past it;
 *    a restart finds either both or neither.
 *  - A run's task id (ct:<scheduled ms>:<attempt>:<name>:<args>) is stored before its LAUNCH is
 *    sent; after a restart a run whose task its agent does not report is lost and retried with
 *    the next attempt, never launched twice under one id.
 *  - A run record goes when its run ends (success, or failure after its retries), in the
 *    transaction that counts the result into its job.
 *  - A placed run holds what rm_take took until its terminal update (rm_give): taken is true
 *    exactly then. A per-instance job's run takes nothing: it runs inside an instance, on
 *    that instance's resources (and in its cgroup), so taken stays false.
 *  - A per-instance run's place in its instances (targets, target_at) is stored with it, in
 *    the transaction that counts each instance's result, so a restart neither repeats nor
 *    skips an instance. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/hmap.h"
#include "jobs/jobs.h"
#include "jobs/schedule.h"
#include "master/rm.h"
#include "model/resources.h"

#define JOB_MAX_NAME 200
#define JOBS_MAX 100000
#define JOB_HISTORY 20       /* finished runs kept per job for history and stats */
#define JOB_MAX_RUNS 10000   /* queued or live runs in all */
#define JOB_DONE_KEEP 4096   /* ended tasks whose agent is remembered (for their logs) */
#define JOB_DEFAULT_RETRIES 2
#define JOB_DEFAULT_EPSILON_MS (5 * 60 * 1000)

struct job_result {
	int64_t scheduled_ms;
	int64_t started_ms, finished_ms; /* epoch ms; 0 unknown */
	char state[24];                  /* the terminal task state, or "MARKED_SUCCESS" */
	int attempts;
	char *task_id;                   /* its last attempt's task (owned), or NULL */
	char *instance;                  /* per-instance jobs: the instance's task (owned) */
};

struct job {
	char *name;
	json_t *def;            /* the definition as given, unknown fields kept, no counters */
	bool dependent;
	struct jsched sched;    /* scheduled jobs */
	char **parents;
	size_t nparents;
	int64_t epsilon_ms;
	int retries;
	bool disabled, concurrent, shell;
	bool soft_error;        /* a failure (not a kill) wakes its children as a success does */
	bool high_priority;     /* its queued runs are placed before the others' */
	char *app;              /* per-instance jobs ("app", "perInstance": true): the app id */
	bool per_instance;
	json_t *container;      /* the LAUNCH record's "container" (model/container.h), or NULL */
	double cpus, mem, disk;
	struct constraint *cons; /* compiled from def's constraints (model/constraints.h) */
	size_t ncons;
	/* counters (persisted with the job) */
	int64_t success_count, error_count, errors_since, skip_count;
	char last_success[32], last_error[32];
	json_t *parents_done;   /* {parent: true} succeeded since this job's last run */
	/* live */
	unsigned nruns;         /* queued or live */
	struct job_result hist[JOB_HISTORY];
	size_t nhist, hist_at;
};

struct job_run {
	char *name;
	int64_t scheduled_ms;
	int attempt;
	bool manual;
	char *args;             /* run-now arguments or NULL */
	char *task_id;          /* NULL while queued */
	char *agent_id;
	const char *state;      /* static string */
	bool taken, kill_sent, kill_wanted;
	struct resources res;
	uint64_t staged_usec, started_usec;
	int64_t first_started_ms;
	size_t idx;             /* its place in jobs.runs */
	/* Per-instance jobs (run.c): the app's instances' task ids when the run began, in index
	 * order (NULL until then), the one being run in (target_at; the run ends past the last),
	 * and whether one of them failed. One instance at a time: at most one task per run. */
	json_t *targets;
	size_t target_at;
	bool inst_failed;
};

struct jobs {
	struct master *rm;
	struct store *store;
	struct event_base *base;
	struct rm_client *client; /* NULL until the first job */
	char framework_id[96];
	char leader[300];
	struct hmap jobs;       /* name -> struct job* */
	struct hmap tasks;      /* task id -> struct job_run* */
	struct job_run **runs;  /* queued or live */
	size_t nruns, cap;
	bool stopping;
	/* the last JOB_DONE_KEEP ended tasks: task id -> agent id (owned), oldest first in ring */
	struct hmap done;
	char *done_ring[JOB_DONE_KEEP];
	size_t done_at;
	/* whether some job has parents: known while deps_known (jobs_changed clears it) */
	bool deps_known, has_dependents;
	/* metrics (NULL before jobs_metrics_register) */
	struct metrics_family *m_runs;
	struct metrics_series *m_skipped, *m_delay;
	/* job run events (NULL until the server wires them) */
	jobs_publish_fn publish;
	void *publish_ctx;
};

/* job.c: definitions */
/* Parses and checks a POSTed job (body borrowed). dependent: the /dependency endpoint. The
 * parents must exist in j and make no cycle. 0 and *out (new), or -EINVAL with err. */
int job_from_body(struct jobs *j, const json_t *body, bool dependent, int64_t now_ms,
		  struct job **out, char *err, size_t errlen);
/* A job from its stored value. 0 or -EINVAL. */
int job_from_store(const char *val, size_t len, struct job **out);
void job_free(struct job *jb);
/* The Chronos JSON of a job (new reference). */
json_t *job_to_json(const struct job *jb);
/* What the store keeps of it (new reference). */
json_t *job_store_json(const struct job *jb);
/* "success", "failure" or "fresh". */
const char *job_status(const struct job *jb);
bool job_has_parent(const struct job *jb, const char *parent);

/* jobs.c: registers the framework "chronos" with the resource manager, once, when the first
 * job is created or loaded (a master without jobs shows no Chronos framework). 0 or -E2BIG. */
int jobs_register(struct jobs *j);

/* Called after jobs were added, replaced or deleted. */
void jobs_changed(struct jobs *j);

/* jobs.c: the store */
int jobs_store_job(struct jobs *j, const struct job *jb);
int jobs_store_job_delete(struct jobs *j, const char *name);
int jobs_store_run(struct jobs *j, const struct job_run *r);
int jobs_store_run_delete(struct jobs *j, const struct job_run *r);

/* run.c: runs */
/* Records a run of jb scheduled at sched_ms (a due schedule, a manual run, its parents done)
 * and queues it. In the caller's store transaction. 0, -EEXIST when that run exists, -E2BIG
 * at JOB_MAX_RUNS. */
int jobs_run_add(struct jobs *j, struct job *jb, int64_t sched_ms, bool manual, const char *args,
		 struct job_run **out);
/* A run loaded from the store. */
void jobs_run_loaded(struct jobs *j, struct job_run *r);
/* Kills every live run of name (and drops its queued ones). Returns how many. */
int jobs_kill(struct jobs *j, const char *name);
/* The due schedules, then the placements. */
void jobs_pass(struct jobs *j);
/* Counts a result into jb (in the caller's transaction) and wakes its children. */
void jobs_result(struct jobs *j, struct job *jb, bool success, int64_t sched_ms,
		 int64_t started_ms, const char *state, int attempts, const char *task_id);
void jobs_run_free(struct job_run *r);
/* Publishes a job run event when the server wired a bus (payload stolen). */
void jobs_publish(struct jobs *j, const char *type, json_t *payload);
extern const struct rm_framework_ops jobs_ops;
