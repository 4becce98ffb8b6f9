/* berth-https-check PORT PATH TIMEOUT_MS: one HTTPS GET to 127.0.0.1:PORT, for the shim's
 * HTTPS health and readiness checks (exec-check.h). Started per attempt so that the shim
 * itself never maps libssl. Prints "<status code>\n", or "E <message>\n" on a failure.
 * Like Marathon's HTTPS checks it does not verify the certificate. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("E ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return fail("usage: berth-https-check PORT PATH TIMEOUT_MS");
	char *end;
	long port = strtol(argv[1], &end, 10);
	if (*end || port <= 0 || port > 65535)
		return fail("bad port '%s'", argv[1]);
	long tmo = strtol(argv[3], &end, 10);
	if (*end || tmo <= 0)
		return fail("bad timeout '%s'", argv[3]);
	alarm((unsigned)(tmo / 1000 + 2)); /* the shim kills us at the timeout anyway */

	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return fail("socket: %s", strerror(errno));
	struct timeval tv = { tmo / 1000, (tmo % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		return fail("Connection to 127.0.0.1 failed: %s", strerror(errno));

	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return fail("TLS setup failed");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL *ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1)
		return fail("TLS setup failed");
	if (SSL_connect(ssl) != 1) {
		char e[256];
		ERR_error_string_n(ERR_get_error(), e, sizeof(e));
		return fail("TLS handshake failed: %s", e);
	}
	char req[2300];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%ld\r\nUser-Agent: berth-health/1\r\n"
			 "Accept: */*\r\nConnection: close\r\n\r\n",
			 argv[2], port);
	if (n < 0 || (size_t)n >= sizeof(req))
		return fail("HTTP path too long");
	if (SSL_write(ssl, req, n) != n)
		return fail("HTTPS request failed");
	char rx[256];
	size_t have = 0;
	while (have < sizeof(rx) - 1) {
		int r = SSL_read(ssl, rx + have, (int)(sizeof(rx) - 1 - have));
		if (r <= 0)
			break;
		have += (size_t)r;
		rx[have] = '\0';
		if (strchr(rx, '\n'))
			break;
	}
	rx[have] = '\0';
	const char *sp = strchr(rx, ' ');
	if (strncmp(rx, "HTTP/", 5) || !sp || !strchr(rx, '\n'))
		return fail("Malformed HTTPS response");
	long code = strtol(sp + 1, &end, 10);
	if (code < 100 || code > 999)
		return fail("Malformed HTTPS response");
	printf("%ld\n", code);
	fflush(stdout);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return 0;
}
