/* The bench's task: a tiny HTTP server on argv[1] (127.0.0.1) answering every request with
 * "200 ok" and closing. One process, poll-free blocking accept loop: a health check every
 * second is all it serves. A few hundred KiB per instance, unlike python3 -m http.server. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)strtol(argv[1], NULL, 10)),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) == -1 || listen(l, 64) == -1) {
		perror("tiny-http");
		return 1;
	}
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
	for (;;) {
		int fd = accept(l, NULL, NULL);
		if (fd == -1)
			continue;
		char buf[2048];
		struct timeval tv = { 1, 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		ssize_t n = read(fd, buf, sizeof(buf)); /* the request fits one read */
		if (n > 0 && write(fd, resp, sizeof(resp) - 1) < 0) {
			/* the checker went away */
		}
		close(fd);
	}
}
