/* The shim's check runner (exec-check.h) against real local servers: HTTP pass/fail,
 * ignore_http1xx, a server that accepts and never answers (timeout), grace period, TCP,
 * COMMAND (env, exit status, timeout), readiness, HTTPS through berth-https-check when
 * BERTH_HTTPS_CHECK and openssl(1) are there; and the health file format. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#include "executor/exec-check.h"
#include "executor/exec-health.h"

/* ---- a tiny HTTP server in a thread: answers request i with codes[i] (the last one
 * repeats); code 0 = accept, read, and never answer ---- */

#define MAX_CODES 16
struct server {
	int lfd;
	uint16_t port;
	int codes[MAX_CODES];
	size_t ncodes;
	volatile int nreq;
	int held[64];
	size_t nheld;
	pthread_t th;
};

static void *server_main(void *arg)
{
	struct server *s = arg;
	for (;;) {
		int fd = accept(s->lfd, NULL, NULL);
		if (fd == -1)
			return NULL;
		char buf[4096];
		size_t have = 0;
		while (have < sizeof(buf) - 1) {
			ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
			if (n <= 0)
				break;
			have += (size_t)n;
			buf[have] = '\0';
			if (strstr(buf, "\r\n\r\n"))
				break;
		}
		int i = s->nreq++;
		int code = s->codes[(size_t)i < s->ncodes ? (size_t)i : s->ncodes - 1];
		if (code == 0) {
			if (s->nheld < 64)
				s->held[s->nheld++] = fd;
			continue;
		}
		char resp[128];
		int n = snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n",
				 code);
		ssize_t w = write(fd, resp, (size_t)n);
		(void)w;
		close(fd);
	}
}

static void server_start(struct server *s, const int *codes, size_t n)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->codes, codes, n * sizeof(int));
	s->ncodes = n;
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, 16), 0);
	socklen_t sl = sizeof(sa);
	getsockname(s->lfd, (struct sockaddr *)&sa, &sl);
	s->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, server_main, s), 0);
}

static void server_stop(struct server *s)
{
	shutdown(s->lfd, SHUT_RDWR);
	pthread_join(s->th, NULL);
	close(s->lfd);
	for (size_t i = 0; i < s->nheld; i++)
		close(s->held[i]);
}

/* A free port with nothing listening. */
static uint16_t closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	socklen_t sl = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	close(fd);
	return ntohs(sa.sin_port);
}

/* ---- driving the runner ---- */

struct rec {
	int reports;
	struct exec_health last;
};

static void on_report(const struct exec_health *h, void *arg)
{
	struct rec *r = arg;
	r->reports++;
	r->last = *h;
}

static void drive(struct exec_checks *ck, uint64_t ms)
{
	uint64_t end = exec_mono_ms() + ms;
	for (;;) {
		uint64_t now = exec_mono_ms();
		if (now >= end)
			break;
		struct pollfd pfd[EXEC_SPEC_MAX_CHECKS];
		size_t n = exec_checks_pollfds(ck, pfd, EXEC_SPEC_MAX_CHECKS);
		int t = exec_checks_timeout(ck, now);
		int left = (int)(end - now);
		if (t < 0 || t > 10)
			t = 10; /* children are reaped by polling here */
		if (t > left)
			t = left;
		if (poll(pfd, n, t) == -1)
			for (size_t i = 0; i < n; i++)
				pfd[i].revents = 0;
		int ws;
		pid_t w;
		while ((w = waitpid(-1, &ws, WNOHANG)) > 0)
			exec_checks_reaped(ck, w, ws, exec_mono_ms());
		exec_checks_step(ck, pfd, n, exec_mono_ms());
	}
}

static struct exec_check hc(enum exec_check_proto p, uint16_t port)
{
	struct exec_check c;
	exec_check_defaults(&c, 0);
	c.protocol = p;
	c.port = port;
	c.grace_ms = 0;
	c.delay_ms = 0;
	c.interval_ms = 100;
	c.timeout_ms = 300;
	return c;
}

static char *env_default[] = { "FOO=bar", "PATH=/usr/bin:/bin", NULL };

static struct exec_checks *runner(struct exec_check *c, size_t n, struct rec *r)
{
	memset(r, 0, sizeof(*r));
	struct exec_checks *ck = exec_checks_new(c, n, env_default, "/tmp",
						 getenv("BERTH_HTTPS_CHECK"), exec_mono_ms(),
						 on_report, r);
	assert_non_null(ck);
	return ck;
}

static void test_http_pass_fail(void **state)
{
	static const int codes[] = { 200, 200, 301, 200, 500, 404, 200 };
	struct server s;
	server_start(&s, codes, ARRAY_SIZE(codes));
	struct exec_check c = hc(EXEC_CHECK_HTTP, s.port);
	c.path = "/health";
	struct rec r;
	struct exec_checks *ck = runner(&c, 1, &r);
	drive(ck, 350); /* 200, 200, 301, 200: one report (unknown → alive) */
	assert_true(s.nreq >= 4 && s.nreq <= 5);
	assert_int_equal(r.reports, 1);
	assert_int_equal(r.last.checks[0].alive, 1);
	assert_true(r.last.checks[0].first_success_ms > 0);
	drive(ck, 300); /* 500 and 404: reported each; then 200 */
	assert_true(s.nreq >= 7);
	assert_int_equal(r.reports, 4);
	assert_int_equal(r.last.checks[0].alive, 1);
	assert_int_equal(r.last.checks[0].consecutive_failures, 0);
	assert_true(r.last.checks[0].last_failure_ms > 0);
	assert_non_null(strstr(r.last.checks[0].cause, "404"));
	assert_true(r.last.hseq == r.last.seq);
	exec_checks_free(ck);
	server_stop(&s);
}

static void test_http_consecutive_and_1xx(void **state)
{
	static const int codes[] = { 500 };
	struct server s;
	server_start(&s, codes, 1);
	struct exec_check c = hc(EXEC_CHECK_HTTP, s.port);
	struct rec r;
	struct exec_checks *ck = runner(&c, 1, &r);
	drive(ck, 350);
	assert_int_equal(r.reports, s.nreq);
	assert_int_equal(r.last.checks[0].consecutive_failures, (unsigned)s.nreq);
	assert_int_equal(r.last.checks[0].alive, 0);
	assert_non_null(strstr(r.last.checks[0].cause, "returned 500"));
	exec_checks_free(ck);
	server_stop(&s);

	/* 1xx: a failure, unless ignore_1xx, when the result is discarded. */
	static const int one[] = { 200, 102 };
	server_start(&s, one, 2);
	c = hc(EXEC_CHECK_HTTP, s.port);
	c.ignore_1xx = 1;
	ck = runner(&c, 1, &r);
	drive(ck, 350);
	assert_true(s.nreq >= 3);
	assert_int_equal(r.reports, 1);
	assert_int_equal(r.last.checks[0].alive, 1);
	exec_checks_free(ck);
	server_stop(&s);

	server_start(&s, one, 2);
	c.port = s.port;
	c.ignore_1xx = 0;
	ck = runner(&c, 1, &r);
	drive(ck, 350);
	assert_int_equal(r.reports, s.nreq); /* the pass, then each 102 a failure */
	assert_int_equal(r.last.checks[0].alive, 0);
	assert_int_equal(r.last.checks[0].consecutive_failures, (unsigned)s.nreq - 1);
	exec_checks_free(ck);
	server_stop(&s);
}

static void test_http_timeout(void **state)
{
	static const int codes[] = { 0 };
	struct server s;
	server_start(&s, codes, 1);
	struct exec_check c = hc(EXEC_CHECK_HTTP, s.port);
	c.timeout_ms = 200;
	c.interval_ms = 1000;
	struct rec r;
	struct exec_checks *ck = runner(&c, 1, &r);
	uint64_t t0 = exec_mono_ms();
	while (r.reports == 0 && exec_mono_ms() - t0 < 2000)
		drive(ck, 10);
	uint64_t took = exec_mono_ms() - t0;
	assert_int_equal(r.reports, 1);
	assert_true(took >= 190 && took < 600);
	assert_non_null(strstr(r.last.checks[0].cause, "timed out"));
	assert_int_equal(r.last.checks[0].consecutive_failures, 1);
	exec_checks_free(ck);
	server_stop(&s);
}

static void test_grace_period(void **state)
{
	/* Failing from the start: nothing counted within the grace period. */
	static const int fail[] = { 503 };
	struct server s;
	server_start(&s, fail, 1);
	struct exec_check c = hc(EXEC_CHECK_HTTP, s.port);
	c.grace_ms = 400;
	struct rec r;
	struct exec_checks *ck = runner(&c, 1, &r);
	drive(ck, 300);
	assert_true(s.nreq >= 2);
	assert_int_equal(r.reports, 0);
	drive(ck, 300); /* past the grace period: counted */
	assert_true(r.reports >= 1);
	assert_true(r.last.checks[0].consecutive_failures >= 1);
	exec_checks_free(ck);
	server_stop(&s);

	/* A pass ends the grace period early: the next failure counts. */
	static const int pass_then_fail[] = { 200, 500 };
	server_start(&s, pass_then_fail, 2);
	c = hc(EXEC_CHECK_HTTP, s.port);
	c.grace_ms = 60000;
	ck = runner(&c, 1, &r);
	drive(ck, 250);
	assert_true(r.reports >= 2);
	assert_int_equal(r.last.checks[0].alive, 0);
	assert_true(r.last.checks[0].consecutive_failures >= 1);
	exec_checks_free(ck);
	server_stop(&s);
}

static void test_delay_and_tcp(void **state)
{
	static const int codes[] = { 200 };
	struct server s;
	server_start(&s, codes, 1);
	struct exec_check c[2] = { hc(EXEC_CHECK_TCP, s.port), hc(EXEC_CHECK_TCP, closed_port()) };
	c[0].delay_ms = 200;
	struct rec r;
	struct exec_checks *ck = runner(c, 2, &r);
	drive(ck, 100);
	/* The closed port failed at once; the delayed one has not run. */
	assert_true(r.reports >= 1);
	assert_int_equal(r.last.nchecks, 2);
	assert_int_equal(r.last.checks[0].alive, -1);
	assert_int_equal(r.last.checks[1].alive, 0);
	assert_non_null(strstr(r.last.checks[1].cause, "refused"));
	drive(ck, 200);
	assert_int_equal(r.last.checks[0].alive, 1);
	assert_int_equal(r.last.checks[1].alive, 0);
	exec_checks_free(ck);
	server_stop(&s);
}

static void test_command(void **state)
{
	struct exec_check c[3] = { hc(EXEC_CHECK_COMMAND, 0), hc(EXEC_CHECK_COMMAND, 0),
				   hc(EXEC_CHECK_COMMAND, 0) };
	c[0].command = "test \"$FOO\" = bar && test \"$(pwd)\" = /tmp";
	c[1].command = "exit 3";
	c[2].command = "sleep 5";
	c[2].timeout_ms = 200;
	c[2].interval_ms = 5000;
	struct rec r;
	struct exec_checks *ck = runner(c, 3, &r);
	uint64_t t0 = exec_mono_ms();
	/* Three failures of "exit 3" take 300 ms or so; a loaded machine forks slower, so drive
	 * until they are in (at most 4 s: "sleep 5" must still have been cut by its timeout). */
	for (int i = 0; i < 80 && (r.last.checks[1].consecutive_failures < 3 ||
				   !strstr(r.last.checks[2].cause, "timed out")); i++)
		drive(ck, 50);
	assert_int_equal(r.last.checks[0].alive, 1);
	assert_int_equal(r.last.checks[1].alive, 0);
	assert_string_equal(r.last.checks[1].cause, "Command exited with status 3");
	assert_true(r.last.checks[1].consecutive_failures >= 3);
	assert_int_equal(r.last.checks[2].alive, 0);
	assert_non_null(strstr(r.last.checks[2].cause, "timed out"));
	assert_true(exec_mono_ms() - t0 < 4500);
	exec_checks_free(ck);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void test_readiness(void **state)
{
	static const int codes[] = { 503, 204, 200 };
	struct server s;
	server_start(&s, codes, 3);
	struct exec_check c[2];
	exec_check_defaults(&c[0], 1);
	c[0].port = s.port;
	c[0].path = "/ready";
	c[0].interval_ms = 80;
	exec_check_defaults(&c[1], 1);
	c[1].protocol = EXEC_CHECK_COMMAND;
	c[1].command = "true";
	c[1].interval_ms = 80;
	struct rec r;
	struct exec_checks *ck = runner(c, 2, &r);
	drive(ck, 120);
	assert_int_equal(r.reports, 0); /* 503 */
	drive(ck, 300);                 /* 204 (not in [200]), then 200 */
	assert_int_equal(s.nreq, 3);
	assert_int_equal(r.reports, 1);
	assert_int_equal(r.last.ready, 1);
	assert_int_equal(r.last.hseq, 0);
	drive(ck, 200); /* stopped after passing */
	assert_int_equal(s.nreq, 3);
	exec_checks_free(ck);
	server_stop(&s);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void test_https(void **state)
{
	const char *helper = getenv("BERTH_HTTPS_CHECK");
	if (!helper || system("command -v openssl >/dev/null 2>&1") != 0)
		skip();
	char dir[] = "/tmp/test-exec-check-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 "
		 "-keyout %s/k -out %s/c >/dev/null 2>&1",
		 dir, dir);
	assert_int_equal(system(cmd), 0);
	uint16_t port = closed_port();
	pid_t pid = fork();
	if (pid == 0) {
		char p[16], k[512], c[512];
		snprintf(p, sizeof(p), "%u", port);
		snprintf(k, sizeof(k), "%s/k", dir);
		snprintf(c, sizeof(c), "%s/c", dir);
		int devnull = open("/dev/null", O_RDWR);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execlp("openssl", "openssl", "s_server", "-accept", p, "-cert", c, "-key", k,
		       "-www", "-quiet", (char *)NULL);
		_exit(127);
	}
	struct exec_check c = hc(EXEC_CHECK_HTTPS, port);
	c.timeout_ms = 2000;
	c.interval_ms = 200;
	c.grace_ms = 5000; /* until s_server listens */
	struct rec r;
	struct exec_checks *ck = runner(&c, 1, &r);
	for (int i = 0; i < 100 && r.last.checks[0].alive != 1; i++)
		drive(ck, 50);
	if (r.last.checks[0].alive != 1)
		print_message("last cause: '%s'\n", r.last.checks[0].cause);
	int alive = r.last.checks[0].alive;
	exec_checks_free(ck);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	assert_int_equal(alive, 1);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_health_file(void **state)
{
	struct exec_health h = { .seq = 7, .hseq = 5, .ready = 1, .nchecks = 2 };
	h.checks[0] = (struct exec_health_check){ 1, 0, 1700000000123ull, 1700000000456ull, 0, "" };
	h.checks[1] = (struct exec_health_check){ 0, 3, 0, 0, 1700000000789ull,
						  "Command exited\nwith status 1" };
	char buf[EXEC_HEALTH_FILE_MAX];
	assert_true(exec_health_format(&h, buf, sizeof(buf)) > 0);
	struct exec_health b;
	assert_int_equal(exec_health_parse(buf, &b), 0);
	assert_int_equal(b.seq, 7);
	assert_int_equal(b.hseq, 5);
	assert_int_equal(b.ready, 1);
	assert_int_equal(b.nchecks, 2);
	assert_int_equal(b.checks[0].alive, 1);
	assert_int_equal(b.checks[0].first_success_ms, 1700000000123ull);
	assert_int_equal(b.checks[1].consecutive_failures, 3);
	assert_string_equal(b.checks[1].cause, "Command exited with status 1");
	assert_int_equal(exec_health_parse("ready=1\n", &b), -EINVAL);
	assert_int_equal(exec_health_parse("seq=1\ncheck=1 1 0 0 0 0 x\n", &b), -EINVAL);
	assert_int_equal(exec_health_parse("seq=1\ncheck=0 2 0 0 0 0 x\n", &b), -EINVAL);
	assert_int_equal(exec_health_parse("seq=-1\n", &b), -EINVAL);
	assert_int_equal(exec_health_parse("seq=1\nfuture=x\n", &b), 0);
	assert_int_equal(exec_health_format(&h, buf, 20), -E2BIG);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health_file),
		cmocka_unit_test(test_http_pass_fail),
		cmocka_unit_test(test_http_consecutive_and_1xx),
		cmocka_unit_test(test_http_timeout),
		cmocka_unit_test(test_grace_period),
		cmocka_unit_test(test_delay_and_tcp),
		cmocka_unit_test(test_command),
		cmocka_unit_test(test_readiness),
		cmocka_unit_test(test_https),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
