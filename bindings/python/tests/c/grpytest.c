/* Test library for the Python binding's cross-language tests (issue 4, items 13 and 14).
 * Linked with -lgr and loaded by ctypes after `import goroutines`: it must share the
 * binding's runtime (one libgr.so.0 per process), not start a second one. */
#include <stdint.h>
#include <string.h>
#include "gr.h"

/* Argument of gpt_send_ints: send `count` int64 values base, base+1, ... on `chan`. */
struct gpt_send_args {
  gr_chan *chan;
  int64_t base;
  int64_t count;
  int64_t status; /* last gr status */
};

/* A C goroutine: sends on a channel Python created (Chan.native(8)). */
void gpt_send_ints(void *arg) {
  struct gpt_send_args *a = arg;
  int rc = 0;
  for (int64_t i = 0; i < a->count && rc == 0; i++) {
    int64_t v = a->base + i;
    rc = gr_chan_send(a->chan, &v, GR_FOREVER);
  }
  a->status = rc;
}

/* CPU work that never parks: `iters` rounds of an xorshift, result stored in out. */
struct gpt_spin_args {
  uint64_t iters;
  uint64_t out;
};

void gpt_spin(void *arg) {
  struct gpt_spin_args *a = arg;
  uint64_t x = 88172645463325252ull ^ (uintptr_t)arg;
  for (uint64_t i = 0; i < a->iters; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  a->out = x;
}

/* A C goroutine that fails: its waiter sees GR_EPANIC. */
void gpt_fail(void *arg) {
  (void)arg;
  gr_goroutine_fail("gpt_fail: failed on purpose");
}

/* The runtime as C sees it: fills workers and spawned_total. */
int gpt_stats(uint64_t *workers, uint64_t *spawned_total, uint64_t *goroutines) {
  gr_stats s;
  memset(&s, 0, sizeof s);
  s.size = sizeof s;
  int rc = gr_stats_get(&s);
  if (rc == 0) {
    *workers = s.workers;
    *spawned_total = s.spawned_total;
    *goroutines = s.goroutines;
  }
  return rc;
}

/* Address of the gr_stats_get this library resolved (same symbol as the binding's?). */
void *gpt_stats_fn(void) { return (void *)&gr_stats_get; }
