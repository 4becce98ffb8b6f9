/* A custom executor's `uris` (ExecutorInfo.command.uris, the LAUNCH record's `fetch`),
 * fetched into its sandbox before it starts, by the tasks' fetcher (berth-fetcher, run the
 * way the shim runs it: exec-fetch.c) — one URI after the other, each through net/proc-run so
 * that the agent's loop never waits on a download. extract, executable, output_file and
 * cache are honoured as for tasks. The first failure ends the chain, with the tasks' words:
 * "Failed to fetch '<uri>': <the fetcher's line>". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "base/log.h"
#include "base/mem.h"
#include "net/proc-run.h"

#define XFETCH_MAX_URIS 64
#define XFETCH_TIMEOUT_MS (3600u * 1000u)

struct agent_xfetch {
	struct agent *a;
	char *sandbox;
	json_t *fetch; /* [{uri, extract, executable, output_file?, cache?}] */
	size_t next;
	struct proc_run *run;
	struct event *kick; /* the first step, from the loop: done never runs in start */
	void (*done)(void *ctx, const char *err);
	void *ctx;
};

/* berth-fetcher: $BERTH_FETCHER, else beside the shim, as the shim finds it. */
static char *fetcher_path(const struct agent *a)
{
	const char *env = getenv("BERTH_FETCHER");
	if (env && *env)
		return xstrdup(env);
	const char *slash = strrchr(a->executor_path, '/');
	if (!slash)
		return xstrdup("berth-fetcher");
	return xasprintf("%.*s/berth-fetcher", (int)(slash - a->executor_path), a->executor_path);
}

static char *error_path(const struct agent_xfetch *f)
{
	return xasprintf("%s/.berth-fetch-error", f->sandbox);
}

static void finish(struct agent_xfetch *f, const char *err)
{
	void (*done)(void *, const char *) = f->done;
	void *ctx = f->ctx;
	f->run = NULL;
	agent_xfetch_cancel(f);
	done(ctx, err);
}

static void step(struct agent_xfetch *f);

static void on_done(const struct proc_run_result *res, void *ctx)
{
	struct agent_xfetch *f = ctx;
	f->run = NULL;
	if (res->status == 0 && !res->timed_out) {
		step(f);
		return;
	}
	char msg[1100] = "";
	char *ep = error_path(f);
	FILE *fp = fopen(ep, "r");
	if (fp) {
		if (fgets(msg, sizeof(msg), fp))
			msg[strcspn(msg, "\n")] = '\0';
		fclose(fp);
	}
	unlink(ep);
	free(ep);
	const char *uri = json_string_value(
		json_object_get(json_array_get(f->fetch, f->next - 1), "uri"));
	char err[1300];
	if (msg[0])
		snprintf(err, sizeof(err), "Failed to fetch '%.300s': %s", uri ? uri : "", msg);
	else
		snprintf(err, sizeof(err), "Failed to fetch '%.300s': the fetcher %s", uri ? uri : "",
			 res->timed_out ? "timed out" : "failed");
	finish(f, err);
}

static void step(struct agent_xfetch *f)
{
	if (f->next >= json_array_size(f->fetch)) {
		finish(f, NULL);
		return;
	}
	const json_t *e = json_array_get(f->fetch, f->next++);
	char *helper = fetcher_path(f->a), *ep = error_path(f);
	char max[32];
	snprintf(max, sizeof(max), "%llu", (unsigned long long)f->a->fetch_cache_max);
	char *argv[16];
	size_t n = 0;
	argv[n++] = helper;
	if (json_is_true(json_object_get(e, "extract")))
		argv[n++] = "--extract";
	if (json_is_true(json_object_get(e, "executable")))
		argv[n++] = "--executable";
	const char *outf = json_string_value(json_object_get(e, "output_file"));
	if (outf) {
		argv[n++] = "--output";
		argv[n++] = (char *)outf;
	}
	if (json_is_true(json_object_get(e, "cache")) && f->a->fetch_cache &&
	    f->a->fetch_cache_max) {
		argv[n++] = "--cache";
		argv[n++] = f->a->fetch_cache;
		argv[n++] = "--cache-max";
		argv[n++] = max;
	}
	argv[n++] = "--error-file";
	argv[n++] = ep;
	argv[n++] = (char *)json_string_value(json_object_get(e, "uri"));
	argv[n++] = f->sandbox;
	argv[n] = NULL;
	int r = argv[n - 2] ? proc_run_start(f->a->base, argv, NULL, "", 0, XFETCH_TIMEOUT_MS,
					     65536, on_done, f, &f->run)
			    : -EINVAL;
	if (r < 0) {
		char err[600];
		snprintf(err, sizeof(err), "Failed to fetch: cannot run the fetcher '%s': %s",
			 helper, strerror(-r));
		free(helper);
		free(ep);
		finish(f, err);
		return;
	}
	free(helper);
	free(ep);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	step(arg);
}

int agent_xfetch_start(struct agent *a, const char *sandbox, const json_t *fetch,
		       void (*done)(void *ctx, const char *err), void *ctx,
		       struct agent_xfetch **out)
{
	if (json_array_size(fetch) > XFETCH_MAX_URIS)
		return -E2BIG;
	struct agent_xfetch *f = xcalloc(1, sizeof(*f));
	f->a = a;
	f->sandbox = xstrdup(sandbox);
	f->fetch = json_deep_copy(fetch);
	f->done = done;
	f->ctx = ctx;
	f->kick = evtimer_new(a->base, on_kick, f);
	struct timeval tv = { 0, 0 };
	if (!f->kick || evtimer_add(f->kick, &tv) < 0) {
		agent_xfetch_cancel(f);
		return -ENOMEM;
	}
	*out = f;
	return 0;
}

void agent_xfetch_cancel(struct agent_xfetch *f)
{
	if (!f)
		return;
	proc_run_cancel(f->run);
	if (f->kick)
		event_free(f->kick);
	json_decref(f->fetch);
	free(f->sandbox);
	free(f);
}
