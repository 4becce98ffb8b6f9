/* A tiny custom executor for test_executor_container.py, built static and put into a
 * busybox image: it speaks Mesos's v1 executor API over plain HTTP/1.1 to
 * $MESOS_AGENT_ENDPOINT (SUBSCRIBE, then one UPDATE per state change), and runs each task
 * as its own child (/bin/sh -c), so the tasks share its container:
 *   - a task named "hold-..." runs `sleep 3600` until KILL (then TASK_KILLED);
 *   - any other task runs a shell that writes the image's /inside-only and its parent's
 *     pid into $MESOS_SANDBOX/<task id>.out, then TASK_FINISHED (exit 0) or TASK_FAILED.
 * TASK_RUNNING's message is "pid=<the executor's pid> image=<its /inside-only>".
 * SHUTDOWN kills the children and exits 0 (ignored with IGNORE_SHUTDOWN set: the agent
 * must kill the container). Test code: bounded, no JSON library. */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXT 64

static const char *fw, *eid, *token;
static char host[256], port[16];
static struct { char id[128]; pid_t pid; int killed; } tasks[MAXT];
static int ntasks, seq;

static void die(const char *what)
{
	fprintf(stderr, "ctr-executor: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int dial_soft(int soft)
{
	/* Numeric addresses only: a static program has no NSS to resolve names with. */
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(atoi(port)) };
	char h[256];
	snprintf(h, sizeof(h), "%s", host[0] == '[' ? host + 1 : host);
	h[strcspn(h, "]")] = '\0';
	int v4 = inet_pton(AF_INET, h, &a4.sin_addr) == 1;
	if (!v4 && inet_pton(AF_INET6, h, &a6.sin6_addr) != 1) {
		errno = EINVAL;
		die("the agent's endpoint must be a numeric address");
	}
	int fd = socket(v4 ? AF_INET : AF_INET6, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, v4 ? (struct sockaddr *)&a4 : (struct sockaddr *)&a6,
			      v4 ? sizeof(a4) : sizeof(a6)) < 0) {
		if (!soft)
			die("connect to the agent");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int dial(void)
{
	return dial_soft(0);
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			die("write");
		p += w;
		n -= (size_t)w;
	}
}

static void post(int fd, const char *body)
{
	char head[1024];
	char auth[600] = "";
	if (token && *token)
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", token);
	int n = snprintf(head, sizeof(head),
			 "POST /api/v1/executor HTTP/1.1\r\nHost: %s:%s\r\n"
			 "Content-Type: application/json\r\nAccept: application/json\r\n%s"
			 "Content-Length: %zu\r\n\r\n", host, port, auth, strlen(body));
	send_all(fd, head, (size_t)n);
	send_all(fd, body, strlen(body));
}

/* UPDATE on a connection of its own; the agent's answer must be 202. */
static void update(const char *tid, const char *state, const char *msg)
{
	char body[2048];
	snprintf(body, sizeof(body),
		 "{\"type\":\"UPDATE\",\"framework_id\":{\"value\":\"%s\"},"
		 "\"executor_id\":{\"value\":\"%s\"},\"update\":{\"status\":{"
		 "\"task_id\":{\"value\":\"%s\"},\"state\":\"%s\",\"source\":\"SOURCE_EXECUTOR\","
		 "\"uuid\":\"%020dAA==\",\"message\":\"%s\"}}}",
		 fw, eid, tid, state, ++seq, msg);
	int fd = dial();
	post(fd, body);
	char ans[512];
	ssize_t n = read(fd, ans, sizeof(ans) - 1);
	ans[n > 0 ? n : 0] = '\0';
	if (strncmp(ans, "HTTP/1.1 202", 12))
		fprintf(stderr, "ctr-executor: UPDATE %s %s: %.80s\n", tid, state, ans);
	close(fd);
}

/* The string value after "key" … "value":" in rec, into out. */
static int field(const char *rec, const char *key, char *out, size_t size)
{
	const char *p = strstr(rec, key);
	if (!p || !(p = strstr(p, "\"value\"")) || !(p = strchr(p + 7, '"')))
		return -1;
	p++;
	size_t n = 0;
	while (*p && *p != '"' && n + 1 < size)
		out[n++] = *p++;
	out[n] = '\0';
	return 0;
}

static void image_file(char *out, size_t size)
{
	FILE *f = fopen("/inside-only", "r");
	out[0] = '\0';
	if (f) {
		if (!fgets(out, (int)size, f))
			out[0] = '\0';
		fclose(f);
	}
	out[strcspn(out, "\n\"\\")] = '\0';
}

static void launch(const char *rec)
{
	char tid[128], name[128] = "";
	if (field(rec, "\"task_id\"", tid, sizeof(tid)) < 0 || ntasks >= MAXT)
		return;
	const char *np = strstr(rec, "\"name\"");
	if (np && (np = strchr(np + 6, '"'))) {
		size_t n = 0;
		for (np++; *np && *np != '"' && n + 1 < sizeof(name); )
			name[n++] = *np++;
		name[n] = '\0';
	}
	char cmd[600];
	if (!strncmp(name, "hold-", 5))
		snprintf(cmd, sizeof(cmd), "exec sleep 3600");
	else
		snprintf(cmd, sizeof(cmd), "{ cat /inside-only; echo ppid=$PPID; } "
			 "> \"$MESOS_SANDBOX/%s.out\"", tid);
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		die("fork");
	snprintf(tasks[ntasks].id, sizeof(tasks[ntasks].id), "%s", tid);
	tasks[ntasks].pid = pid;
	tasks[ntasks++].killed = 0;
	char img[128], msg[200];
	image_file(img, sizeof(img));
	snprintf(msg, sizeof(msg), "pid=%d image=%s", (int)getpid(), img);
	update(tid, "TASK_RUNNING", msg);
}

static void kill_task(const char *rec)
{
	char tid[128];
	if (field(rec, "\"task_id\"", tid, sizeof(tid)) < 0)
		return;
	for (int i = 0; i < ntasks; i++)
		if (!strcmp(tasks[i].id, tid) && tasks[i].pid > 0) {
			tasks[i].killed = 1;
			kill(tasks[i].pid, SIGKILL);
		}
}

static void reap(void)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		for (int i = 0; i < ntasks; i++) {
			if (tasks[i].pid != pid)
				continue;
			tasks[i].pid = 0;
			if (tasks[i].killed)
				update(tasks[i].id, "TASK_KILLED", "killed by the executor");
			else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
				update(tasks[i].id, "TASK_FINISHED", "done in the container");
			else
				update(tasks[i].id, "TASK_FAILED", "the task failed");
		}
}

static void handle(const char *rec)
{
	if (strstr(rec, "\"type\":\"LAUNCH\""))
		launch(rec);
	else if (strstr(rec, "\"type\":\"KILL\""))
		kill_task(rec);
	else if (strstr(rec, "\"type\":\"SHUTDOWN\"") && !getenv("IGNORE_SHUTDOWN")) {
		for (int i = 0; i < ntasks; i++)
			if (tasks[i].pid > 0)
				kill(tasks[i].pid, SIGKILL);
		exit(0);
	}
}

/* One subscription: SUBSCRIBE on fd, then its events until the agent closes the stream. */
static void stream(int fd)
{
	char body[512];
	snprintf(body, sizeof(body), "{\"type\":\"SUBSCRIBE\",\"framework_id\":{\"value\":\"%s\"},"
		 "\"executor_id\":{\"value\":\"%s\"},\"subscribe\":{}}", fw, eid);
	post(fd, body);
	/* The answer: headers, then a chunked body of RecordIO records. */
	static char raw[1 << 20], data[1 << 20];
	size_t nraw = 0, ndata = 0;
	int headers_done = 0;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, 100);
		reap();
		if (r <= 0)
			continue;
		ssize_t n = read(fd, raw + nraw, sizeof(raw) - nraw);
		if (n <= 0) {
			fprintf(stderr, "ctr-executor: the agent closed the stream\n");
			return;
		}
		nraw += (size_t)n;
		if (!headers_done) {
			char *e = memmem(raw, nraw, "\r\n\r\n", 4);
			if (!e)
				continue;
			if (strncmp(raw, "HTTP/1.1 200", 12)) {
				fprintf(stderr, "ctr-executor: SUBSCRIBE: %.100s\n", raw);
				return;
			}
			size_t h = (size_t)(e + 4 - raw);
			memmove(raw, raw + h, nraw - h);
			nraw -= h;
			headers_done = 1;
		}
		/* Chunks: "<hex>\r\n<bytes>\r\n". */
		for (;;) {
			char *crlf = memmem(raw, nraw, "\r\n", 2);
			if (!crlf)
				break;
			size_t len = strtoul(raw, NULL, 16), hl = (size_t)(crlf + 2 - raw);
			if (nraw < hl + len + 2)
				break;
			if (ndata + len > sizeof(data))
				return;
			memcpy(data + ndata, raw + hl, len);
			ndata += len;
			memmove(raw, raw + hl + len + 2, nraw - hl - len - 2);
			nraw -= hl + len + 2;
		}
		/* Records: "<decimal length>\n<json>". */
		for (;;) {
			char *nl = memchr(data, '\n', ndata);
			if (!nl)
				break;
			size_t len = strtoul(data, NULL, 10), hl = (size_t)(nl + 1 - data);
			if (ndata < hl + len)
				break;
			char *rec = malloc(len + 1);
			memcpy(rec, data + hl, len);
			rec[len] = '\0';
			memmove(data, data + hl + len, ndata - hl - len);
			ndata -= hl + len;
			handle(rec);
			free(rec);
		}
	}
}

int main(void)
{
	const char *ep = getenv("MESOS_AGENT_ENDPOINT");
	fw = getenv("MESOS_FRAMEWORK_ID");
	eid = getenv("MESOS_EXECUTOR_ID");
	token = getenv("MESOS_EXECUTOR_AUTHENTICATION_TOKEN");
	const char *colon = ep ? strrchr(ep, ':') : NULL;
	if (!colon || !fw || !eid || (size_t)(colon - ep) >= sizeof(host)) {
		fprintf(stderr, "ctr-executor: no Mesos environment\n");
		return 2;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - ep), ep);
	snprintf(port, sizeof(port), "%s", colon + 1);
	setvbuf(stdout, NULL, _IONBF, 0);
	char img[128];
	image_file(img, sizeof(img));
	printf("ctr-executor: pid %d, /inside-only: %s, sandbox %s\n", (int)getpid(), img,
	       getenv("MESOS_SANDBOX"));
	/* A checkpointing framework's executor subscribes again when the agent restarts
	 * (within 30 s); any other ends with its stream. */
	const char *ck = getenv("MESOS_CHECKPOINT");
	int checkpoint = ck && !strcmp(ck, "1");
	for (int tries = 0; tries < 300; tries++) {
		int fd = dial_soft(1);
		if (fd >= 0) {
			tries = 0;
			stream(fd);
			close(fd);
			if (!checkpoint)
				return 1;
		}
		usleep(100000);
		reap();
	}
	return 1;
}
