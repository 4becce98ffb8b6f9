/* Running a daemon's event loop until SIGTERM or SIGINT (loop.h). */
#include "net/loop.h"

#include <errno.h>
#include <signal.h>

#include "base/log.h"

struct loop_stop {
	struct event_base *base;
	const char *who;
};

static void on_signal(evutil_socket_t sig, short what, void *ctx)
{
	(void)what;
	struct loop_stop *ls = ctx;
	log_info(ls->who, "received %s, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopexit(ls->base, NULL);
}

int loop_run_until_signal(struct event_base *base, const char *who)
{
	struct loop_stop ls = { base, who };
	struct event *term = evsignal_new(base, SIGTERM, on_signal, &ls);
	struct event *intr = evsignal_new(base, SIGINT, on_signal, &ls);
	int r = -ENOMEM;
	if (term && intr && event_add(term, NULL) == 0 && event_add(intr, NULL) == 0) {
		event_base_dispatch(base);
		r = 0;
	}
	if (term)
		event_free(term);
	if (intr)
		event_free(intr);
	return r;
}
