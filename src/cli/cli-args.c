/* The CLI's words: the command table, the argument parser and the usage text. Pure: no
 * I/O, so every usage error is unit tested. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "cli/cli-internal.h"

#define F_WAITING (CLI_F_WAIT | CLI_F_TIMEOUT)

const struct cli_command cli_commands[] = {
	{ "app", "add", "FILE|-", 1, 1, CLI_F_JSON | F_WAITING,
	  "create an app from a JSON file ('-' reads stdin)", cli_app_add },
	{ "app", "list", "", 0, 0, CLI_F_JSON, "list apps", cli_app_list },
	{ "app", "show", "ID", 1, 1, CLI_F_JSON, "show one app and its tasks", cli_app_show },
	{ "app", "scale", "ID N|INDEXES", 2, 2, CLI_F_JSON | F_WAITING | CLI_F_FORCE,
	  "set an app's instance count, or add instances at INDEXES (1000..1019)", cli_app_scale },
	{ "app", "autoscale", "ID", 1, 1, CLI_F_JSON,
	  "show an app's autoscaling policy and its last decisions", cli_app_autoscale },
	{ "app", "restart", "ID", 1, 1, CLI_F_JSON | F_WAITING | CLI_F_FORCE,
	  "replace every task of an app", cli_app_restart },
	{ "app", "update", "ID FILE|-", 2, 2, CLI_F_JSON | F_WAITING | CLI_F_FORCE,
	  "change an app from a (partial) JSON definition", cli_app_update },
	{ "app", "remove", "ID", 1, 1, CLI_F_JSON | F_WAITING,
	  "remove an app and kill its tasks", cli_app_remove },
	{ "instance", "list", "APP", 1, 1, CLI_F_JSON,
	  "list an app's instances by index: state, host, task, environment overrides",
	  cli_instance_list },
	{ "instance", "stop", "APP INDEXES", 2, 2, CLI_F_JSON | F_WAITING,
	  "stop instances (3, 3..5, 0,2,7..9), keeping their index and data", cli_instance_stop },
	{ "instance", "start", "APP INDEXES", 2, 2, CLI_F_JSON | F_WAITING,
	  "start stopped instances again", cli_instance_start },
	{ "instance", "env", "APP INDEXES NAME=VALUE|NAME...", 3, CLI_MAX_POS,
	  CLI_F_JSON | CLI_F_RESTART,
	  "set (NAME=VALUE) or unset (NAME) instances' environment overrides",
	  cli_instance_env },
	{ "task", "list", "", 0, 0, CLI_F_JSON | CLI_F_APP, "list tasks", cli_task_list },
	{ "task", "kill", "ID", 1, 1, CLI_F_JSON | CLI_F_SCALE,
	  "kill a task (its app replaces it unless --scale)", cli_task_kill },
	{ "node", "list", "", 0, 0, CLI_F_JSON, "list agents and their resources",
	  cli_node_list },
	{ "node", "drain", "HOST|ID", 1, 1, F_WAITING,
	  "move the tasks off an agent and keep new ones off (--wait: until drained)",
	  cli_node_drain },
	{ "node", "deactivate", "HOST|ID", 1, 1, 0,
	  "keep new tasks and offers off an agent (its tasks keep running)", cli_node_deactivate },
	{ "node", "reactivate", "HOST|ID", 1, 1, 0, "undo node deactivate", cli_node_reactivate },
	{ "node", "gone", "HOST|ID", 1, 1, 0,
	  "mark an agent gone for good: its tasks end, it may not come back", cli_node_gone },
	{ "framework", "list", "", 0, 0, CLI_F_JSON,
	  "list frameworks: roles, activity, tasks and resources in use", cli_framework_list },
	{ "volume", "list", "", 0, 0, CLI_F_JSON | CLI_F_APP,
	  "list the persistent and external volumes of the apps", cli_volume_list },
	{ "deployment", "list", "", 0, 0, CLI_F_JSON, "list the deployments in progress",
	  cli_deployment_list },
	{ "deployment", "rollback", "ID", 1, 1, CLI_F_JSON | F_WAITING | CLI_F_FORCE,
	  "roll a deployment back (with --force: just stop it)", cli_deployment_rollback },
	{ "job", "add", "FILE|-", 1, 1, CLI_F_JSON,
	  "create or replace a job from a Chronos JSON file ('-' reads stdin)", cli_job_add },
	{ "job", "list", "", 0, 0, CLI_F_JSON, "list jobs: schedule, state, last result, counters",
	  cli_job_list },
	{ "job", "run", "NAME [ARG...]", 1, CLI_MAX_POS, CLI_F_JSON,
	  "run a job now (arguments are added to a non-shell command)", cli_job_run },
	{ "job", "history", "NAME", 1, 1, CLI_F_JSON, "a job's recent runs and pending ones",
	  cli_job_history },
	{ "job", "remove", "NAME", 1, 1, CLI_F_JSON, "remove a job (its children are re-parented)",
	  cli_job_remove },
	{ "job", "graph", "", 0, 0, 0, "the jobs and their dependencies as text", cli_job_graph },
	{ "logs", NULL, "TASK_ID", 1, 1, CLI_F_STDERR | CLI_F_FOLLOW,
	  "print a task's stdout (or stderr)", cli_logs },
	{ "events", NULL, "", 0, 0, CLI_F_JSON | CLI_F_TYPE,
	  "print the master's events as they happen", cli_events },
	{ "discover", NULL, "APP", 1, 1, CLI_F_JSON | CLI_F_WATCH,
	  "print an app's healthy endpoints (--watch: and every change)", cli_discover },
	{ NULL, NULL, NULL, 0, 0, 0, NULL, NULL },
};

struct flag_def {
	const char *name;
	unsigned bit;
	const char *value; /* metavar, NULL for a switch */
	const char *help;
};

static const struct flag_def flags[] = {
	{ "master", CLI_F_MASTER, "URL", "the master (default $BERTH_MASTER or " CLI_DEFAULT_MASTER ")" },
	{ "cacert", CLI_F_CACERT, "FILE",
	  "CA certificates (PEM) for https (default $BERTH_CACERT, else the system's)" },
	{ "cert", CLI_F_CERT, "FILE",
	  "client certificate (PEM) for a master that wants one (--tls-ca; default $BERTH_CERT)" },
	{ "key", CLI_F_KEY, "FILE", "its private key (PEM; default $BERTH_KEY, else in --cert's file)" },
	{ "insecure", CLI_F_INSECURE, NULL,
	  "do not verify an https master's certificate (default $BERTH_INSECURE=1; testing only)" },
	{ "principal", CLI_F_PRINCIPAL, "NAME",
	  "authenticate as NAME (default $BERTH_PRINCIPAL; with --secret)" },
	{ "secret", CLI_F_SECRET, "SECRET",
	  "the principal's secret (default $BERTH_SECRET; prefer the variable)" },
	{ "json", CLI_F_JSON, NULL, "print the API's JSON instead of a table" },
	{ "wait", CLI_F_WAIT, NULL, "show progress until the change is done" },
	{ "timeout", CLI_F_TIMEOUT, "SECONDS", "give up waiting after SECONDS (default 300)" },
	{ "app", CLI_F_APP, "ID", "only the tasks (or volumes) of app ID" },
	{ "scale", CLI_F_SCALE, NULL, "also lower the app's instance count by one" },
	{ "stderr", CLI_F_STDERR, NULL, "print the task's stderr instead of stdout" },
	{ "follow", CLI_F_FOLLOW, NULL, "keep printing new output until interrupted" },
	{ "force", CLI_F_FORCE, NULL,
	  "replace a deployment in flight (rollback: stop it, no rollback)" },
	{ "type", CLI_F_TYPE, "TYPE", "only events of TYPE (repeat for more types)" },
	{ "watch", CLI_F_WATCH, NULL, "keep printing the changes until interrupted" },
	{ "restart", CLI_F_RESTART, NULL, "restart the running instances to apply it now" },
	{ "help", CLI_F_HELP, NULL, "print this help" },
};

static const char *const nouns[] = { "app", "instance", "task", "node", "framework", "volume", "deployment",
				      "job", "logs", "events", "discover" };

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool is_noun(const char *w)
{
	for (size_t i = 0; i < sizeof(nouns) / sizeof(nouns[0]); i++)
		if (strcmp(w, nouns[i]) == 0)
			return true;
	return false;
}

static const struct cli_command *find_command(const char *noun, const char *verb)
{
	for (const struct cli_command *c = cli_commands; c->noun; c++)
		if (strcmp(c->noun, noun) == 0 &&
		    (c->verb == NULL || (verb && strcmp(c->verb, verb) == 0)))
			return c;
	return NULL;
}

static const struct flag_def *find_flag(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strlen(flags[i].name) == n && strncmp(flags[i].name, name, n) == 0)
			return &flags[i];
	return NULL;
}

static const char *flag_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (flags[i].bit == bit)
			return flags[i].name;
	return "?";
}

/* A word that is an option: "--x", "-h"; a lone "-" or a negative number is not. */
static bool is_option(const char *w)
{
	if (w[0] != '-' || w[1] == '\0')
		return false;
	if (w[1] >= '0' && w[1] <= '9')
		return false;
	return true;
}

static int take_flag(const struct flag_def *f, const char *value, struct cli_opts *o, char *err,
		     size_t errlen)
{
	o->seen |= f->bit;
	switch (f->bit) {
	case CLI_F_MASTER:
		o->master = value;
		break;
	case CLI_F_CACERT:
		o->cacert = value;
		break;
	case CLI_F_CERT:
		o->cert = value;
		break;
	case CLI_F_KEY:
		o->key = value;
		break;
	case CLI_F_INSECURE:
		o->insecure = true;
		break;
	case CLI_F_PRINCIPAL:
		o->principal = value;
		break;
	case CLI_F_SECRET:
		o->secret = value;
		break;
	case CLI_F_APP:
		o->app = value;
		break;
	case CLI_F_TIMEOUT: {
		uint64_t v;
		if (parse_u64(value, &v) < 0 || v == 0 || v > 7 * 24 * 3600) {
			set_err(err, errlen, "--timeout wants a number of seconds (1 to 604800), not '%s'",
				value);
			return -EINVAL;
		}
		o->timeout_sec = v;
		break;
	}
	case CLI_F_HELP:
		o->help = true;
		break;
	case CLI_F_TYPE: {
		size_t n = strlen(value);
		bool ok = n <= CLI_MAX_TYPE_LEN;
		for (size_t i = 0; ok && i < n; i++)
			ok = isalnum((unsigned char)value[i]) || value[i] == '_';
		if (!ok) {
			set_err(err, errlen, "--type wants an event type like status_update_event, "
					     "not '%s'", value);
			return -EINVAL;
		}
		if (o->ntypes == CLI_MAX_TYPES) {
			set_err(err, errlen, "--type given more than %d times", CLI_MAX_TYPES);
			return -EINVAL;
		}
		o->types[o->ntypes++] = value;
		break;
	}
	default:
		break;
	}
	return 0;
}

int cli_args_parse(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->timeout_sec = CLI_DEFAULT_TIMEOUT_SEC;
	const char *words[CLI_MAX_POS + 2];
	size_t nwords = 0;
	bool opts_done = false;
	bool bad_flag = false; /* err holds a flag error; keep reading words for the usage */

	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		if (opts_done || !is_option(w)) {
			if (nwords == sizeof(words) / sizeof(words[0])) {
				if (!bad_flag)
					set_err(err, errlen, "too many arguments");
				bad_flag = true;
				break;
			}
			words[nwords++] = w;
			continue;
		}
		if (strcmp(w, "--") == 0) {
			opts_done = true;
			continue;
		}
		if (strcmp(w, "-h") == 0) {
			o->help = true;
			o->seen |= CLI_F_HELP;
			continue;
		}
		if (bad_flag)
			continue; /* only the words matter now, for the usage shown */
		if (w[1] != '-') {
			set_err(err, errlen, "unknown flag '%s'", w);
			bad_flag = true;
			continue;
		}
		const char *name = w + 2;
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		const struct flag_def *f = find_flag(name, nlen);
		if (!f) {
			set_err(err, errlen, "unknown flag '--%.*s'", (int)nlen, name);
			bad_flag = true;
			continue;
		}
		const char *value = NULL;
		if (f->value) {
			if (eq) {
				value = eq + 1;
			} else if (i + 1 < argc) {
				value = argv[++i];
			}
			if (!value || !*value) {
				set_err(err, errlen, "flag '--%s' needs a value (%s)", f->name, f->value);
				bad_flag = true;
				continue;
			}
		} else if (eq) {
			set_err(err, errlen, "flag '--%s' takes no value", f->name);
			bad_flag = true;
			continue;
		}
		if (take_flag(f, value, o, err, errlen) < 0)
			bad_flag = true;
	}

	if (bad_flag) {
		/* say which command's usage to show, if the words name one */
		size_t k = nwords > 0 && strcmp(words[0], "help") == 0 ? 1 : 0;
		if (k < nwords && is_noun(words[k])) {
			o->noun = words[k];
			o->cmd = find_command(words[k], k + 1 < nwords ? words[k + 1] : NULL);
		}
		o->help = false;
		return -EINVAL;
	}

	size_t w = 0;
	if (nwords > 0 && strcmp(words[0], "help") == 0) {
		/* "berth help [NOUN [VERB]]" */
		o->help = true;
		w = 1;
	}
	if (w == nwords) {
		if (o->help)
			return 1;
		set_err(err, errlen, "missing command");
		return -EINVAL;
	}
	const char *noun = words[w++];
	if (!is_noun(noun)) {
		set_err(err, errlen, "unknown command '%s'", noun);
		return -EINVAL;
	}
	o->noun = noun;
	const struct cli_command *cmd = find_command(noun, NULL);
	if (!cmd || cmd->verb) {
		/* a noun with verbs */
		if (w == nwords) {
			if (o->help)
				return 1;
			set_err(err, errlen, "'%s' needs a subcommand", noun);
			return -EINVAL;
		}
		const char *verb = words[w++];
		cmd = find_command(noun, verb);
		if (!cmd) {
			set_err(err, errlen, "unknown command '%s %s'", noun, verb);
			return -EINVAL;
		}
	}
	o->cmd = cmd;
	if (o->help)
		return 1;

	unsigned allowed = cmd->flags | CLI_F_GLOBAL;
	unsigned bad = o->seen & ~allowed;
	if (bad) {
		unsigned bit = bad & -bad;
		set_err(err, errlen, "'%s%s%s' does not take --%s", cmd->noun, cmd->verb ? " " : "",
			cmd->verb ? cmd->verb : "", flag_name(bit));
		return -EINVAL;
	}
	if ((o->seen & CLI_F_TIMEOUT) && !(o->seen & CLI_F_WAIT)) {
		set_err(err, errlen, "--timeout only makes sense with --wait");
		return -EINVAL;
	}
	size_t n = nwords - w;
	if (n < cmd->min_args) {
		set_err(err, errlen, "missing argument: %s", cmd->args);
		return -EINVAL;
	}
	if (n > cmd->max_args) {
		set_err(err, errlen, "unexpected argument '%s'", words[w + cmd->max_args]);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		o->args[i] = words[w + i];
	o->nargs = n;
	return 0;
}

/* "berth app scale ID N", with the command's flags when with_flags (then on its own
 * line), else padded and followed by the summary. */
static void usage_line(struct strbuf *sb, const struct cli_command *c, bool with_flags)
{
	struct strbuf l = STRBUF_INIT;
	strbuf_addf(&l, "%s%s%s%s%s", c->noun, c->verb ? " " : "", c->verb ? c->verb : "",
		    c->args[0] ? " " : "", c->args);
	if (!with_flags) {
		strbuf_addf(sb, "  berth %-24s %s\n", strbuf_str(&l), c->summary);
		strbuf_release(&l);
		return;
	}
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (!(c->flags & flags[i].bit) || flags[i].bit == CLI_F_JSON)
			continue;
		if (flags[i].value)
			strbuf_addf(&l, " [--%s %s]", flags[i].name, flags[i].value);
		else
			strbuf_addf(&l, " [--%s]", flags[i].name);
	}
	if (c->flags & CLI_F_JSON)
		strbuf_adds(&l, " [--json]");
	strbuf_addf(sb, "  berth %s\n\n%c%s.\n", strbuf_str(&l), toupper((unsigned char)c->summary[0]),
		    c->summary + 1);
	strbuf_release(&l);
}

void cli_usage(struct strbuf *sb, const char *noun, const struct cli_command *cmd)
{
	if (cmd) {
		strbuf_adds(sb, "Usage:\n");
		usage_line(sb, cmd, true);
		strbuf_adds(sb, "\nFlags:\n");
		unsigned allowed = cmd->flags | CLI_F_GLOBAL;
		for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
			if (!(allowed & flags[i].bit))
				continue;
			char name[32];
			snprintf(name, sizeof(name), "--%s%s%s", flags[i].name,
				 flags[i].value ? " " : "", flags[i].value ? flags[i].value : "");
			strbuf_addf(sb, "  %-18s %s\n", name, flags[i].help);
		}
		return;
	}
	strbuf_addf(sb, "Usage: berth [--master URL] %s COMMAND [ARGS] [FLAGS]\n\n",
		    noun ? noun : "NOUN");
	strbuf_adds(sb, "Commands:\n");
	for (const struct cli_command *c = cli_commands; c->noun; c++)
		if (!noun || strcmp(noun, c->noun) == 0)
			usage_line(sb, c, false);
	if (!noun)
		strbuf_adds(sb, "\nDaemons: berth master, berth agent, berth dev.\n");
	strbuf_adds(sb, "\nThe master is --master URL, else $BERTH_MASTER, else " CLI_DEFAULT_MASTER
			" (several: URL,URL,... = the first that answers)"
			";\nan https:// master is verified against --cacert FILE, else $BERTH_CACERT, "
			"else the system's CAs;\n--cert FILE/--key FILE (or $BERTH_CERT/$BERTH_KEY) "
			"is the client certificate for a master with --tls-ca.\nExit codes: 0 ok, 1 failed, 2 usage error.\n"
			"'berth help NOUN VERB' or 'berth NOUN VERB --help' describes one command.\n");
}

void cli_usage_brief(struct strbuf *sb, const char *noun, const struct cli_command *cmd)
{
	if (!cmd) {
		cli_usage(sb, noun, NULL);
		return;
	}
	struct strbuf full = STRBUF_INIT;
	usage_line(&full, cmd, true);
	/* just the synopsis line of the full text */
	const char *line = strbuf_str(&full);
	strbuf_addf(sb, "Usage:%.*s\nRun 'berth %s%s%s --help' for details.\n",
		    (int)strcspn(line + 1, "\n"), line + 1, cmd->noun, cmd->verb ? " " : "",
		    cmd->verb ? cmd->verb : "");
	strbuf_release(&full);
}
