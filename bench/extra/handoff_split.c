/* Where a round trip between a plain thread and its peer goes (core/src/sched/README.md,
 * section 13): the thread ping-pongs an int64_t with a goroutine (MODE 1: gr_bench's
 * pingpong_thread) or a second plain thread (MODE 0) over two unbuffered channels, and
 * stamps each step with rdtsc (the VM's TSC is synchronized across CPUs): its send's start
 * and end, its receive's end, and the peer's receive and send returns. Prints p10/p50/p90
 * in ns of each leg (the TSC rate measured against CLOCK_MONOTONIC over the run).
 *
 *   cc -O2 -Iinclude bench/extra/handoff_split.c -o /tmp/handoff_split -Lbuild/lib -lgr \
 *      -lpthread -Wl,-rpath,$PWD/build/lib && chrt -f 10 /tmp/handoff_split 30000 1
 */
#include <gr.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <x86intrin.h>

#include "echo_peer.h"
static gr_chan *ping, *pong;
static long n;
static uint64_t *T0, *T1, *T2, *G0, *G1;
static void *echo(void *arg) {
  (void)arg;
  for (long i = 0;; i++) {
    int64_t v;
    if (gr_chan_recv(ping, &v, GR_FOREVER) != GR_OK) abort();
    if (v < 0) return NULL;
    G0[v] = __rdtsc();
    if (gr_chan_send(pong, &v, GR_FOREVER) != GR_OK) abort();
    G1[v] = __rdtsc();
  }
}
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
static void pr(const char *name, uint64_t *a, uint64_t *b, double ghz) {
  double *d = malloc(sizeof(double) * n);
  for (long i = 0; i < n; i++) d[i] = (double)(int64_t)(b[i] - a[i]) / ghz;
  qsort(d, n, sizeof(double), cmp);
  printf("%-28s p10 %6.0f p50 %6.0f p90 %6.0f ns\n", name, d[n / 10], d[n / 2], d[9 * n / 10]);
  free(d);
}
int main(int argc, char **argv) {
  n = argc > 1 ? atol(argv[1]) : 30000;
  int mode = argc > 2 ? atoi(argv[2]) : 1;
  if (n < 10) n = 10;
  T0 = calloc(n, 8); T1 = calloc(n, 8); T2 = calloc(n, 8); G0 = calloc(n, 8); G1 = calloc(n, 8);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a); uint64_t c0 = __rdtsc();
  if (gr_init(NULL) != GR_OK || gr_chan_new(8, 0, &ping) != GR_OK || gr_chan_new(8, 0, &pong) != GR_OK) abort();
  struct echo_peer peer;
  echo_peer_start(&peer, mode, echo);
  for (int64_t i = 0; i < n; i++) {
    int64_t r;
    T0[i] = __rdtsc();
    if (gr_chan_send(ping, &i, GR_FOREVER) != GR_OK) abort();
    T1[i] = __rdtsc();
    if (gr_chan_recv(pong, &r, GR_FOREVER) != GR_OK || r != i) abort();
    T2[i] = __rdtsc();
  }
  clock_gettime(CLOCK_MONOTONIC, &b); uint64_t c1 = __rdtsc();
  double ghz = (double)(c1 - c0) / ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec));
  echo_peer_stop(&peer, ping);
  pr("round trip T0->T0'", T0, T0 + 1, ghz); n--;
  pr("thread send T0->T1", T0, T1, ghz);
  pr("send start->peer has it T0->G0", T0, G0, ghz);
  pr("peer has it->peer sent G0->G1", G0, G1, ghz);
  pr("peer send->thread has it G0->T2", G0, T2, ghz);
  pr("thread has it->next send T2->T0'", T2, T0 + 1, ghz);
  return 0;
}
