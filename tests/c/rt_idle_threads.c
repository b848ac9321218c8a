/* Idle spare threads are given back (issue 16, defect 4): after 200 goroutines that each
 * held a thread in a blocking section have ended, the runtime's threads fall back to one per
 * processor plus the monitor within a few seconds (keep-alive: 1 s), and the OS threads
 * really exit. An M with a goroutine pinned to it stays, however long it idles; afterwards
 * the runtime still starts spares on demand. */
#include "harness.h"
#include <dirent.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#define N 200
static atomic_int running;

static void blocker(void *arg) {
  (void)arg;
  atomic_fetch_add(&running, 1);
  gr_blocking_begin();
  while (atomic_load(&running) < N) usleep(1000); /* hold the thread until all hold one */
  usleep(20000);
  gr_blocking_end();
}

static long threads(void) {
  gr_stats st = {.size = sizeof st};
  CHECK_OK(gr_stats_get(&st));
  return (long)st.threads;
}

static int os_threads(void) {
  DIR *d = opendir("/proc/self/task");
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

/* Pins itself, waits on a channel past the keep-alive, and reports whether it came back on
 * the same OS thread. */
static void pinned(void *arg) {
  gr_chan *ch = arg;
  CHECK_OK(gr_pin());
  long before = syscall(SYS_gettid), v;
  CHECK_OK(gr_chan_recv(ch, &v, GR_FOREVER));
  long after = syscall(SYS_gettid);
  CHECK(before == after);
  CHECK_OK(gr_unpin());
}

static void spawn_blockers(void) {
  gr_handle *hs[N];
  atomic_store(&running, 0);
  for (int i = 0; i < N; i++) CHECK_OK(gr_spawn(blocker, NULL, &hs[i]));
  for (int i = 0; i < N; i++) { CHECK_OK(gr_wait(hs[i], GR_FOREVER)); gr_handle_release(hs[i]); }
}

int main(void) {
  init_workers(2);
  long base = 2 + 1; /* one M per processor, and the monitor */
  gr_chan *ch;
  CHECK_OK(gr_chan_new(sizeof(long), 0, &ch));
  gr_handle *pin;
  CHECK_OK(gr_spawn(pinned, ch, &pin));

  spawn_blockers();
  long peak = threads();
  int os_peak = os_threads();
  printf("after %d blocking goroutines: %ld runtime threads, %d OS threads\n", N, peak, os_peak);
  CHECK(peak >= N / 2);

  double t0 = now_s();
  while (threads() > base && now_s() - t0 < 30) usleep(20000);
  double took = now_s() - t0;
  long left = threads();
  /* an exiting thread leaves the count first, then the process: give the OS threads time */
  while (os_peak - os_threads() < N / 2 - 5 && now_s() - t0 < 30) usleep(20000);
  int os_left = os_threads();
  printf("back to %ld runtime threads (%d OS threads) after %.2f s\n", left, os_left, took);
  CHECK(left <= base);
  CHECK(os_peak - os_left >= N / 2 - 5); /* the OS threads exited, not just the count */

  /* the pinned goroutine's M stayed: it resumes there */
  long v = 1;
  CHECK_OK(gr_chan_send(ch, &v, GR_FOREVER));
  CHECK_OK(gr_wait(pin, 5000000000LL));
  gr_handle_release(pin);

  /* spares are started again on demand, and given back again */
  spawn_blockers();
  CHECK(threads() >= N / 2);
  t0 = now_s();
  while (threads() > base && now_s() - t0 < 30) usleep(20000);
  CHECK(threads() <= base);
  gr_chan_release(ch);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
