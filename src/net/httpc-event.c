/* Calls on a libevent loop: curl's multi interface driven by the loop's events
 * (curl_multi_socket_action), one multi handle per call.
 *
 * libcurl says which sockets to watch (on_socket) and when to wake it (on_timer_set); the
 * loop calls back into libcurl (on_socket_event, on_timer) and after each such call we look
 * whether the transfer ended (check_done). Rules kept:
 *  - libcurl is never re-entered from its own callbacks: on_timer_set only arms an event,
 *    even for a timeout of 0, so nothing runs inside httpc_call_start;
 *  - every event this file creates is in c->socks or is c->timer, and destroy() frees them
 *    after libcurl let go of the handles, so no event outlives the call and none is freed
 *    twice (libcurl's CURL_POLL_REMOVE frees one early and unlinks it);
 *  - the call is destroyed before its callback runs (the callback may start another call). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "net/httpc-int.h"

struct httpc_sock {
	curl_socket_t fd;
	struct event *ev;
	struct httpc_sock *next;
};

struct httpc_call {
	struct event_base *base;
	CURLM *multi;
	struct httpc_xfer x;
	struct event *timer;     /* libcurl's timeout */
	struct httpc_sock *socks; /* the sockets libcurl asked us to watch */
	httpc_call_cb cb;
	void *arg;
};

static void destroy(struct httpc_call *c)
{
	if (c->multi && c->x.easy)
		curl_multi_remove_handle(c->multi, c->x.easy);
	httpc_xfer_release(&c->x);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	while (c->socks) {
		struct httpc_sock *s = c->socks;
		c->socks = s->next;
		event_free(s->ev);
		free(s);
	}
	if (c->timer)
		event_free(c->timer);
	free(c);
}

void httpc_call_cancel(struct httpc_call *c)
{
	if (c)
		destroy(c);
}

/* The transfer ended with rc: destroy the call, then report. */
static void finish(struct httpc_call *c, CURLcode rc)
{
	char err[HTTPC_ERR_MAX] = "";
	struct httpc_response resp = { 0 };
	int r = httpc_xfer_result(&c->x, rc, err, sizeof(err));
	if (r == 0)
		httpc_xfer_response(&c->x, &resp);
	httpc_call_cb cb = c->cb;
	void *arg = c->arg;
	destroy(c);
	cb(r, r == 0 ? &resp : NULL, r < 0 ? err : NULL, arg);
	httpc_response_release(&resp);
}

/* After libcurl ran: did the transfer end? Returns true when the call is gone. */
static bool check_done(struct httpc_call *c)
{
	CURLMsg *msg;
	int queued;
	while ((msg = curl_multi_info_read(c->multi, &queued))) {
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == c->x.easy) {
			finish(c, msg->data.result);
			return true;
		}
	}
	return false;
}

/* A multi interface failure: report it as the call's error. */
static void fail_multi(struct httpc_call *c, CURLMcode mc)
{
	char err[128];
	int r = httpc_multi_error(mc, err, sizeof(err));
	httpc_call_cb cb = c->cb;
	void *arg = c->arg;
	destroy(c);
	cb(r, NULL, err, arg);
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct httpc_call *c = arg;
	int flags = ((what & EV_READ) ? CURL_CSELECT_IN : 0) |
		    ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	int running = 0;
	CURLMcode mc = curl_multi_socket_action(c->multi, fd, flags, &running);
	if (mc != CURLM_OK) {
		fail_multi(c, mc);
		return;
	}
	check_done(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct httpc_call *c = arg;
	int running = 0;
	CURLMcode mc = curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	if (mc != CURLM_OK) {
		fail_multi(c, mc);
		return;
	}
	check_done(c);
}

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer, else wake libcurl in timeout_ms. */
static int on_timer_set(CURLM *multi, long timeout_ms, void *arg)
{
	struct httpc_call *c = arg;
	if (timeout_ms < 0) {
		evtimer_del(c->timer);
		return 0;
	}
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	return evtimer_add(c->timer, &tv) == 0 ? 0 : -1;
}

static void unlink_sock(struct httpc_call *c, struct httpc_sock *s)
{
	for (struct httpc_sock **pp = &c->socks; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			return;
		}
	}
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what libcurl wants, or stop watching it. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct httpc_call *c = arg;
	struct httpc_sock *s = sockp;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			unlink_sock(c, s);
			event_free(s->ev);
			free(s);
		}
		return 0;
	}
	short kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
		     ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->fd = fd;
		s->ev = event_new(c->base, fd, kind, on_socket_event, c);
		if (!s->ev) {
			free(s);
			return -1;
		}
		s->next = c->socks;
		c->socks = s;
		curl_multi_assign(c->multi, fd, s);
	} else {
		event_del(s->ev);
		event_assign(s->ev, c->base, fd, kind, on_socket_event, c);
	}
	return event_add(s->ev, NULL) == 0 ? 0 : -1;
}

struct httpc_call *httpc_call_start(struct event_base *base, const struct httpc_request *req,
				    httpc_call_cb cb, void *arg)
{
	char err[HTTPC_ERR_MAX];
	if (httpc_global(err, sizeof(err)) < 0)
		return NULL;
	struct httpc_call *c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->cb = cb;
	c->arg = arg;
	c->timer = evtimer_new(base, on_timer, c);
	c->multi = curl_multi_init();
	struct httpc_hop h = {
		.url = req->url,
		.method = req->method,
		.with_body = req->body != NULL,
		.copy_body = true,
		.with_auth = true,
		.timeout_usec = req->timeout_usec ? req->timeout_usec : HTTPC_DEFAULT_TIMEOUT_USEC,
	};
	if (!c->timer || !c->multi || httpc_xfer_init(&c->x, req, &h, err, sizeof(err)) < 0) {
		destroy(c);
		return NULL;
	}
	CURLMcode mc = CURLM_OK;
	if (curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
	    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
	    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer_set) != CURLM_OK ||
	    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK)
		mc = CURLM_INTERNAL_ERROR;
	if (mc == CURLM_OK)
		mc = curl_multi_add_handle(c->multi, c->x.easy);
	if (mc != CURLM_OK) {
		destroy(c);
		return NULL;
	}
	return c;
}
