/* A tiny echo server for test_udp_ports.py, built static into a test image: UDP datagrams on
 * every port given come back prefixed "udp:", and each TCP connection on the last port given
 * (when there are two or more) gets one read echoed back prefixed "tcp:". */
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int sock(int type, int port)
{
	int s = socket(AF_INET, type, 0), one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    (type == SOCK_STREAM && listen(s, 16) == -1)) {
		perror("bind");
		exit(1);
	}
	return s;
}

int main(int argc, char **argv)
{
	char buf[2048], out[2100];
	if (argc > 2 && fork() == 0) {
		int l = sock(SOCK_STREAM, atoi(argv[argc - 1]));
		for (;;) {
			int c = accept(l, NULL, NULL);
			ssize_t n = c < 0 ? -1 : read(c, buf, sizeof(buf) - 1);
			if (n > 0) {
				int k = snprintf(out, sizeof(out), "tcp:%.*s", (int)n, buf);
				(void)!write(c, out, (size_t)k);
			}
			if (c >= 0)
				close(c);
		}
	}
	struct pollfd pf[8];
	int np = 0;
	for (int i = 1; i < argc && np < 8; i++)
		pf[np++] = (struct pollfd){ .fd = sock(SOCK_DGRAM, atoi(argv[i])), .events = POLLIN };
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		if (poll(pf, (nfds_t)np, -1) < 0)
			continue;
		for (int i = 0; i < np; i++) {
			if (!(pf[i].revents & POLLIN))
				continue;
			struct sockaddr_in peer;
			socklen_t pl = sizeof(peer);
			ssize_t n = recvfrom(pf[i].fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &pl);
			if (n < 0)
				continue;
			int k = snprintf(out, sizeof(out), "udp:%.*s", (int)n, buf);
			sendto(pf[i].fd, out, (size_t)k, 0, (struct sockaddr *)&peer, pl);
		}
	}
}
