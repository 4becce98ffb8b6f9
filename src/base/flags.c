#include "base/flags.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "base/mem.h"
#include "base/util.h"

#define USAGE_WIDTH 88 /* the synopsis wraps before this column */
#define HEAD_WIDTH 26  /* "--flag ARG" wider than this puts its help on the next line */

/* One flag of the command line: a spec, the config it writes and its full name. */
struct entry {
	const struct flag_spec *spec;
	void *cfg;
	char *name; /* the set's prefix and the spec's name */
	bool seen;
};

static const struct flag_spec *find_spec(const struct flag_table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->specs[i].name, name))
			return &t->specs[i];
	return NULL;
}

static void add_entry(struct entry **es, size_t *n, const struct flag_set *set,
		      const struct flag_spec *spec)
{
	char *name = xasprintf("%s%s", set->prefix ? set->prefix : "", spec->name);
	assert(strcmp(name, "help") != 0);
	for (size_t i = 0; i < *n; i++)
		assert(strcmp((*es)[i].name, name) != 0);
	assert(spec->kind != FLAG_BOOL || !spec->def);
	*es = xrealloc(*es, (*n + 1) * sizeof(**es));
	(*es)[(*n)++] = (struct entry){ .spec = spec, .cfg = set->cfg, .name = name };
}

/* The command's flags in the order the usage lists them. Returns the count; *out is
 * malloc'd (free with free_entries). */
static size_t collect(const struct flag_cmd *cmd, struct entry **out)
{
	struct entry *es = NULL;
	size_t n = 0;
	for (size_t s = 0; s < cmd->nsets; s++) {
		const struct flag_set *set = &cmd->sets[s];
		if (!set->only) {
			for (size_t i = 0; i < set->table->n; i++)
				add_entry(&es, &n, set, &set->table->specs[i]);
			continue;
		}
		for (const char *const *o = set->only; *o; o++) {
			const struct flag_spec *spec = find_spec(set->table, *o);
			assert(spec);
			add_entry(&es, &n, set, spec);
		}
	}
	*out = es;
	return n;
}

static void free_entries(struct entry *es, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(es[i].name);
	free(es);
}

static int set_seconds(const char *cmd, const struct entry *e, const char *arg, double *out)
{
	double v;
	if (parse_double(arg, &v) < 0 || !(v > 0) || v > e->spec->max) {
		fprintf(stderr, "berth %s: --%s '%s': expected seconds > 0 and at most %g\n", cmd,
			e->name, arg, e->spec->max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Stores arg (the flag's argument, or its default) in the entry's config. 0 or -EINVAL
 * after printing the message. */
static int set_value(struct flags *fl, const char *cmd, const struct entry *e, const char *arg)
{
	char *field = (char *)e->cfg + e->spec->off;
	double sec;
	switch (e->spec->kind) {
	case FLAG_STRING:
		*(const char **)field = arg;
		return 0;
	case FLAG_HOSTPORT: {
		char *host = NULL;
		uint16_t port;
		if (parse_hostport(arg, &host, &port) < 0) {
			fprintf(stderr, "berth %s: --%s '%s': expected ADDR:PORT\n", cmd, e->name,
				arg);
			return -EINVAL;
		}
		fl->owned = xrealloc(fl->owned, (fl->n + 1) * sizeof(*fl->owned));
		fl->owned[fl->n++] = host;
		*(const char **)field = host;
		*(uint16_t *)((char *)e->cfg + e->spec->off_port) = port;
		return 0;
	}
	case FLAG_SECONDS:
		return set_seconds(cmd, e, arg, (double *)field);
	case FLAG_MILLIS:
		if (set_seconds(cmd, e, arg, &sec) < 0)
			return -EINVAL;
		*(uint32_t *)field = (uint32_t)(sec * 1000.0);
		return 0;
	case FLAG_BOOL:
		*(bool *)field = true;
		return 0;
	case FLAG_COUNT: {
		uint64_t n;
		if (parse_u64(arg, &n) < 0 || n < 1 || (double)n > e->spec->max) {
			fprintf(stderr, "berth %s: --%s '%s': expected a whole number from 1 to %.0f\n",
				cmd, e->name, arg, e->spec->max);
			return -EINVAL;
		}
		*(size_t *)field = (size_t)n;
		return 0;
	}
	}
	assert(!"unknown flag kind");
	return -EINVAL;
}

/* "--a", "--a and --b", "--a, --b and --c": the required flags, for the message. */
static char *required_list(const struct entry *es, size_t n, size_t *count)
{
	char *s = xstrdup("");
	size_t k = 0, total = 0;
	for (size_t i = 0; i < n; i++)
		total += es[i].spec->required;
	for (size_t i = 0; i < n; i++) {
		if (!es[i].spec->required)
			continue;
		const char *sep = k == 0 ? "" : k + 1 == total ? " and " : ", ";
		char *t = xasprintf("%s%s--%s", s, sep, es[i].name);
		free(s);
		s = t;
		k++;
	}
	*count = total;
	return s;
}

/* The usage's "--flag ARG". */
static char *head(const struct entry *e)
{
	return e->spec->metavar ? xasprintf("--%s %s", e->name, e->spec->metavar)
				: xasprintf("--%s", e->name);
}

static void print_help(FILE *f, const struct entry *e, int col)
{
	const char *h = e->spec->help ? e->spec->help : "";
	for (const char *nl; (nl = strchr(h, '\n')); h = nl + 1)
		fprintf(f, "%.*s\n%*s", (int)(nl - h), h, col, "");
	fputs(h, f);
	if (e->spec->def)
		fprintf(f, "%s(default %s)", *h ? " " : "", e->spec->def);
	fputc('\n', f);
}

static void usage_of(const struct flag_cmd *cmd, const struct entry *es, size_t n, FILE *f)
{
	int indent = fprintf(f, "usage: berth %s", cmd->name), at = indent;
	for (size_t i = 0; i < n; i++) {
		char *h = head(&es[i]);
		char *tok = es[i].spec->required ? xstrdup(h) : xasprintf("[%s]", h);
		int len = (int)strlen(tok);
		if (at > indent && at + 1 + len > USAGE_WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			at = indent;
		}
		at += fprintf(f, " %s", tok);
		free(tok);
		free(h);
	}
	fputs("\n\n", f);
	if (cmd->about)
		fprintf(f, "%s\n", cmd->about);
	int width = 0;
	for (size_t i = 0; i < n; i++) {
		char *h = head(&es[i]);
		int len = (int)strlen(h);
		if (len <= HEAD_WIDTH && len > width)
			width = len;
		free(h);
	}
	for (size_t i = 0; i < n; i++) {
		char *h = head(&es[i]);
		if ((int)strlen(h) > width)
			fprintf(f, "  %s\n%*s", h, width + 4, "");
		else
			fprintf(f, "  %-*s  ", width, h);
		print_help(f, &es[i], width + 4);
		free(h);
	}
}

void flags_usage(const struct flag_cmd *cmd, FILE *f)
{
	struct entry *es;
	size_t n = collect(cmd, &es);
	usage_of(cmd, es, n, f);
	free_entries(es, n);
}

static int parse_args(struct flags *fl, const struct flag_cmd *cmd, struct entry *es, size_t n,
		      int argc, char **argv)
{
	for (size_t i = 0; i < n; i++) {
		if (es[i].spec->def) {
			int r = set_value(fl, cmd->name, &es[i], es[i].spec->def);
			assert(r == 0); /* a default the parser rejects is the table's bug */
			(void)r;
		}
	}
	struct option *opts = xcalloc(n + 2, sizeof(*opts));
	for (size_t i = 0; i < n; i++)
		opts[i] = (struct option){ es[i].name,
					   es[i].spec->kind == FLAG_BOOL ? no_argument
									  : required_argument,
					   NULL, 256 + (int)i };
	opts[n] = (struct option){ "help", no_argument, NULL, 'h' };
	int c, r = 0;
	optind = 0; /* glibc: start afresh, also after an earlier parse stopped half-way */
	while (!r && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage_of(cmd, es, n, stdout);
			r = FLAGS_HELP;
		} else if (c >= 256 && c < 256 + (int)n) {
			es[c - 256].seen = true;
			r = set_value(fl, cmd->name, &es[c - 256], optarg);
		} else { /* getopt said what was wrong */
			usage_of(cmd, es, n, stderr);
			r = -EINVAL;
		}
	}
	free(opts);
	if (r)
		return r;
	if (optind < argc) {
		fprintf(stderr, "berth %s: unexpected argument '%s'\n", cmd->name, argv[optind]);
		usage_of(cmd, es, n, stderr);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!es[i].spec->required || es[i].seen)
			continue;
		size_t count;
		_cleanup_free_ char *names = required_list(es, n, &count);
		if (cmd->required_msg)
			fprintf(stderr, "berth %s: %s\n", cmd->name, cmd->required_msg);
		else
			fprintf(stderr, "berth %s: %s %s required\n", cmd->name, names,
				count == 1 ? "is" : "are");
		usage_of(cmd, es, n, stderr);
		return -EINVAL;
	}
	return 0;
}

int flags_parse(struct flags *fl, const struct flag_cmd *cmd, int argc, char **argv)
{
	struct entry *es;
	size_t n = collect(cmd, &es);
	int r = parse_args(fl, cmd, es, n, argc, argv);
	free_entries(es, n);
	return r;
}

void flags_release(struct flags *fl)
{
	if (!fl)
		return;
	for (size_t i = 0; i < fl->n; i++)
		free(fl->owned[i]);
	free(fl->owned);
	fl->owned = NULL;
	fl->n = 0;
}
