/* Marathon placement constraints: validation (422 paths and messages like Marathon's)
 * and the placement decision for one candidate agent.
 *
 * The value a constraint looks at on an agent is the hostname for "hostname", else the
 * attribute's formatted text; an agent without the attribute has no value, and then only
 * UNLIKE allows it. Placed tasks without a value count for nothing. */
#include "model/constraints.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/util.h"

#define CONSTRAINTS_MAX 1000
#define CONSTRAINT_MAX_VALUE 1024

static const char *const op_names[] = {
	[C_UNIQUE] = "UNIQUE", [C_CLUSTER] = "CLUSTER", [C_GROUP_BY] = "GROUP_BY",
	[C_LIKE] = "LIKE",     [C_UNLIKE] = "UNLIKE",   [C_MAX_PER] = "MAX_PER",
	[C_IS] = "IS",
};

const char *constraint_op_name(enum constraint_op op)
{
	return (size_t)op < ARRAY_SIZE(op_names) ? op_names[op] : "?";
}

void constraints_free(struct constraint *c, size_t n)
{
	if (!c)
		return;
	for (size_t i = 0; i < n; i++) {
		free(c[i].field);
		free(c[i].value);
		if (c[i].has_re)
			regfree(&c[i].re);
	}
	free(c);
}

/* A whole-string integer ("3", not "3.0" or " 3"). */
static bool parse_count(const char *s, long *out)
{
	int64_t v;
	if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '-') || parse_i64(s, &v) < 0 ||
	    v < LONG_MIN || v > LONG_MAX)
		return false;
	*out = (long)v;
	return true;
}
/* What glibc's regcomp builds for an extended regular expression grows with its repetitions:
 * `x+` copies x once, `x{m,n}` copies it max(m, n) times, and a repetition of a repetition
 * multiplies (`5+++…+` with 100 `+` took 2.5 GB, found by fuzz-app). re_cost estimates the
 * nodes from s[*i] to the group's `)` or the end, stopping early past RE_MAX_COST. */
#define RE_MAX_COST 20000.0
#define RE_MAX_DEPTH 32

static double re_cost(const char *s, size_t *i, int depth)
{
	double total = 0, last = 0; /* last: the cost of the atom a quantifier would repeat */
	if (depth > RE_MAX_DEPTH)
		return RE_MAX_COST + 1;
	while (s[*i] && s[*i] != ')' && total <= RE_MAX_COST) {
		char ch = s[*i];
		double f = 1;
		if (ch == '(') {
			(*i)++;
			last = re_cost(s, i, depth + 1) + 1;
			if (s[*i] == ')')
				(*i)++;
			total += last;
			continue;
		}
		if (ch == '\\') {
			*i += s[*i + 1] ? 2 : 1;
			total += 1;
			last = 1;
			continue;
		}
		if (ch == '[') { /* a bracket expression is one node */
			size_t j = *i + 1;
			if (s[j] == '^')
				j++;
			if (s[j] == ']')
				j++;
			while (s[j] && s[j] != ']')
				j++;
			*i = s[j] ? j + 1 : j;
			total += 1;
			last = 1;
			continue;
		}
		if (ch == '*' || ch == '?') {
			f = 1;
			(*i)++;
		} else if (ch == '+') {
			f = 2;
			(*i)++;
		} else if (ch == '{' && s[*i + 1] >= '0' && s[*i + 1] <= '9') {
			char *end;
			double m = strtod(s + *i + 1, &end), n = m;
			if (*end == ',')
				n = end[1] >= '0' && end[1] <= '9' ? strtod(end + 1, &end) : m + 1;
			f = (m > n ? m : n) + 1;
			while (*end && *end != '}')
				end++;
			*i = (size_t)(*end ? end + 1 - s : end - s);
		} else {
			(*i)++;
			total += 1;
			last = ch == '|' ? 0 : 1;
			continue;
		}
		total += last * (f - 1) + 1;
		last *= f;
	}
	return total;
}

static bool re_too_costly(const char *value)
{
	size_t i = 0;
	double c = 0;
	while (c <= RE_MAX_COST && value[i]) { /* a stray ')' ends a group early: go on */
		c += re_cost(value, &i, 0);
		if (value[i] == ')')
			i++;
	}
	return c > RE_MAX_COST;
}


/* Parses one [field, OP, value?] at path; 0 or -EINVAL (errors added). */
static int parse_one(const json_t *j, const char *path, struct verr *err, struct constraint *c)
{
	memset(c, 0, sizeof(*c));
	if (!json_is_array(j)) {
		verr_add(err, path, "error.expected.jsarray");
		return -EINVAL;
	}
	size_t n = json_array_size(j);
	if (n < 2 || n > 3) {
		verr_add(err, path, "Each constraint must have either 2 or 3 fields");
		return -EINVAL;
	}
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(j, i);
		/* A number is accepted as the value ("MAX_PER", 2) and read as its text. */
		if (!json_is_string(e) && !(i == 2 && json_is_integer(e))) {
			char p[300];
			snprintf(p, sizeof(p), "%.256s/%zu", path, i);
			verr_add(err, p, "error.expected.jsstring");
			bad = 1;
		}
	}
	if (bad)
		return -EINVAL;
	const char *field = json_string_value(json_array_get(j, 0));
	const char *opname = json_string_value(json_array_get(j, 1));
	const json_t *jv = n == 3 ? json_array_get(j, 2) : NULL;
	char numbuf[32];
	const char *value = NULL;
	if (jv && json_is_integer(jv)) {
		snprintf(numbuf, sizeof(numbuf), "%lld", (long long)json_integer_value(jv));
		value = numbuf;
	} else if (jv) {
		value = json_string_value(jv);
	}

	if (!*field) {
		verr_add(err, path, "Constraint field must not be empty");
		return -EINVAL;
	}
	size_t k;
	for (k = 0; k < ARRAY_SIZE(op_names); k++)
		if (!strcmp(opname, op_names[k]))
			break;
	if (k == ARRAY_SIZE(op_names)) {
		verr_add(err, path,
			 "Constraint operator must be one of: UNIQUE, CLUSTER, GROUP_BY, LIKE, "
			 "UNLIKE, MAX_PER, IS");
		return -EINVAL;
	}
	c->op = (enum constraint_op)k;
	if (value && strlen(value) > CONSTRAINT_MAX_VALUE) {
		verr_add(err, path, "Constraint value must not be longer than %d characters",
			 CONSTRAINT_MAX_VALUE);
		return -EINVAL;
	}
	switch (c->op) {
	case C_UNIQUE:
		if (value) {
			verr_add(err, path, "Value specified but not used");
			return -EINVAL;
		}
		break;
	case C_CLUSTER:
		if (value && !*value) {
			verr_add(err, path, "Missing value");
			return -EINVAL;
		}
		break;
	case C_GROUP_BY:
		if (value && (!parse_count(value, &c->number) || c->number < 0)) {
			verr_add(err, path, "Value was not an integer");
			return -EINVAL;
		}
		break;
	case C_MAX_PER:
		if (!value) {
			verr_add(err, path, "Missing value");
			return -EINVAL;
		}
		if (!parse_count(value, &c->number) || c->number < 0) {
			verr_add(err, path, "Value was not an integer");
			return -EINVAL;
		}
		break;
	case C_IS:
		if (!value) {
			verr_add(err, path, "Missing value");
			return -EINVAL;
		}
		break;
	case C_LIKE:
	case C_UNLIKE: {
		if (!value) {
			verr_add(err, path, "A regular expression value must be provided");
			return -EINVAL;
		}
		if (strlen(value) > 512 || re_too_costly(value)) {
			verr_add(err, path,
				 "'%.64s%s' is too costly a regular expression (at most 512 bytes, "
				 "without repetitions of repetitions that multiply its size)",
				 value, strlen(value) > 64 ? "…" : "");
			return -EINVAL;
		}
		char *pat = xasprintf("^(%s)$", value);
		int rc = regcomp(&c->re, pat, REG_EXTENDED | REG_NOSUB);
		free(pat);
		if (rc != 0) {
			char msg[128];
			regerror(rc, NULL, msg, sizeof(msg));
			verr_add(err, path, "'%s' is not a valid regular expression (%s)", value, msg);
			return -EINVAL;
		}
		c->has_re = true;
		break;
	}
	}
	c->field = xstrdup(!strcmp(field, "@hostname") ? "hostname" : field);
	c->value = value ? xstrdup(value) : NULL;
	return 0;
}

int constraints_parse(const json_t *json, const char *path_prefix, struct verr *err,
		      struct constraint **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!json || json_is_null(json))
		return 0;
	if (!json_is_array(json)) {
		verr_add(err, path_prefix, "error.expected.jsarray");
		return -EINVAL;
	}
	size_t len = json_array_size(json);
	if (len > CONSTRAINTS_MAX) {
		verr_add(err, path_prefix, "must not have more than %d constraints",
			 CONSTRAINTS_MAX);
		return -EINVAL;
	}
	if (!len)
		return 0;
	struct constraint *v = xcalloc(len, sizeof(*v));
	size_t good = 0;
	int ret = 0;
	for (size_t i = 0; i < len; i++) {
		char path[256];
		snprintf(path, sizeof(path), "%.200s/%zu", path_prefix, i);
		struct constraint c;
		if (parse_one(json_array_get(json, i), path, err, &c) < 0) {
			if (c.has_re)
				regfree(&c.re);
			ret = -EINVAL;
			continue;
		}
		v[good++] = c;
	}
	if (ret < 0) {
		constraints_free(v, good);
		return ret;
	}
	*out = v;
	*n = good;
	return 0;
}

/* ---- placement ---- */

static const char *value_of(const struct constraint *c, const struct placement_target *t)
{
	if (!t)
		return NULL;
	if (!strcmp(c->field, "hostname"))
		return t->hostname;
	if (!t->attrs)
		return NULL;
	const struct attribute *a = attributes_get(t->attrs, c->field);
	return a ? a->text : NULL;
}

static bool is_match(const struct constraint *c, const struct placement_target *t,
		     const char *v)
{
	if (!strcmp(c->field, "hostname") || !t->attrs)
		return !strcmp(v, c->value);
	const struct attribute *a = attributes_get(t->attrs, c->field);
	if (a && a->type == ATTR_SCALAR) {
		double d;
		if (parse_double(c->value, &d) == 0)
			return d == a->scalar;
	}
	return !strcmp(v, c->value);
}

static size_t count_placed(const struct constraint *c,
			   const struct placement_target *const *placed, size_t nplaced,
			   const char *v)
{
	size_t cnt = 0;
	for (size_t i = 0; i < nplaced; i++) {
		const char *pv = value_of(c, placed[i]);
		if (pv && !strcmp(pv, v))
			cnt++;
	}
	return cnt;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* GROUP_BY: the candidate's value may take one more task when its count is at the
 * minimum over every known value (values on known agents and of placed tasks). With an
 * expected number of values larger than the known ones, unseen values count 0. */
static bool group_by_allows(const struct constraint *c, const char *v,
			    const struct placement_target *const *placed, size_t nplaced,
			    const struct placement_target *const *all, size_t nall)
{
	size_t cap = nall + nplaced + 1, k = 0;
	const char **vals = xmalloc(cap * sizeof(*vals));
	vals[k++] = v;
	for (size_t i = 0; i < nall; i++) {
		const char *x = value_of(c, all[i]);
		if (x)
			vals[k++] = x;
	}
	for (size_t i = 0; i < nplaced; i++) {
		const char *x = value_of(c, placed[i]);
		if (x)
			vals[k++] = x;
	}
	qsort(vals, k, sizeof(*vals), cmp_str);
	/* Distinct values; for each its placed count, computed by a sorted sweep of the
	 * placed values. */
	size_t np = 0;
	const char **pv = xmalloc((nplaced + 1) * sizeof(*pv));
	for (size_t i = 0; i < nplaced; i++) {
		const char *x = value_of(c, placed[i]);
		if (x)
			pv[np++] = x;
	}
	qsort(pv, np, sizeof(*pv), cmp_str);
	size_t ndistinct = 0, min = SIZE_MAX, mine = 0, pi = 0;
	for (size_t i = 0; i < k; i++) {
		if (i && !strcmp(vals[i], vals[i - 1]))
			continue;
		ndistinct++;
		while (pi < np && strcmp(pv[pi], vals[i]) < 0)
			pi++;
		size_t cnt = 0;
		while (pi < np && !strcmp(pv[pi], vals[i])) {
			cnt++;
			pi++;
		}
		if (cnt < min)
			min = cnt;
		if (!strcmp(vals[i], v))
			mine = cnt;
	}
	free(vals);
	free(pv);
	if (c->number > 0 && ndistinct < (size_t)c->number)
		min = 0;
	return mine <= min;
}

static bool allow_one(const struct constraint *c, const struct placement_target *cand,
		      const struct placement_target *const *placed, size_t nplaced,
		      const struct placement_target *const *all, size_t nall)
{
	const char *v = value_of(c, cand);
	if (!v)
		return c->op == C_UNLIKE;
	switch (c->op) {
	case C_UNIQUE:
		return count_placed(c, placed, nplaced, v) == 0;
	case C_CLUSTER:
		if (c->value)
			return is_match(c, cand, v);
		for (size_t i = 0; i < nplaced; i++) {
			const char *pv = value_of(c, placed[i]);
			if (pv)
				return !strcmp(pv, v);
		}
		return true;
	case C_GROUP_BY:
		return group_by_allows(c, v, placed, nplaced, all, nall);
	case C_LIKE:
		return c->has_re && regexec(&c->re, v, 0, NULL, 0) == 0;
	case C_UNLIKE:
		return c->has_re && regexec(&c->re, v, 0, NULL, 0) != 0;
	case C_MAX_PER:
		return count_placed(c, placed, nplaced, v) < (size_t)(c->number > 0 ? c->number : 0);
	case C_IS:
		return is_match(c, cand, v);
	}
	return false;
}

bool constraints_allow(const struct constraint *c, size_t n,
		       const struct placement_target *candidate,
		       const struct placement_target *const *placed, size_t nplaced,
		       const struct placement_target *const *all, size_t nall)
{
	for (size_t i = 0; i < n; i++)
		if (!allow_one(&c[i], candidate, placed, nplaced, all, nall))
			return false;
	return true;
}

/* ---- the same from counts ---- */

static bool allow_one_counted(const struct constraint *c, const struct placement_target *cand,
			      const struct valcount *placed, size_t group_min)
{
	const char *v = value_of(c, cand);
	if (!v)
		return c->op == C_UNLIKE;
	switch (c->op) {
	case C_UNIQUE:
		return valcount_get(placed, c->field, v) == 0;
	case C_CLUSTER:
		if (c->value)
			return is_match(c, cand, v);
		return valcount_total(placed, c->field) == 0 || valcount_get(placed, c->field, v) > 0;
	case C_GROUP_BY:
		return valcount_get(placed, c->field, v) <= group_min;
	case C_LIKE:
		return c->has_re && regexec(&c->re, v, 0, NULL, 0) == 0;
	case C_UNLIKE:
		return c->has_re && regexec(&c->re, v, 0, NULL, 0) != 0;
	case C_MAX_PER:
		return valcount_get(placed, c->field, v) < (size_t)(c->number > 0 ? c->number : 0);
	case C_IS:
		return is_match(c, cand, v);
	}
	return false;
}

bool constraints_allow_counted(const struct constraint *c, size_t n,
			       const struct placement_target *candidate,
			       const struct valcount *placed, const size_t *group_min)
{
	for (size_t i = 0; i < n; i++)
		if (!allow_one_counted(&c[i], candidate, placed,
				       c[i].op == C_GROUP_BY ? group_min[i] : 0))
			return false;
	return true;
}

size_t constraints_group_min(const struct constraint *c, const struct valcount *placed,
			     const struct placement_target *const *all, size_t nall)
{
	struct hmap seen = HMAP_INIT;
	size_t min = SIZE_MAX, ndistinct = 0;
	for (size_t i = 0; i < nall; i++) {
		const char *x = value_of(c, all[i]);
		if (!x || hmap_get(&seen, x))
			continue;
		hmap_put(&seen, x, (void *)1);
		ndistinct++;
		size_t cnt = valcount_get(placed, c->field, x);
		if (cnt < min)
			min = cnt;
	}
	const char *x;
	size_t cnt;
	for (size_t i = 0; valcount_next(placed, c->field, &i, &x, &cnt);) {
		if (hmap_get(&seen, x))
			continue;
		ndistinct++;
		if (cnt < min)
			min = cnt;
	}
	hmap_release(&seen);
	if (min == SIZE_MAX || (c->number > 0 && ndistinct < (size_t)c->number))
		min = 0;
	return min;
}

void constraints_count_target(struct valcount *placed, const struct placement_target *t, int d)
{
	void (*op)(struct valcount *, const char *, const char *) =
		d > 0 ? valcount_add : valcount_del;
	if (t->hostname)
		op(placed, "hostname", t->hostname);
	for (size_t i = 0; t->attrs && i < t->attrs->n; i++) {
		const struct attribute *a = &t->attrs->v[i];
		if (strcmp(a->name, "hostname") && a->text)
			op(placed, a->name, a->text);
	}
}
