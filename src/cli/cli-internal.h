/* Internals shared by the CLI's files (and its unit tests); cli.h is the public face.
 *
 * Flow: cli_main → cli_args_parse (pure: words → struct cli_opts, or a usage error) →
 * the command's run function, which talks to the master through cli_request and prints
 * tables (table.h) or, with --json, the API's JSON. Exit codes: CLI_OK, CLI_FAILED,
 * CLI_USAGE; only cli_main and the run functions print. */
#pragma once
#include "cli/sse.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "net/httpc.h"

enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

#define CLI_DEFAULT_MASTER "http://127.0.0.1:5050"
#define CLI_DEFAULT_TIMEOUT_SEC 300
#define CLI_REQUEST_TIMEOUT_USEC (30ull * 1000 * 1000)
#define CLI_MAX_POS 8
#define CLI_MAX_APP_FILE (16u * 1024 * 1024)
#define CLI_MAX_TYPES 32       /* --type given at most this often */
#define CLI_MAX_TYPE_LEN 64    /* an event type's length */
#define CLI_MAX_EVENT (1024u * 1024) /* one event on the stream */
#define CLI_EVENTS_IDLE_USEC (60ull * 1000 * 1000) /* the master sends a heartbeat every 10 s */

enum cli_flag {
	CLI_F_MASTER = 1u << 0,
	CLI_F_JSON = 1u << 1,
	CLI_F_WAIT = 1u << 2,
	CLI_F_TIMEOUT = 1u << 3,
	CLI_F_APP = 1u << 4,
	CLI_F_SCALE = 1u << 5,
	CLI_F_STDERR = 1u << 6,
	CLI_F_FOLLOW = 1u << 7,
	CLI_F_HELP = 1u << 8,
	CLI_F_FORCE = 1u << 9,
	CLI_F_TYPE = 1u << 10,
	CLI_F_CACERT = 1u << 11,
	CLI_F_WATCH = 1u << 12,
	CLI_F_PRINCIPAL = 1u << 13,
	CLI_F_SECRET = 1u << 14,
	CLI_F_RESTART = 1u << 15,
	CLI_F_CERT = 1u << 16,
	CLI_F_KEY = 1u << 17,
	CLI_F_INSECURE = 1u << 18,
};

/* Flags every command takes. */
#define CLI_F_GLOBAL                                                                     \
	(CLI_F_MASTER | CLI_F_CACERT | CLI_F_CERT | CLI_F_KEY | CLI_F_INSECURE |          \
	 CLI_F_PRINCIPAL | CLI_F_SECRET | CLI_F_HELP)

struct cli;
typedef int (*cli_run_fn)(struct cli *c);

struct cli_command {
	const char *noun;
	const char *verb;   /* NULL for a noun that is the whole command ("logs") */
	const char *args;   /* positional arguments for usage, "ID N" */
	size_t min_args, max_args;
	unsigned flags;     /* enum cli_flag bits accepted besides --master and --help */
	const char *summary;
	cli_run_fn run;
};

/* What the words said. Strings point into argv. */
struct cli_opts {
	const struct cli_command *cmd; /* NULL for top-level or noun help */
	const char *noun;              /* for "berth app --help"; NULL for top-level help */
	bool help;
	unsigned seen;                 /* enum cli_flag bits given */
	const char *master;
	const char *cacert;
	const char *cert, *key; /* --cert, --key */
	bool insecure;
	const char *principal;
	const char *secret;
	const char *app;
	uint64_t timeout_sec;
	const char *args[CLI_MAX_POS]; /* the command's positional arguments */
	size_t nargs;
	const char *types[CLI_MAX_TYPES]; /* --type, in order given */
	size_t ntypes;
};

/* The command table, ended by an entry with noun NULL. */
extern const struct cli_command cli_commands[];

/* Parses argv[1..argc). Returns 0 (run o->cmd), 1 (print help: o->cmd, o->noun or the
 * top level), or -EINVAL with a message in err (errlen bytes; no "berth: " prefix) for a
 * usage error; o->noun / o->cmd then say which usage to show, when known. */
int cli_args_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen);

/* Usage text: the whole CLI (noun NULL, cmd NULL), one noun, or one command (with its
 * flags). Appended to sb. */
void cli_usage(struct strbuf *sb, const char *noun, const struct cli_command *cmd);
/* The short form for usage errors: one command's synopsis and where to read more, or the
 * command list. */
void cli_usage_brief(struct strbuf *sb, const char *noun, const struct cli_command *cmd);

struct cli {
	struct cli_opts o;
	struct httpc_url url;
	const char *master;  /* as given, for messages */
	const char *cacert;  /* --cacert, else $BERTH_CACERT, else NULL (the system's CAs) */
	const char *cert;    /* --cert, else $BERTH_CERT: the client certificate (mutual TLS) */
	const char *key;     /* --key, else $BERTH_KEY: its key (default: in cert's file) */
	bool insecure;       /* --insecure or BERTH_INSECURE=1: no verification of the master */
	char *authorization; /* "Basic …" from --principal/--secret or $BERTH_PRINCIPAL /
				$BERTH_SECRET, or NULL */
	bool tty;            /* stdout is a terminal */
	uint64_t deadline;   /* monotonic usec for --wait, 0 when not waiting */
};

struct cli_reply {
	int status;
	json_t *json; /* the body parsed as JSON, or NULL */
	char *body;
	size_t body_len;
};

/* One API call; body (borrowed) may be NULL. Redirects are followed (HTTPC_MAX_REDIRECTS),
 * https peers verified against c->cacert or the system's CAs. Returns 0 with *rep filled
 * for any HTTP status (release with cli_reply_release), or CLI_FAILED after printing
 * "berth: cannot reach master at URL: …" (or "bad answer from master at URL: …"). */
int cli_request(struct cli *c, const char *method, const char *target, json_t *body,
		struct cli_reply *rep);
void cli_reply_release(struct cli_reply *r);
/* The readable error for a non-2xx answer, without the "berth: " prefix (malloc'd):
 * the API's "message", or for validation errors "<subject> rejected: /path: error; …".
 * subject (e.g. "app '/web'") may be NULL. */
char *cli_error_text(int status, json_t *json, const char *body, const char *subject);
/* Prints the failure of a call to the master (r from httpc_send or httpc_stream, err its
 * message): "cannot reach master at URL: …", or "bad answer from …" for an answer that was
 * not usable, with a hint at --cacert for an untrusted certificate when none was given.
 * Returns CLI_FAILED. */
int cli_fail_http(const struct cli *c, int r, const char *err);
/* Prints cli_error_text to stderr with the prefix; returns CLI_FAILED. */
int cli_fail_reply(const struct cli_reply *r, const char *subject);
/* Prints "berth: <fmt>" to stderr; returns CLI_FAILED. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints json (borrowed) indented, with a final newline. Returns CLI_OK. */
int cli_print_json(json_t *json);

/* Percent-encodes s (everything but unreserved characters; '/' kept when keep_slash). */
void cli_url_encode(struct strbuf *sb, const char *s, bool keep_slash);
/* "prod/web", "/prod/web/" → "/prod/web" (malloc'd); NULL for an empty id. */
char *cli_app_id(const char *user_id);
/* "/v2/apps/prod/web" for the user's id, segments encoded (malloc'd); NULL if empty. */
char *cli_app_target(const char *user_id, const char *suffix);

/* --wait support (cli-wait.c). */
enum cli_wait_kind { CLI_WAIT_RUNNING, CLI_WAIT_RESTART, CLI_WAIT_UPDATE, CLI_WAIT_GONE };
/* True when the app (GET /v2/apps/{id}'s "app" object, borrowed) is where kind wants it:
 * tasksRunning == instances and no deployments; for a restart also every task on the
 * app's version; for an update every task on the app's current configuration (a task
 * version at or after versionInfo.lastConfigChangeAt, else the version). */
/* Whether a wait for `kind` is over: tasksRunning == instances - stopped (the operator's
 * stopped instances), no deployment, and for a restart or update every task current. */
bool cli_app_settled(json_t *app, double stopped, enum cli_wait_kind kind);
/* "'/web': 3/5 running", "'/web': 3/5 running, 2/5 updated" (malloc'd). */
char *cli_progress_line(json_t *app, enum cli_wait_kind kind);
/* Polls the app until settled (or gone), showing progress; honours o.timeout_sec. */
int cli_wait_app(struct cli *c, const char *app_id, enum cli_wait_kind kind);
/* Polls GET /v2/deployments until deployment dep_id is no longer listed, showing the
 * progress of app_id (may be NULL) meanwhile; honours o.timeout_sec. */
int cli_wait_deployment(struct cli *c, const char *dep_id, const char *app_id);

/* Formatting helpers for tables. */
const char *cli_json_str(json_t *obj, const char *key); /* NULL when absent / not a string */
double cli_json_num(json_t *obj, const char *key);      /* 0 when absent */
/* The instance index of a task or volume ("index"), -1 when absent or not a count. */
long long cli_json_index(json_t *obj);
/* A new array of arr's elements (references taken) ordered by the string app_key
 * (elements without it first), then by instance index (elements without one after those
 * with one), else as given. */
json_t *cli_sort_by_index(json_t *arr, const char *app_key);
/* "31000,31001" from a JSON array of numbers (malloc'd; "" if none). */
char *cli_join_numbers(json_t *arr);

/* The commands. */
int cli_app_add(struct cli *c);
int cli_app_list(struct cli *c);
int cli_app_show(struct cli *c);
int cli_app_scale(struct cli *c);
/* cmd-instance.c: berth instance list|stop|start|env; app scale ID 1000..1019. */
int cli_app_scale_indexes(struct cli *c);
int cli_instance_list(struct cli *c);
int cli_instance_stop(struct cli *c);
int cli_instance_start(struct cli *c);
int cli_instance_env(struct cli *c);
char *cli_render_instances(json_t *answer);
int cli_app_autoscale(struct cli *c);
char *cli_render_autoscale(json_t *autoscale); /* cmd-autoscale.c */
int cli_app_restart(struct cli *c);
int cli_app_remove(struct cli *c);
int cli_task_list(struct cli *c);
int cli_task_kill(struct cli *c);
int cli_node_list(struct cli *c);
int cli_node_drain(struct cli *c); /* cmd-node.c */
int cli_node_deactivate(struct cli *c);
int cli_node_reactivate(struct cli *c);
int cli_node_gone(struct cli *c);
int cli_framework_list(struct cli *c);
int cli_volume_list(struct cli *c);
int cli_logs(struct cli *c);
int cli_app_update(struct cli *c);
int cli_deployment_list(struct cli *c);
int cli_deployment_rollback(struct cli *c);
int cli_events(struct cli *c);
int cli_discover(struct cli *c);
/* Follows the Server-Sent Events at target (GET, with the CLI's credentials), handing each
 * event to fn until the user stops it (SIGINT/SIGTERM: CLI_OK) or the stream ends or breaks
 * (a failure naming the "<what> stream"). fn returns 0, or -EIO when it could not write its
 * output (the CLI then fails saying so). idle_usec: the longest silence (0: no limit). */
int cli_follow(struct cli *c, const char *target, const char *what, uint64_t idle_usec,
	       sse_event_fn fn, void *ctx);
/* "<prefix>TASK HOST IP PORTS" of an endpoint of GET /v2/services (malloc'd). */
char *cli_endpoint_line(const char *prefix, json_t *ep);
int cli_job_add(struct cli *c);
int cli_job_list(struct cli *c);
int cli_job_run(struct cli *c);
int cli_job_history(struct cli *c);
int cli_job_remove(struct cli *c);
int cli_job_graph(struct cli *c);
/* GET /v1/scheduler/jobs with the summary's jobs: NAME, SCHEDULE, STATE, LAST, OK, ERRORS,
 * LAST SUCCESS, LAST ERROR. */
char *cli_render_jobs(json_t *jobs, json_t *summary);
/* GET /api/berth/jobs/{name}/history: its runs and pending runs, then the next run. */
char *cli_render_job_history(json_t *history);

/* Shared by the commands that read an app definition (cmd-app.c): the JSON object in
 * file ("-": stdin), or NULL after printing why. */
json_t *cli_read_json_object(const char *file, const char *what);
/* Prints what a change did: its JSON with --json, else "<what> (deployment D)". */
void cli_report_change(struct cli *c, json_t *json, const char *what);

/* Rendering, pure (for tests): tables from API JSON (borrowed), malloc'd text. */
char *cli_render_apps(json_t *apps);
/* Sorted by app, then instance index; an INDEX column after APP (after ID without it). */
char *cli_render_tasks(json_t *tasks, bool with_app);
/* The same with two more columns, CPU and memory used against the limit, from usage
 * ({task id: Mesos ResourceStatistics}; a task without an entry shows "-"). */
char *cli_render_tasks_usage(json_t *tasks, bool with_app, json_t *usage);
/* A RESERVED column (cli_join_reserved of each slave's reserved_resources) when any agent
 * has reservations. */
char *cli_render_nodes(json_t *slaves, json_t *tasks);
/* {"role": {"cpus": 1, "mem": 512}, …} → "role:cpus=1,mem=512;…" (malloc'd), or NULL when
 * nothing is reserved. */
char *cli_join_reserved(json_t *reserved);
/* GET /master/state's "frameworks": ID, NAME, ROLES, ACTIVE, TASKS, CPUS, MEM (used). */
char *cli_render_frameworks(json_t *frameworks);
char *cli_render_app(json_t *app);
char *cli_render_deployments(json_t *deployments);
/* GET /api/berth/volumes' "volumes", sorted by app and index. */
char *cli_render_volumes(json_t *volumes);
/* One event for people: "TIMESTAMP TYPE summary", no newline, control characters shown as
 * '?'. data is the event's JSON (borrowed; NULL when it did not parse). */
char *cli_event_line(const char *type, json_t *data);
