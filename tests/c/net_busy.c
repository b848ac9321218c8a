/* Busy workers and I/O.
 * 1. Every worker busy: while C code that never calls gr keeps both processors, a goroutine
 *    waiting on a pipe is still served: the monitor polls without blocking when nobody has
 *    polled for ~10 ms, queues the ready goroutine, and moves the hogs' processors away (they
 *    ran > 10 ms while work waited).
 * 2. One worker busy: with one hog on one processor, reads on the other wake promptly: an
 *    idle M watches the poller while a processor runs a long goroutine (sched/README.md,
 *    section 8, rule 3), rather than leaving the events to the monitor.
 * Checked with generous bounds (the "at least every 10 ms" is the monitor's period;
 * a loaded machine may add to it); the latencies are printed. */
#include "net_util.h"
#include <stdatomic.h>

#define MS 1000000LL

static int p[2];
static atomic_int stop_hogs;
static double woke_at;


static void hog(void *arg) {
  (void)arg;
  volatile unsigned long x = 0;
  while (!atomic_load(&stop_hogs)) x++; /* never enters gr */
}

static void reader(void *arg) {
  (void)arg;
  char c;
  size_t n;
  CHECK_OK(gr_fd_read(p[0], &c, 1, 10000 * MS, NULL, &n));
  woke_at = now_s();
}

static double sent_at[20], lat[20];
static void reader20(void *arg) {
  (void)arg;
  for (int i = 0; i < 20; i++) {
    char c;
    size_t n;
    CHECK_OK(gr_fd_read(p[0], &c, 1, 10000 * MS, NULL, &n));
    lat[i] = now_s() - sent_at[i];
  }
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(void) {
  init_workers(2);
  CHECK(pipe2(p, O_CLOEXEC) == 0);
  gr_handle *r, *h[2];
  CHECK_OK(gr_spawn(reader, NULL, &r));
  gr_sleep(20 * MS); /* the reader parks in the poller */
  for (int i = 0; i < 2; i++) CHECK_OK(gr_spawn(hog, NULL, &h[i]));
  gr_sleep(50 * MS); /* both processors are hogged now */
  double t0 = now_s();
  CHECK(write(p[1], "x", 1) == 1);
  CHECK_OK(gr_wait(r, 10000 * MS));
  double lat0 = woke_at - t0;
  atomic_store(&stop_hogs, 1);
  for (int i = 0; i < 2; i++) { CHECK_OK(gr_wait(h[i], 10000 * MS)); gr_handle_release(h[i]); }
  gr_handle_release(r);
  printf("net_busy: a reader behind two hogs woke %.1f ms after the write\n", lat0 * 1e3);
  CHECK(lat0 < 1.0);

  /* 2: one hog */
  atomic_store(&stop_hogs, 0);
  CHECK_OK(gr_spawn(reader20, NULL, &r));
  gr_sleep(20 * MS);
  CHECK_OK(gr_spawn(hog, NULL, &h[0]));
  gr_sleep(20 * MS);
  for (int i = 0; i < 20; i++) {
    gr_sleep(3 * MS);
    sent_at[i] = now_s();
    CHECK(write(p[1], "y", 1) == 1);
  }
  CHECK_OK(gr_wait(r, 10000 * MS));
  gr_handle_release(r);
  atomic_store(&stop_hogs, 1);
  CHECK_OK(gr_wait(h[0], 10000 * MS));
  gr_handle_release(h[0]);
  qsort(lat, 20, sizeof lat[0], cmp);
  printf("net_busy: reads beside one hog woke %.3f ms (median), %.3f ms (max) after the write\n", lat[10] * 1e3,
         lat[19] * 1e3);
  CHECK(lat[19] < 1.0);
  CHECK_OK(gr_fd_close(p[0]));
  CHECK_OK(gr_fd_close(p[1]));
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
