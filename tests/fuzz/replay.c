/* Replays a fuzz target's corpus as an ordinary test (STYLE.md "Tests").
 *
 * Usage: NAME [DIR|FILE]...  Every regular file named (or found directly in a directory
 * named) is fed to LLVMFuzzerTestOneInput as is, in name order; then a fixed number of
 * deterministic mutations of them (fixed seed, so a failure reproduces) are fed too. Each
 * input is passed in a buffer of exactly its size, so ASan sees any overread.
 * BERTH_FUZZ_ITERS overrides the number of mutations; the run also stops after
 * REPLAY_MAX_SEC seconds so that it stays a bounded test. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REPLAY_DEFAULT_ITERS 4000
#define REPLAY_MAX_SEC 20
#define REPLAY_MAX_INPUT (256 * 1024) /* corpus files past this are skipped */
#define REPLAY_MAX_MUTANT (64 * 1024)
#define REPLAY_MAX_FILES 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

struct input {
	char *name;
	uint8_t *data;
	size_t len;
};

static struct input inputs[REPLAY_MAX_FILES];
static size_t n_inputs;

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static size_t rng_below(size_t n)
{
	return n ? (size_t)(rng() % n) : 0;
}

static int read_file(const char *path, uint8_t **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size > REPLAY_MAX_INPUT) {
		close(fd);
		return -EINVAL;
	}
	size_t n = (size_t)st.st_size;
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		abort();
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*data = buf;
	*len = got;
	return 0;
}

static void add_input(const char *path)
{
	if (n_inputs >= REPLAY_MAX_FILES)
		return;
	struct input *in = &inputs[n_inputs];
	if (read_file(path, &in->data, &in->len) < 0)
		return;
	in->name = strdup(path);
	if (!in->name)
		abort();
	n_inputs++;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) == -1) {
		fprintf(stderr, "replay: '%s': %s (no corpus; mutating from empty)\n", path,
			strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		add_input(path);
		return;
	}
	DIR *d = opendir(path);
	if (!d)
		return;
	char *names[REPLAY_MAX_FILES];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < REPLAY_MAX_FILES) {
		if (e->d_name[0] == '.')
			continue;
		size_t len = strlen(path) + strlen(e->d_name) + 2;
		names[n] = malloc(len);
		if (!names[n])
			abort();
		snprintf(names[n], len, "%s/%s", path, e->d_name);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_name);
	for (size_t i = 0; i < n; i++) {
		add_input(names[i]);
		free(names[i]);
	}
}

static void run_one(const uint8_t *data, size_t len)
{
	/* An exact-size copy so that reading one byte past the end is caught. */
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		abort();
	if (len)
		memcpy(copy, data, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
}

static const uint8_t interesting[] = {
	0, 1, 0x7f, 0x80, 0xff, '%', '&', '=', '+', '"', '\\', '{', '}', '[', ']', ':', ',',
	'\n', '\r', ' ', '0', '9', '-', '.', 'e', '/', ';', '(', ')', '*',
};

/* Applies 1-4 random edits to buf (len bytes, capacity cap); returns the new length. */
static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
	int edits = 1 + (int)rng_below(4);
	for (int e = 0; e < edits; e++) {
		size_t pos = rng_below(len + 1);
		switch (rng_below(8)) {
		case 0: /* flip a bit */
			if (len)
				buf[rng_below(len)] ^= (uint8_t)(1u << rng_below(8));
			break;
		case 1: /* set an interesting byte */
			if (len)
				buf[rng_below(len)] = interesting[rng_below(sizeof(interesting))];
			break;
		case 2: /* insert a byte */
			if (len < cap) {
				memmove(buf + pos + 1, buf + pos, len - pos);
				buf[pos] = rng_below(2) ? interesting[rng_below(sizeof(interesting))]
							: (uint8_t)rng();
				len++;
			}
			break;
		case 3: { /* delete a range */
			if (pos < len) {
				size_t n = 1 + rng_below(len - pos < 16 ? len - pos : 16);
				memmove(buf + pos, buf + pos + n, len - pos - n);
				len -= n;
			}
			break;
		}
		case 4: { /* duplicate a range */
			if (len) {
				size_t from = rng_below(len);
				size_t n = 1 + rng_below(len - from);
				if (n > cap - len)
					n = cap - len;
				memmove(buf + pos + n, buf + pos, len - pos);
				memmove(buf + pos, buf + from + (from >= pos ? n : 0), n);
				len += n;
			}
			break;
		}
		case 5: /* truncate */
			len = pos;
			break;
		case 6: { /* splice in part of another input */
			if (n_inputs) {
				const struct input *o = &inputs[rng_below(n_inputs)];
				if (o->len) {
					size_t from = rng_below(o->len);
					size_t n = 1 + rng_below(o->len - from);
					if (n > cap - pos)
						n = cap - pos;
					memcpy(buf + pos, o->data + from, n);
					if (pos + n > len)
						len = pos + n;
				}
			}
			break;
		}
		default: { /* repeat a byte many times (deep nesting, long tokens) */
			size_t n = 1 + rng_below(512);
			if (n > cap - len)
				n = cap - len;
			uint8_t c = len ? buf[rng_below(len)] : interesting[rng_below(sizeof(interesting))];
			memmove(buf + pos + n, buf + pos, len - pos);
			memset(buf + pos, c, n);
			len += n;
			break;
		}
		}
	}
	return len;
}

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		add_path(argv[i]);

	for (size_t i = 0; i < n_inputs; i++)
		run_one(inputs[i].data, inputs[i].len);

	long iters = REPLAY_DEFAULT_ITERS;
	const char *env = getenv("BERTH_FUZZ_ITERS");
	if (env) {
		char *end;
		long v = strtol(env, &end, 10);
		if (!*end && v >= 0)
			iters = v;
	}
	uint8_t *buf = malloc(REPLAY_MAX_MUTANT);
	if (!buf)
		abort();
	time_t start = time(NULL);
	long done = 0;
	for (; done < iters; done++) {
		if ((done & 63) == 0 && time(NULL) - start >= REPLAY_MAX_SEC)
			break;
		size_t len = 0;
		if (n_inputs) {
			const struct input *in = &inputs[rng_below(n_inputs)];
			len = in->len < REPLAY_MAX_MUTANT ? in->len : REPLAY_MAX_MUTANT;
			memcpy(buf, in->data, len);
		}
		len = mutate(buf, len, REPLAY_MAX_MUTANT);
		run_one(buf, len);
	}
	free(buf);
	printf("replay: %zu corpus inputs, %ld mutations, all passed\n", n_inputs, done);
	for (size_t i = 0; i < n_inputs; i++) {
		free(inputs[i].name);
		free(inputs[i].data);
	}
	return 0;
}
