/* Spec file for berth-executor; see exec-spec.h. Plain libc only. */
#include "executor/exec-spec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct out_buf {
	char *p;
	size_t len, alloc;
	int err;
};

static void put(struct out_buf *o, const char *s)
{
	if (o->err) /* first: s may be NULL once a check failed */
		return;
	size_t n = strlen(s) + 1;
	if (o->len + n > EXEC_SPEC_MAX_BYTES) {
		o->err = -E2BIG;
		return;
	}
	if (o->len + n > o->alloc) {
		size_t a = o->alloc ? o->alloc : 1024;
		while (a < o->len + n)
			a *= 2;
		char *np = realloc(o->p, a);
		if (!np) {
			o->err = -ENOMEM;
			return;
		}
		o->p = np;
		o->alloc = a;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_kv(struct out_buf *o, const char *k, const char *v)
{
	put(o, k);
	put(o, v);
}

static const char *const proto_names[] = {
	[EXEC_CHECK_HTTP] = "HTTP", [EXEC_CHECK_HTTPS] = "HTTPS",
	[EXEC_CHECK_TCP] = "TCP",   [EXEC_CHECK_COMMAND] = "COMMAND",
};

const char *exec_check_proto_name(enum exec_check_proto p)
{
	return (unsigned)p < sizeof(proto_names) / sizeof(proto_names[0]) ? proto_names[p] : "?";
}

int exec_check_proto_parse(const char *s, enum exec_check_proto *out)
{
	if (!strncmp(s, "MESOS_", 6) && strcmp(s + 6, "COMMAND"))
		s += 6;
	for (size_t i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++) {
		if (!strcmp(s, proto_names[i])) {
			*out = (enum exec_check_proto)i;
			return 0;
		}
	}
	return -EINVAL;
}

void exec_check_defaults(struct exec_check *c, int readiness)
{
	memset(c, 0, sizeof(*c));
	c->readiness = readiness;
	c->protocol = EXEC_CHECK_HTTP;
	c->path = "/";
	if (readiness) {
		c->interval_ms = 30000;
		c->timeout_ms = 10000;
	} else {
		c->grace_ms = 300000;
		c->interval_ms = 60000;
		c->timeout_ms = 20000;
		c->delay_ms = 15000;
		c->max_failures = 3;
	}
}

static void put_u32(struct out_buf *o, const char *k, uint32_t v)
{
	char num[16];
	snprintf(num, sizeof(num), "%u", (unsigned)v);
	put_kv(o, k, v ? num : "0");
}

static void put_u64(struct out_buf *o, const char *k, uint64_t v)
{
	char num[24];
	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	put_kv(o, k, num);
}

static void put_check(struct out_buf *o, const struct exec_check *c)
{
	put_kv(o, "check", c->readiness ? "ready" : "health");
	put_kv(o, "c.protocol", exec_check_proto_name(c->protocol));
	if (c->path)
		put_kv(o, "c.path", c->path);
	if (c->command)
		put_kv(o, "c.command", c->command);
	put_u32(o, "c.port", c->port);
	put_u32(o, "c.grace_ms", c->grace_ms);
	put_u32(o, "c.interval_ms", c->interval_ms);
	put_u32(o, "c.timeout_ms", c->timeout_ms);
	put_u32(o, "c.delay_ms", c->delay_ms);
	put_u32(o, "c.max_failures", c->max_failures);
	put_kv(o, "c.ignore_1xx", c->ignore_1xx ? "1" : "0");
	if (c->nstatus) {
		char list[EXEC_CHECK_MAX_STATUS * 6 + 1];
		size_t n = 0;
		for (size_t i = 0; i < c->nstatus && i < EXEC_CHECK_MAX_STATUS; i++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%u", i ? "," : "",
					      (unsigned)c->status[i]);
		put_kv(o, "c.status", list);
	}
}

int exec_volume_path_valid(const char *path)
{
	size_t n = path ? strlen(path) : 0;
	if (n == 0 || n >= 1024)
		return 0;
	for (const char *p = path; *p;) {
		size_t seg = strcspn(p, "/");
		if (seg == 2 && p[0] == '.' && p[1] == '.')
			return 0;
		p += seg;
		if (*p == '/')
			p++;
	}
	return 1;
}

static int volume_valid(const struct exec_volume *v)
{
	return v->source && v->source[0] == '/' && exec_volume_path_valid(v->source) && v->path &&
	       (!*v->path || exec_volume_path_valid(v->path));
}

int exec_spec_serialize(const struct exec_spec *s, char **out, size_t *len)
{
	struct out_buf o = { 0 };
	char num[32];

	if (!s->task_id || !*s->task_id || !s->sandbox || s->sandbox[0] != '/')
		return -EINVAL;
	if (s->shell ? !s->cmd : (s->nargs == 0 && !s->image))
		return -EINVAL;
	if (s->image && (!*s->image || !s->img_store || s->img_store[0] != '/'))
		return -EINVAL;
	if (s->npmaps > EXEC_SPEC_MAX_PORTMAPS)
		return -E2BIG;
	if (s->nargs + s->nenv > EXEC_SPEC_MAX_ITEMS)
		return -E2BIG;
	put(&o, EXEC_SPEC_MAGIC);
	put_kv(&o, "task_id", s->task_id);
	put_kv(&o, "sandbox", s->sandbox);
	put_kv(&o, "shell", s->shell ? "1" : "0");
	if (s->shell)
		put_kv(&o, "cmd", s->cmd);
	snprintf(num, sizeof(num), "%u", (unsigned)s->grace_ms);
	put_kv(&o, "grace_ms", num);
	if (s->health_dir)
		put_kv(&o, "health_dir", s->health_dir);
	if (s->nchecks > EXEC_SPEC_MAX_CHECKS)
		return -E2BIG;
	for (size_t i = 0; i < s->nchecks; i++) {
		const struct exec_check *c = &s->checks[i];
		if (c->protocol == EXEC_CHECK_COMMAND ? !c->command || !*c->command
						      : c->port == 0 || c->nstatus > EXEC_CHECK_MAX_STATUS) {
			o.err = o.err ? o.err : -EINVAL;
			break;
		}
		put_check(&o, c);
	}
	if (s->nvolumes > EXEC_SPEC_MAX_VOLUMES) {
		free(o.p);
		return -E2BIG;
	}
	for (size_t i = 0; i < s->nvolumes; i++) {
		if (!volume_valid(&s->volumes[i])) {
			o.err = o.err ? o.err : -EINVAL;
			break;
		}
		put_kv(&o, "volume", s->volumes[i].source);
		put_kv(&o, "v.path", s->volumes[i].path);
		put_kv(&o, "v.ro", s->volumes[i].ro ? "1" : "0");
	}
	if (s->lease_file) {
		if (s->lease_file[0] != '/' || !s->nvolumes)
			o.err = o.err ? o.err : -EINVAL;
		put_kv(&o, "lease", s->lease_file);
	}
	if (s->cg_root) {
		if (s->cg_root[0] != '/' || !s->cg_name || !*s->cg_name)
			o.err = o.err ? o.err : -EINVAL;
		put_kv(&o, "cg.root", s->cg_root);
		put_kv(&o, "cg.name", s->cg_name ? s->cg_name : "");
		put_u64(&o, "cg.cpu_shares", s->cg_cpu_shares);
		put_u64(&o, "cg.cfs_quota_us", s->cg_cfs_quota_us);
		put_u64(&o, "cg.cfs_period_us", s->cg_cfs_period_us);
		put_u64(&o, "cg.mem_bytes", s->cg_mem_bytes);
		put_u64(&o, "cg.pids_max", s->cg_pids_max);
	}
	if (s->isolate)
		put_kv(&o, "isolate", "1");
	if (s->nfetch > EXEC_SPEC_MAX_FETCH)
		o.err = o.err ? o.err : -E2BIG;
	for (size_t i = 0; i < s->nfetch && !o.err; i++) {
		const struct exec_fetch *f = &s->fetch[i];
		if (!f->uri || !*f->uri) {
			o.err = -EINVAL;
			break;
		}
		put_kv(&o, "fetch", f->uri);
		put_kv(&o, "f.extract", f->extract ? "1" : "0");
		put_kv(&o, "f.exec", f->executable ? "1" : "0");
		if (f->output)
			put_kv(&o, "f.out", f->output);
		if (f->cache)
			put_kv(&o, "f.cache", "1");
	}
	if (s->user)
		put_kv(&o, "user", s->user);
	if (s->attach)
		put_kv(&o, "attach", s->attach);
	if (s->fetch_cache) {
		if (s->fetch_cache[0] != '/')
			o.err = o.err ? o.err : -EINVAL;
		put_kv(&o, "fc.dir", s->fetch_cache);
		put_u64(&o, "fc.max", s->fetch_cache_max);
	}
	if (s->image) {
		put_kv(&o, "image", s->image);
		put_kv(&o, "img.store", s->img_store);
		if (s->img_dir)
			put_kv(&o, "img.dir", s->img_dir);
		if (s->img_registry)
			put_kv(&o, "img.registry", s->img_registry);
		if (s->img_auth)
			put_kv(&o, "img.auth", s->img_auth);
		if (s->img_auth_secret)
			put_kv(&o, "img.auth_secret", s->img_auth_secret);
		put_kv(&o, "img.pull", s->img_pull ? "1" : "0");
		put_kv(&o, "net", s->net_bridge ? "bridge" : "host");
		for (size_t i = 0; i < s->npmaps; i++) {
			char pm[48];
			const struct exec_portmap *m = &s->pmaps[i];
			if (!m->host || !m->container) {
				o.err = o.err ? o.err : -EINVAL;
				break;
			}
			snprintf(pm, sizeof(pm), "%u:%u/%s", (unsigned)m->host, (unsigned)m->container,
				 m->udp ? "udp" : "tcp");
			put_kv(&o, "pm", pm);
		}
		for (size_t i = 0; i < s->nparams; i++) {
			if (!strchr(s->params[i], '=') || s->params[i][0] == '=') {
				o.err = o.err ? o.err : -EINVAL;
				break;
			}
			put_kv(&o, "prm", s->params[i]);
		}
	}
	for (size_t i = 0; i < s->nargs; i++)
		put_kv(&o, "arg", s->args[i]);
	for (size_t i = 0; i < s->nenv; i++) {
		if (!strchr(s->env[i], '=') || s->env[i][0] == '=') {
			o.err = o.err ? o.err : -EINVAL;
			break;
		}
		put_kv(&o, "env", s->env[i]);
	}
	if ((s->nsecrets || s->img_auth_secret) && (!s->secrets_dir || s->secrets_dir[0] != '/'))
		o.err = o.err ? o.err : -EINVAL;
	if (s->img_auth_secret && !s->image)
		o.err = o.err ? o.err : -EINVAL;
	if ((s->nsecrets || s->img_auth_secret) && s->secrets_dir)
		put_kv(&o, "secrets_dir", s->secrets_dir);
	for (size_t i = 0; i < s->nsecrets && !o.err; i++) {
		if (!strchr(s->secrets[i], '=') || s->secrets[i][0] == '=') {
			o.err = -EINVAL;
			break;
		}
		put_kv(&o, "secret", s->secrets[i]);
	}
	if (o.err) {
		free(o.p);
		return o.err;
	}
	*out = o.p;
	*len = o.len;
	return 0;
}

void exec_spec_release(struct exec_spec *s)
{
	free(s->args);
	free(s->env);
	free(s->checks);
	free(s->volumes);
	free(s->fetch);
	free(s->pmaps);
	free(s->params);
	free(s->secrets);
	for (size_t i = 0; i < s->nsecret_env; i++) {
		explicit_bzero(s->secret_env[i], strlen(s->secret_env[i]));
		free(s->secret_env[i]);
	}
	free(s->secret_env);
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

static int parse_u32(const char *v, uint32_t *out)
{
	unsigned long x = 0;
	if (!*v)
		return -EINVAL;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return -EINVAL;
		x = x * 10 + (unsigned long)(*v - '0');
		if (x > UINT32_MAX)
			return -EINVAL;
	}
	*out = (uint32_t)x;
	return 0;
}

static int parse_u64(const char *v, uint64_t *out)
{
	uint64_t x = 0;
	if (!*v || strlen(v) > 19)
		return -EINVAL;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return -EINVAL;
		x = x * 10 + (uint64_t)(*v - '0');
	}
	*out = x;
	return 0;
}

static int parse_status_list(const char *v, struct exec_check *c)
{
	c->nstatus = 0;
	while (*v) {
		uint32_t code = 0;
		size_t n = strcspn(v, ",");
		char tmp[8];
		if (n == 0 || n >= sizeof(tmp) || c->nstatus >= EXEC_CHECK_MAX_STATUS)
			return -EINVAL;
		memcpy(tmp, v, n);
		tmp[n] = '\0';
		if (parse_u32(tmp, &code) || code < 100 || code > 999)
			return -EINVAL;
		c->status[c->nstatus++] = (uint16_t)code;
		v += n;
		if (*v == ',' && !*++v)
			return -EINVAL;
	}
	return 0;
}

/* One "c.*" field of the current check. 0 or -EINVAL. */
static int parse_check_field(struct exec_check *c, const char *k, const char *v)
{
	uint32_t x;
	if (!strcmp(k, "protocol"))
		return exec_check_proto_parse(v, &c->protocol);
	if (!strcmp(k, "path")) {
		c->path = v;
		return 0;
	}
	if (!strcmp(k, "command")) {
		c->command = v;
		return 0;
	}
	if (!strcmp(k, "status"))
		return parse_status_list(v, c);
	if (!strcmp(k, "ignore_1xx")) {
		if (strcmp(v, "0") && strcmp(v, "1"))
			return -EINVAL;
		c->ignore_1xx = v[0] == '1';
		return 0;
	}
	if (parse_u32(v, &x))
		return -EINVAL;
	if (!strcmp(k, "port")) {
		if (x > 65535)
			return -EINVAL;
		c->port = (uint16_t)x;
	} else if (!strcmp(k, "grace_ms"))
		c->grace_ms = x;
	else if (!strcmp(k, "interval_ms"))
		c->interval_ms = x;
	else if (!strcmp(k, "timeout_ms"))
		c->timeout_ms = x;
	else if (!strcmp(k, "delay_ms"))
		c->delay_ms = x;
	else if (!strcmp(k, "max_failures"))
		c->max_failures = x;
	else
		return -EINVAL;
	return 0;
}

/* "<host>:<container>/<tcp|udp>", both ports 1..65535. 0 or -EINVAL. */
static int parse_portmap(const char *v, struct exec_portmap *m)
{
	unsigned h, c;
	char proto[4];
	int n = 0;
	if (sscanf(v, "%5u:%5u/%3[a-z]%n", &h, &c, proto, &n) != 3 || v[n] || !h || !c ||
	    h > 65535 || c > 65535 || (strcmp(proto, "tcp") && strcmp(proto, "udp")))
		return -EINVAL;
	m->host = (uint16_t)h;
	m->container = (uint16_t)c;
	m->udp = proto[0] == 'u';
	return 0;
}

static int check_valid(const struct exec_check *c)
{
	if (c->protocol == EXEC_CHECK_COMMAND)
		return c->command && *c->command;
	return c->port != 0 && (c->protocol == EXEC_CHECK_TCP || (c->path && c->path[0] == '/'));
}

int exec_spec_parse(char *buf, size_t len, struct exec_spec *out)
{
	memset(out, 0, sizeof(*out));
	out->buf = buf;
	if (len > EXEC_SPEC_MAX_BYTES) {
		exec_spec_release(out);
		return -E2BIG;
	}
	if (len == 0 || buf[len - 1] != '\0')
		goto bad;

	/* Count first so the arrays are allocated once. */
	size_t nstr = 0;
	for (size_t i = 0; i < len; i++)
		nstr += buf[i] == '\0';
	if (nstr > 2 * EXEC_SPEC_MAX_ITEMS + 16) {
		exec_spec_release(out);
		return -E2BIG;
	}
	out->args = calloc(nstr / 2 + 1, sizeof(char *));
	out->env = calloc(nstr / 2 + 1, sizeof(char *));
	out->checks = calloc(EXEC_SPEC_MAX_CHECKS, sizeof(*out->checks));
	out->volumes = calloc(EXEC_SPEC_MAX_VOLUMES, sizeof(*out->volumes));
	out->fetch = calloc(EXEC_SPEC_MAX_FETCH, sizeof(*out->fetch));
	out->pmaps = calloc(EXEC_SPEC_MAX_PORTMAPS, sizeof(*out->pmaps));
	out->params = calloc(nstr / 2 + 1, sizeof(char *));
	out->secrets = calloc(nstr / 2 + 1, sizeof(char *));
	if (!out->args || !out->env || !out->checks || !out->volumes || !out->fetch ||
	    !out->pmaps || !out->params || !out->secrets) {
		exec_spec_release(out);
		return -ENOMEM;
	}

	const char *p = buf, *end = buf + len;
	if (strcmp(p, EXEC_SPEC_MAGIC))
		goto bad;
	p += strlen(p) + 1;
	int have_shell = 0;
	while (p < end) {
		const char *k = p;
		p += strlen(p) + 1;
		if (p >= end)
			goto bad;
		const char *v = p;
		p += strlen(p) + 1;
		if (!strcmp(k, "task_id"))
			out->task_id = v;
		else if (!strcmp(k, "sandbox"))
			out->sandbox = v;
		else if (!strcmp(k, "cmd"))
			out->cmd = v;
		else if (!strcmp(k, "health_dir"))
			out->health_dir = v;
		else if (!strcmp(k, "lease"))
			out->lease_file = v;
		else if (!strcmp(k, "cg.root"))
			out->cg_root = v;
		else if (!strcmp(k, "cg.name"))
			out->cg_name = v;
		else if (!strcmp(k, "user"))
			out->user = v;
		else if (!strcmp(k, "attach"))
			out->attach = v;
		else if (!strcmp(k, "fc.dir"))
			out->fetch_cache = v;
		else if (!strcmp(k, "fc.max")) {
			if (parse_u64(v, &out->fetch_cache_max))
				goto bad;
		} else if (!strcmp(k, "image"))
			out->image = v;
		else if (!strcmp(k, "img.store"))
			out->img_store = v;
		else if (!strcmp(k, "img.dir"))
			out->img_dir = v;
		else if (!strcmp(k, "img.registry"))
			out->img_registry = v;
		else if (!strcmp(k, "img.auth"))
			out->img_auth = v;
		else if (!strcmp(k, "img.auth_secret"))
			out->img_auth_secret = v;
		else if (!strcmp(k, "img.pull") || !strcmp(k, "net")) {
			if (!strcmp(v, "1") || !strcmp(v, "bridge"))
				*(k[0] == 'n' ? &out->net_bridge : &out->img_pull) = 1;
			else if (strcmp(v, "0") && strcmp(v, "host"))
				goto bad;
		} else if (!strcmp(k, "prm")) {
			if (!strchr(v, '=') || v[0] == '=')
				goto bad;
			out->params[out->nparams++] = v;
		} else if (!strcmp(k, "pm")) {
			if (out->npmaps >= EXEC_SPEC_MAX_PORTMAPS ||
			    parse_portmap(v, &out->pmaps[out->npmaps++]))
				goto bad;
		}
		else if (!strcmp(k, "fetch")) {
			if (out->nfetch >= EXEC_SPEC_MAX_FETCH || !*v)
				goto bad;
			out->fetch[out->nfetch++].uri = v;
		} else if (!strncmp(k, "f.", 2)) {
			if (!out->nfetch)
				goto bad;
			struct exec_fetch *f = &out->fetch[out->nfetch - 1];
			if (!strcmp(k, "f.out"))
				f->output = v;
			else if (!strcmp(k, "f.cache") && (!strcmp(v, "0") || !strcmp(v, "1")))
				f->cache = v[0] == '1';
			else if ((strcmp(k, "f.extract") && strcmp(k, "f.exec")) ||
				 (strcmp(v, "0") && strcmp(v, "1")))
				goto bad;
			else if (!strcmp(k, "f.extract"))
				f->extract = v[0] == '1';
			else
				f->executable = v[0] == '1';
		}
		else if (!strcmp(k, "isolate")) {
			if (strcmp(v, "0") && strcmp(v, "1"))
				goto bad;
			out->isolate = v[0] == '1';
		} else if (!strncmp(k, "cg.", 3)) {
			uint64_t *dst = !strcmp(k, "cg.cpu_shares")     ? &out->cg_cpu_shares
					: !strcmp(k, "cg.cfs_quota_us")  ? &out->cg_cfs_quota_us
					: !strcmp(k, "cg.cfs_period_us") ? &out->cg_cfs_period_us
					: !strcmp(k, "cg.mem_bytes")     ? &out->cg_mem_bytes
					: !strcmp(k, "cg.pids_max")      ? &out->cg_pids_max
									 : NULL;
			if (!dst || parse_u64(v, dst))
				goto bad;
		}
		else if (!strcmp(k, "shell")) {
			if (strcmp(v, "0") && strcmp(v, "1"))
				goto bad;
			out->shell = v[0] == '1';
			have_shell = 1;
		} else if (!strcmp(k, "grace_ms")) {
			if (parse_u32(v, &out->grace_ms))
				goto bad;
		} else if (!strcmp(k, "check")) {
			if (out->nchecks >= EXEC_SPEC_MAX_CHECKS ||
			    (out->nchecks && !check_valid(&out->checks[out->nchecks - 1])))
				goto bad;
			if (strcmp(v, "health") && strcmp(v, "ready"))
				goto bad;
			exec_check_defaults(&out->checks[out->nchecks++], v[0] == 'r');
		} else if (!strncmp(k, "c.", 2)) {
			if (!out->nchecks || parse_check_field(&out->checks[out->nchecks - 1], k + 2, v))
				goto bad;
		} else if (!strcmp(k, "volume")) {
			if (out->nvolumes >= EXEC_SPEC_MAX_VOLUMES ||
			    (out->nvolumes && !volume_valid(&out->volumes[out->nvolumes - 1])))
				goto bad;
			out->volumes[out->nvolumes].source = v;
			out->volumes[out->nvolumes++].path = NULL;
		} else if (!strcmp(k, "v.path") || !strcmp(k, "v.ro")) {
			if (!out->nvolumes)
				goto bad;
			struct exec_volume *vol = &out->volumes[out->nvolumes - 1];
			if (k[2] == 'p') {
				vol->path = v;
			} else {
				if (strcmp(v, "0") && strcmp(v, "1"))
					goto bad;
				vol->ro = v[0] == '1';
			}
		} else if (!strcmp(k, "arg"))
			out->args[out->nargs++] = v;
		else if (!strcmp(k, "env")) {
			if (!strchr(v, '=') || v[0] == '=')
				goto bad;
			out->env[out->nenv++] = v;
		} else if (!strcmp(k, "secret")) {
			if (!strchr(v, '=') || v[0] == '=')
				goto bad;
			out->secrets[out->nsecrets++] = v;
		} else if (!strcmp(k, "secrets_dir")) {
			out->secrets_dir = v;
		} else
			goto bad;
	}
	if (!out->task_id || !*out->task_id || !out->sandbox || out->sandbox[0] != '/' ||
	    !have_shell)
		goto bad;
	if (out->shell ? !out->cmd : (out->nargs == 0 && !out->image))
		goto bad;
	if (out->image && (!*out->image || !out->img_store || out->img_store[0] != '/'))
		goto bad;
	if ((out->npmaps || out->nparams) && !out->image)
		goto bad;
	if (out->nchecks && !check_valid(&out->checks[out->nchecks - 1]))
		goto bad;
	if (out->health_dir && out->health_dir[0] != '/')
		goto bad;
	if ((out->nsecrets || out->img_auth_secret) &&
	    (!out->secrets_dir || out->secrets_dir[0] != '/'))
		goto bad;
	if (out->img_auth_secret && !out->image)
		goto bad;
	if (out->nvolumes && !volume_valid(&out->volumes[out->nvolumes - 1]))
		goto bad;
	if (out->lease_file && (out->lease_file[0] != '/' || !out->nvolumes))
		goto bad;
	if (out->cg_root && (out->cg_root[0] != '/' || !out->cg_name || !*out->cg_name))
		goto bad;
	if (out->user && !*out->user)
		goto bad;
	if (out->attach && out->attach[0] != '/')
		goto bad;
	if (out->fetch_cache && out->fetch_cache[0] != '/')
		goto bad;
	return 0;
bad:
	exec_spec_release(out);
	return -EINVAL;
}

int exec_spec_write_file(const char *path, const struct exec_spec *s)
{
	char *buf;
	size_t len;
	int r = exec_spec_serialize(s, &buf, &len);
	if (r < 0)
		return r;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		r = -errno;
		free(buf);
		return r;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		off += (size_t)n;
	}
	free(buf);
	if (close(fd) == -1 && r == 0)
		r = -errno;
	return r;
}

int exec_spec_read_file(const char *path, struct exec_spec *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) == -1) {
		int r = -errno;
		close(fd);
		return r;
	}
	if (st.st_size > (off_t)EXEC_SPEC_MAX_BYTES) {
		close(fd);
		return -E2BIG;
	}
	size_t want = (size_t)st.st_size;
	char *buf = malloc(want + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	size_t have = 0;
	while (have < want) {
		ssize_t n = read(fd, buf + have, want - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	return exec_spec_parse(buf, have, out);
}
