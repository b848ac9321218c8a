/* A plain thread <-> goroutine round trip over two unbuffered channels (`make bench`'s
 * pingpong_thread), timed in chunks of 2,000 round trips, with the count of slow chunks
 * (core/src/sched/README.md section 14, "The lock's unlock"). The mean of pingpong_thread
 * is set by rare stretches where both sides fall into futex sleeps and wake each other
 * (~20-50 us a round trip for tens of milliseconds); the chunk median is the hand-off itself.
 *
 *   cc -O2 -Iinclude bench/extra/pingpong_tail.c -o /tmp/pingpong_tail -Lbuild/lib -lgr \
 *      -Wl,-rpath,$PWD/build/lib && /tmp/pingpong_tail 200 3
 *
 * Per round: the mean and the spread of the chunks' means (minimum, quartiles, 90th
 * percentile, maximum) in ns, and `slow=` the chunks above 20 us a round trip.
 * Arguments: chunks per round (200), rounds (3). Not part of `make bench`. */
#include <gr.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define PER 2000

static uint64_t now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static gr_chan *ping, *pong;

static void echo(void *arg) {
  (void)arg;
  int64_t v;
  while (gr_chan_recv(ping, &v, GR_FOREVER) == GR_OK && v >= 0)
    if (gr_chan_send(pong, &v, GR_FOREVER) != GR_OK) return;
}

static void check(int rc, const char *what) {
  if (rc != GR_OK) {
    fprintf(stderr, "pingpong_tail: %s: %s\n", what, gr_strerror(rc));
    exit(1);
  }
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200, rounds = argc > 2 ? atoi(argv[2]) : 3;
  if (n < 1 || rounds < 1) {
    fprintf(stderr, "usage: pingpong_tail [chunks] [rounds]\n");
    return 2;
  }
  gr_config c;
  gr_config_init(&c);
  c.workers = 2;
  check(gr_init(&c), "gr_init");
  check(gr_chan_new(sizeof(int64_t), 0, &ping), "gr_chan_new");
  check(gr_chan_new(sizeof(int64_t), 0, &pong), "gr_chan_new");
  gr_handle *h;
  check(gr_spawn(echo, NULL, &h), "gr_spawn");
  uint64_t *ns = malloc((size_t)n * sizeof *ns);
  if (!ns) return 1;
  for (int r = 0; r < rounds; r++) {
    uint64_t t0 = now();
    int slow = 0;
    for (int k = 0; k < n; k++) {
      uint64_t c0 = now();
      for (int64_t i = 0; i < PER; i++) {
        int64_t v = i;
        check(gr_chan_send(ping, &v, GR_FOREVER), "send");
        check(gr_chan_recv(pong, &v, GR_FOREVER), "recv");
        if (v != i) {
          fprintf(stderr, "pingpong_tail: got %lld want %lld\n", (long long)v, (long long)i);
          return 1;
        }
      }
      ns[k] = (now() - c0) / PER;
      slow += ns[k] > 20000;
    }
    uint64_t mean = (now() - t0) / ((uint64_t)n * PER);
    qsort(ns, (size_t)n, sizeof *ns, cmp);
    printf("mean=%llu min=%llu p25=%llu med=%llu p75=%llu p90=%llu max=%llu slow=%d\n", (unsigned long long)mean,
           (unsigned long long)ns[0], (unsigned long long)ns[n / 4], (unsigned long long)ns[n / 2],
           (unsigned long long)ns[3 * n / 4], (unsigned long long)ns[9 * n / 10], (unsigned long long)ns[n - 1], slow);
  }
  int64_t stop = -1;
  check(gr_chan_send(ping, &stop, GR_FOREVER), "send");
  check(gr_wait(h, GR_FOREVER), "gr_wait");
  gr_handle_release(h);
  gr_chan_release(ping);
  gr_chan_release(pong);
  free(ns);
  check(gr_shutdown(GR_FOREVER), "gr_shutdown");
  return 0;
}
