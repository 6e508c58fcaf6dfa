/* redisload - a paced Redis writer that times every request (VM tier:
 * the child pays, never the parent).
 *
 *   redisload -s SOCKET -k KEYS -r RATE -o OUT [-b BATCH] [-p PREFIX]
 *
 * Connects to the Redis unix socket and sends, RATE times a second, a
 * request of BATCH (default 1) pipelined "SETRANGE PREFIXi 0 w", i cycling
 * through 0..KEYS-1 (default prefix "key:", the names DEBUG POPULATE
 * gives): with one value per page, each command makes the server write one
 * page, so during a BGSAVE each one is a copy-on-write copy in the parent.
 * Requests are paced (a missed slot is skipped, never bunched), one in
 * flight.  For each request one line "T_MS LAT_US OK" goes to OUT (T_MS:
 * CLOCK_BOOTTIME when it was sent, in ms, the clock of /proc/uptime; LAT_US
 * from the send to the last reply; OK 1 when every reply was ":N", 0 when
 * one was an error such as -MISCONF).  Runs until SIGTERM/SIGINT; exits 0,
 * or 1 when the connection fails or closes.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read one reply line (up to \r\n); 1 = ":" integer, 0 = other, -1 = EOF. */
static int read_reply(int fd)
{
	char c, first = 0;
	int n = 0;
	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (n++ == 0)
			first = c;
		if (c == '\n')
			return first == ':' ? 1 : 0;
	}
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *out = NULL, *prefix = "key:";
	unsigned long keys = 0, rate = 0, batch = 1;
	int opt;
	while ((opt = getopt(argc, argv, "s:k:r:o:p:b:")) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'k': keys = strtoul(optarg, NULL, 10); break;
		case 'r': rate = strtoul(optarg, NULL, 10); break;
		case 'o': out = optarg; break;
		case 'p': prefix = optarg; break;
		case 'b': batch = strtoul(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (!sock || !out || keys == 0 || rate == 0 || rate > 1000000 || batch == 0 || batch > 64)
		goto usage;
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	int fd = connect_unix(sock);
	FILE *o = fopen(out, "w");
	if (fd < 0 || !o) {
		perror("redisload");
		return 1;
	}
	uint64_t gap = 1000000000ull / rate, next = now_ns(CLOCK_MONOTONIC);
	unsigned long i = 0;
	int rc = 0;
	while (!stop) {
		uint64_t t = now_ns(CLOCK_MONOTONIC);
		if (t < next) {
			struct timespec ts = { 0, (long)(next - t) };
			nanosleep(&ts, NULL);
			continue;
		}
		while (next <= t)
			next += gap; /* a missed slot is skipped */
		char cmd[64 * 96];
		size_t len = 0;
		for (unsigned long b = 0; b < batch; b++) {
			char key[64];
			int kl = snprintf(key, sizeof(key), "%s%lu", prefix, i);
			len += (size_t)snprintf(cmd + len, sizeof(cmd) - len,
						"*4\r\n$8\r\nSETRANGE\r\n$%d\r\n%s\r\n$1\r\n0\r\n$1\r\nw\r\n",
						kl, key);
			i = (i + 1) % keys;
		}
		uint64_t sent = now_ns(CLOCK_BOOTTIME), t0 = now_ns(CLOCK_MONOTONIC);
		if (send_all(fd, cmd, len) < 0) {
			rc = 1;
			break;
		}
		int ok = 1;
		for (unsigned long b = 0; b < batch && ok >= 0; b++) {
			int r = read_reply(fd);
			ok = r < 0 ? -1 : ok && r;
		}
		if (ok < 0) {
			rc = 1;
			break;
		}
		fprintf(o, "%llu %llu %d\n", (unsigned long long)(sent / 1000000),
			(unsigned long long)((now_ns(CLOCK_MONOTONIC) - t0) / 1000), ok);
	}
	if (fclose(o) != 0)
		rc = 1;
	close(fd);
	return rc;
usage:
	fputs("usage: redisload -s SOCKET -k KEYS -r RATE -o OUT [-b BATCH] [-p PREFIX]\n", stderr);
	return 1;
}
