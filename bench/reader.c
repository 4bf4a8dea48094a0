/*
 * chinwag-bench-reader: the receiving half of the benchmark harness, compiled.
 *
 * The Python worker connects, registers and joins (it speaks the protocols);
 * just before the measured phase it stops reading its sockets and hands their
 * file descriptors to this program, which reads them all with epoll and
 * checks every delivery exactly: each `~G.T~` marker is counted, its
 * per-sender order checked, `G` summed, and its own latency (now - T, in
 * microseconds of CLOCK_MONOTONIC, the clock of Python's time.monotonic_ns)
 * put into the same histogram the Python harness uses.  Server pings are
 * answered (`PING` -> `PONG`, `{"type":"ping"}` -> `{"type":"pong"}`).
 *
 * A Python receiver costs tens of microseconds per read; at a million
 * deliveries a second from 2,000 sockets that made the harness, not the
 * server, decide the latency it measured.  This costs about one read(2).
 *
 * stdin:  "senders per_sender timeout_s\n" then one "fd expected\n" per socket
 * stdout: "ready\n" once set up, then one JSON object with the counts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

/* latency histogram: must match bench/load.py */
#define FINE_US 50
#define FINE_N 4000
#define COARSE_US 5000
#define COARSE_N 12000
#define HIST_SIZE (FINE_N + COARSE_N)
#define MAX_LINE 65536
#define READ_SIZE (256 * 1024)

typedef struct {
    int fd;
    int open;
    int64_t expected;
    int64_t deliveries;
    int64_t *next_seq; /* per sender: the next sequence number expected */
    char *rest;        /* an incomplete line carried over to the next read */
    size_t rest_len;
} conn_t;

static int64_t hist[HIST_SIZE];
static int64_t deliveries, out_of_order, bytes_in, first_us, last_us, lat_max_us, errors;
/* G sums of 10,000 senders x 500,000 messages overflow 64 bits: keep 128 */
static unsigned __int128 g_sum;
static int64_t senders, per_sender;
static char error_sample[200];

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int bucket(int64_t lat) {
    if (lat < (int64_t)FINE_US * FINE_N) return lat < 0 ? 0 : (int)(lat / FINE_US);
    int64_t i = FINE_N + (lat - (int64_t)FINE_US * FINE_N) / COARSE_US;
    return i >= HIST_SIZE ? HIST_SIZE - 1 : (int)i;
}

static void note_error(const char *what, int fd) {
    errors++;
    if (!error_sample[0]) snprintf(error_sample, sizeof error_sample, "fd %d: %s", fd, what);
}

static void write_all(int fd, const char *buf, size_t len) {
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return; /* a full send buffer: the ping goes unanswered, the run goes on */
        buf += n;
        len -= (size_t)n;
    }
}

/* parse the digits at p (up to end); 0 if none */
static const char *digits(const char *p, const char *end, int64_t *out) {
    int64_t v = 0;
    const char *start = p;
    while (p < end && *p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
    *out = v;
    return p == start ? NULL : p;
}

static void line(conn_t *c, const char *p, const char *end, int64_t now) {
    if (end - p >= 4 && memcmp(p, "PING", 4) == 0) {
        char out[600];
        size_t n = (size_t)(end - p - 4);
        if (n && p[4 + n - 1] == '\r') n--;
        if (n > sizeof out - 8) n = sizeof out - 8;
        memcpy(out, "PONG", 4);
        memcpy(out + 4, p + 4, n);
        memcpy(out + 4 + n, "\r\n", 2);
        write_all(c->fd, out, n + 6);
        return;
    }
    if (end - p >= 14 && memcmp(p, "{\"type\":\"ping\"", 14) == 0) {
        write_all(c->fd, "{\"type\":\"pong\"}\n", 16);
        return;
    }
    /* the marker is the first `~G.T~` (IRC prefixes hold a `~` too: `nick!~user@host`) */
    int64_t g, t;
    for (const char *q = memchr(p, '~', (size_t)(end - p));; q = memchr(q + 1, '~', (size_t)(end - q - 1))) {
        if (!q) return;
        const char *r = digits(q + 1, end, &g);
        if (!r || r >= end || *r != '.') continue;
        r = digits(r + 1, end, &t);
        if (r && r < end && *r == '~') break;
    }
    int64_t lat = now - t;
    hist[bucket(lat)]++;
    if (lat > lat_max_us) lat_max_us = lat;
    g_sum += (unsigned __int128)g;
    int64_t s = g / per_sender, seq = g % per_sender;
    if (s >= 0 && s < senders) {
        if (seq >= c->next_seq[s])
            c->next_seq[s] = seq + 1; /* a gap is a loss unless it turns up late */
        else
            out_of_order++; /* late or duplicated */
    }
    c->deliveries++;
    deliveries++;
}

/* returns 1 when this connection has everything it expects */
static int consume(conn_t *c, char *buf, size_t len, int64_t now) {
    char *p = buf, *end = buf + len;
    if (c->rest_len) {
        char *nl = memchr(p, '\n', len);
        if (!nl) {
            if (c->rest_len + len > MAX_LINE) {
                note_error("line over 64 KiB", c->fd);
                c->rest_len = 0;
                return 0;
            }
            memcpy(c->rest + c->rest_len, p, len);
            c->rest_len += len;
            return 0;
        }
        size_t head = (size_t)(nl - p);
        if (c->rest_len + head <= MAX_LINE) {
            memcpy(c->rest + c->rest_len, p, head);
            line(c, c->rest, c->rest + c->rest_len + head, now);
        } else {
            note_error("line over 64 KiB", c->fd);
        }
        c->rest_len = 0;
        p = nl + 1;
    }
    for (;;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break;
        line(c, p, nl, now);
        p = nl + 1;
    }
    if (p < end) {
        size_t n = (size_t)(end - p);
        if (n > MAX_LINE) {
            note_error("line over 64 KiB", c->fd);
        } else {
            if (!c->rest) c->rest = malloc(MAX_LINE);
            memcpy(c->rest, p, n);
            c->rest_len = n;
        }
    }
    return c->deliveries >= c->expected;
}

int main(void) {
    double timeout_s;
    if (scanf("%ld %ld %lf", &senders, &per_sender, &timeout_s) != 3 || senders < 1 ||
        per_sender < 1) {
        fprintf(stderr, "reader: bad header on stdin\n");
        return 2;
    }
    size_t cap = 1024, n = 0;
    conn_t *conns = calloc(cap, sizeof *conns);
    int fd;
    long expected;
    while (scanf("%d %ld", &fd, &expected) == 2) {
        if (n == cap) {
            cap *= 2;
            conns = realloc(conns, cap * sizeof *conns);
        }
        conn_t *c = &conns[n++];
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->open = 1;
        c->expected = expected;
        c->next_seq = calloc((size_t)senders, sizeof(int64_t));
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    size_t pending = 0;
    for (size_t i = 0; i < n; i++) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) < 0) {
            note_error(strerror(errno), conns[i].fd);
            conns[i].open = 0;
            continue;
        }
        if (conns[i].expected > 0) pending++;
    }
    printf("ready\n");
    fflush(stdout);

    char *buf = malloc(READ_SIZE);
    struct epoll_event events[512];
    int64_t deadline = now_us() + (int64_t)(timeout_s * 1e6);
    while (pending) {
        int64_t left_ms = (deadline - now_us()) / 1000;
        if (left_ms <= 0) break;
        int k = epoll_wait(ep, events, 512, left_ms > 1000 ? 1000 : (int)left_ms);
        if (k < 0 && errno == EINTR) continue;
        for (int e = 0; e < k; e++) {
            conn_t *c = &conns[events[e].data.u64];
            if (!c->open) continue;
            ssize_t got = read(c->fd, buf, READ_SIZE);
            if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (got <= 0) {
                note_error(got ? strerror(errno) : "server closed the connection", c->fd);
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                c->open = 0;
                if (c->deliveries < c->expected) pending--;
                continue;
            }
            int64_t now = now_us();
            int had_all = c->deliveries >= c->expected;
            int64_t before = deliveries;
            bytes_in += got;
            if (consume(c, buf, (size_t)got, now) && !had_all) pending--;
            if (deliveries != before) {
                if (!first_us) first_us = now;
                last_us = now;
            }
        }
    }

    unsigned long long g_hi = (unsigned long long)(g_sum >> 64);
    unsigned long long g_lo = (unsigned long long)g_sum;
    printf("{\"deliveries\":%ld,\"out_of_order\":%ld,\"g_sum_hi\":%llu,\"g_sum_lo\":%llu,"
           "\"bytes_in\":%ld,\"first_us\":%ld,\"last_us\":%ld,\"lat_max_us\":%ld,"
           "\"errors\":%ld,\"error_sample\":\"",
           deliveries, out_of_order, g_hi, g_lo, bytes_in, first_us, last_us, lat_max_us, errors);
    for (const char *p = error_sample; *p; p++)
        if (*p != '"' && *p != '\\') putchar(*p);
    printf("\",\"hist\":[");
    int first = 1;
    for (int i = 0; i < HIST_SIZE; i++) {
        if (!hist[i]) continue;
        printf("%s[%d,%ld]", first ? "" : ",", i, hist[i]);
        first = 0;
    }
    printf("]}\n");
    return 0;
}
