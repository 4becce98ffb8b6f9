/* The daemons' command-line flags (berth master / agent / dev / volume-plugin), each daemon's
 * declared once in a table: a flag's name, kind, where its value goes, its default and its
 * help. flags_parse() parses argv against the tables (getopt_long underneath) and the usage
 * is printed from them, so that a flag, its default and its help are written in one place.
 * `berth dev` parses parts of the master's and the agent's tables at once, the agent's with
 * the prefix "agent-" (--agent-http).
 *
 * What a user sees on a bad command line, always on stderr and with exit status 2:
 *   getopt's own message for an unknown flag or a missing argument, then the usage;
 *   "berth CMD: --FLAG 'ARG': expected ADDR:PORT" for a bad ADDR:PORT,
 *   "berth CMD: --FLAG 'ARG': expected seconds > 0 and at most MAX" for bad seconds;
 *   "berth CMD: unexpected argument 'ARG'", then the usage;
 *   "berth CMD: --A and --B are required" (all the required flags named), then the usage. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum flag_kind {
	FLAG_STRING,   /* const char *: the argument itself (borrowed from argv, or the default) */
	FLAG_HOSTPORT, /* ADDR:PORT: const char * host (owned by struct flags) at off, and a
			* uint16_t port at off_port */
	FLAG_SECONDS,  /* double: seconds in (0, max] */
	FLAG_MILLIS,   /* uint32_t: milliseconds, given on the command line as seconds in (0, max] */
	FLAG_BOOL,     /* bool, set to true; the flag takes no argument */
	FLAG_COUNT,    /* size_t: a whole number in [1, max] */
};

struct flag_spec {
	const char *name;    /* without the dashes: "agent-timeout" */
	enum flag_kind kind;
	size_t off;          /* offsetof() the value in the config struct */
	size_t off_port;     /* FLAG_HOSTPORT: offsetof() the uint16_t port */
	double max;          /* FLAG_SECONDS, FLAG_MILLIS, FLAG_COUNT: the largest value accepted */
	const char *def;     /* the default: parsed before argv as though given, and shown as
			      * "(default DEF)"; NULL = none (a default the help may describe) */
	bool required;       /* the command fails without it */
	const char *metavar; /* the argument in the usage: "ADDR:PORT"; NULL for FLAG_BOOL */
	const char *help;    /* what the usage says after the flag; '\n' starts another line */
};

/* One daemon's flags: its main parses them, `berth dev` reuses some. */
struct flag_table {
	const struct flag_spec *specs;
	size_t n;
};

/* Part of a command line: (some of) a table's flags, writing into one config struct. */
struct flag_set {
	const struct flag_table *table;
	void *cfg;               /* the struct the specs' offsets are in; borrowed */
	const char *prefix;      /* put before every name ("agent-": --http is --agent-http);
				  * NULL = none */
	const char *const *only; /* the names of the table's flags to take, in this order,
				  * NULL-terminated; NULL = all of them in the table's order */
};

struct flag_cmd {
	const char *name;         /* "master": `berth master`, and messages "berth master: …" */
	const char *about;        /* a paragraph the usage shows after the synopsis; NULL = none */
	const char *required_msg; /* said instead of "--A and --B are required"; NULL = that */
	const struct flag_set *sets;
	size_t nsets;
};

/* What a parse allocated (the hosts of ADDR:PORT flags): the configs' strings point into it
 * until flags_release(). */
struct flags {
	char **owned;
	size_t n;
};
#define FLAGS_INIT { NULL, 0 }
/* Frees what the parse allocated; the configs' ADDR:PORT hosts dangle afterwards. */
void flags_release(struct flags *fl);
#define _cleanup_flags_ __attribute__((cleanup(flags_release)))

/* flags_parse()'s answer when --help (or -h) printed the usage on stdout. */
#define FLAGS_HELP 1

/* Parses argv[1..argc) (argv[0] is the command's name, as getopt's messages show it): first
 * every flag's default, then the arguments. A flag may be given more than once; the last
 * wins. Returns 0 when the command should run; FLAGS_HELP after printing the usage on stdout
 * (exit 0); -EINVAL after printing a message and, except for a bad value, the usage on stderr
 * (exit 2). A name twice in cmd, or in `only` but not in the table, is a programmer error
 * (assert). Strings set in the configs are borrowed from argv, the specs, or fl. */
int flags_parse(struct flags *fl, const struct flag_cmd *cmd, int argc, char **argv);

/* Prints cmd's usage, from its tables: the synopsis ("usage: berth CMD [--FLAG ARG]…", the
 * required flags without brackets), the about paragraph, and one entry per flag with its
 * help and default. */
void flags_usage(const struct flag_cmd *cmd, FILE *f);
