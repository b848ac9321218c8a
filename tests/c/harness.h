/* Minimal test harness for the C suites: CHECK aborts the program with file:line. */
#ifndef GR_TEST_HARNESS_H
#define GR_TEST_HARNESS_H
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "gr.h"

#define CHECK(cond) do { if (!(cond)) { \
  fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); exit(1); } } while (0)
#define CHECK_RC(expr, want) do { int rc_ = (expr); if (rc_ != (want)) { \
  fprintf(stderr, "%s:%d: %s returned %d (%s), want %d\n", __FILE__, __LINE__, #expr, rc_, \
          gr_strerror(rc_), (want)); exit(1); } } while (0)
#define CHECK_OK(expr) CHECK_RC(expr, GR_OK)

static inline double now_s(void) {
  struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* gr_shutdown(timeout_ns) must return GR_ETIMEDOUT (`what` is still running) within its
 * timeout, give or take 100 ms: a timeout is a promise. */
static inline void shutdown_times_out(int64_t timeout_ns, const char *what) {
  double t0 = now_s();
  int rc = gr_shutdown(timeout_ns);
  double dt = now_s() - t0;
  printf("gr_shutdown(%lld ms) with %s: %d in %.3f s\n", (long long)(timeout_ns / 1000000), what, rc, dt);
  CHECK_RC(rc, GR_ETIMEDOUT);
  CHECK(dt <= timeout_ns / 1e9 + 0.1);
}

static inline void init_workers(unsigned workers) {
  gr_config c; gr_config_init(&c); c.workers = workers;
  CHECK_OK(gr_init(&c));
}
#endif
