/* Where `gr_bench select` runs: the selecting goroutine and its 4 producers, CPU by CPU
 * (core/src/sched/README.md section 14, "The select's second worker"). The main goroutine
 * selects N values from 4 unbuffered channels, each fed by a producer goroutine, as
 * `gr_bench select` does, and records after each select the CPU it runs on and the time;
 * each producer counts its sends per CPU. Prints the time a select (with the recording's
 * own cost, ~20-40 ns), how often the selector changed CPU, the share of its selects on
 * CPU 0, the selects that took over 1 us (it waited), and each producer's sends per CPU.
 *   cc -O2 -Iinclude bench/extra/select_cpus.c -Lbuild/lib -lgr -Wl,-rpath,$PWD/build/lib -o select_cpus
 *   ./select_cpus 2000000 2       # selects workers
 * Not part of `make bench`. */
#define _GNU_SOURCE
#include <gr.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NSEL 4
static gr_chan *ch[NSEL];
static long per;
/* Each producer's counts per CPU, a cache line per producer (so the counting itself shares
 * no line between producers on two CPUs). */
static long sends[NSEL][8] __attribute__((aligned(64)));
static unsigned char *cpu_at;
static uint32_t *took;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void producer(void *arg) {
  long k = (long)(intptr_t)arg;
  for (int64_t i = 1; i <= per; i++) {
    if (gr_chan_send(ch[k], &i, GR_FOREVER) != GR_OK) exit(3);
    sends[k][sched_getcpu() & 1]++;
  }
}

static void selector(void *arg) {
  (void)arg;
  long n = per * NSEL;
  gr_handle *h[NSEL];
  for (int k = 0; k < NSEL; k++)
    if (gr_chan_new(sizeof(int64_t), 0, &ch[k]) != GR_OK) exit(3);
  for (int k = 0; k < NSEL; k++)
    if (gr_spawn(producer, (void *)(intptr_t)k, &h[k]) != GR_OK) exit(3);
  int64_t v[NSEL], sum = 0;
  gr_case cs[NSEL];
  uint64_t t0 = now_ns(), prev = t0;
  for (long i = 0; i < n; i++) {
    for (int k = 0; k < NSEL; k++) {
      cs[k].chan = ch[k]; cs[k].op = GR_RECV; cs[k].elem = &v[k]; cs[k].status = 0;
    }
    int idx = gr_select(cs, NSEL, GR_FOREVER);
    if (idx < 0 || idx >= NSEL) exit(3);
    sum += v[idx];
    uint64_t t = now_ns();
    took[i] = (uint32_t)(t - prev);
    prev = t;
    cpu_at[i] = (unsigned char)sched_getcpu();
  }
  uint64_t t1 = now_ns();
  if (sum != (int64_t)NSEL * per * (per + 1) / 2) { fprintf(stderr, "select_cpus: bad sum\n"); exit(3); }
  long moves = 0, waited = 0, on0 = 0;
  for (long i = 0; i < n; i++) {
    if (i > 0 && cpu_at[i] != cpu_at[i - 1]) moves++;
    if (took[i] > 1000) waited++;
    if (cpu_at[i] == 0) on0++;
  }
  printf("ns/select %.1f  selector CPU changes %ld  on CPU 0 %.2f  selects over 1 us %ld\n",
         (double)(t1 - t0) / (double)n, moves, (double)on0 / (double)n, waited);
  for (int k = 0; k < NSEL; k++) {
    if (gr_wait(h[k], GR_FOREVER) != GR_OK) exit(3);
    gr_handle_release(h[k]);
  }
  for (int k = 0; k < NSEL; k++) printf("  producer %d: sends on CPU 0 %ld, CPU 1 %ld\n", k, sends[k][0], sends[k][1]);
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s <selects> <workers>\n", argv[0]); return 64; }
  per = atol(argv[1]) / NSEL;
  if (per < 1) per = 1;
  cpu_at = malloc((size_t)(per * NSEL));
  took = malloc(sizeof(uint32_t) * (size_t)(per * NSEL));
  if (!cpu_at || !took) return 1;
  gr_config cfg;
  gr_config_init(&cfg);
  cfg.workers = atoi(argv[2]);
  if (gr_init(&cfg) != GR_OK) return 1;
  gr_handle *h;
  if (gr_spawn(selector, NULL, &h) != GR_OK || gr_wait(h, GR_FOREVER) != GR_OK) return 1;
  gr_handle_release(h);
  return gr_shutdown(5000000000LL) == GR_OK ? 0 : 1;
}
