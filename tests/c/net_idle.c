/* Idle: 10,000 goroutines parked in gr_fd_read on 10,000 idle sockets (5,000 socket pairs,
 * a reader on each end) use no CPU: under 1% over 2 s. Meanwhile timers keep their
 * accuracy: 10 ms sleeps, from a goroutine and from a thread, are never early (the lateness
 * is printed; the bound checked is generous). Then gr_fd_close wakes every reader (GR_ECLOSED,
 * or end of file when the peer end was closed first). */
#include "net_util.h"
#include <stdatomic.h>
#include <sys/resource.h>

#define MS 1000000LL
#define PAIRS 5000

static int fds[2 * PAIRS];
static atomic_int parked, closed_ok;

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void reader(void *arg) {
  int fd = fds[(long)arg];
  char buf[64];
  size_t n;
  atomic_fetch_add(&parked, 1);
  int rc = gr_fd_read(fd, buf, sizeof buf, GR_FOREVER, NULL, &n);
  /* its own end closed under it, or (closed a moment before) the peer's: end of file */
  if (rc == GR_ECLOSED || (rc == GR_OK && n == 0)) atomic_fetch_add(&closed_ok, 1);
}

static double sleeps_late(int early_fail) {
  double worst = 0;
  for (int i = 0; i < 20; i++) {
    double t0 = now_s();
    CHECK_OK(gr_sleep(10 * MS));
    double late = now_s() - t0 - 0.010;
    CHECK(!early_fail || late >= 0);
    if (late > worst) worst = late;
  }
  return worst;
}

static double g_late;
static void g_sleeper(void *arg) { (void)arg; g_late = sleeps_late(1); }

int main(void) {
  raise_nofile(2 * PAIRS + 64);
  init_workers(2);
  for (int i = 0; i < PAIRS; i++) CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, &fds[2 * i]) == 0);
  for (long i = 0; i < 2 * PAIRS; i++) CHECK_OK(gr_spawn(reader, (void *)i, NULL));
  while (atomic_load(&parked) < 2 * PAIRS) gr_sleep(MS);
  gr_sleep(200 * MS); /* let every reader park and the workers settle */
  double c0 = cpu_s(), t0 = now_s();
  struct timespec ts = {2, 0};
  nanosleep(&ts, NULL);
  double used = cpu_s() - c0, wall = now_s() - t0;
  printf("net_idle: %d goroutines parked on sockets: %.4f s CPU over %.2f s (%.3f%%)\n", 2 * PAIRS, used, wall,
         100 * used / wall);
  CHECK(used / wall < 0.01);
  gr_handle *h;
  CHECK_OK(gr_spawn(g_sleeper, NULL, &h));
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
  double t_late = sleeps_late(1);
  printf("net_idle: 10 ms sleeps, worst lateness: goroutine %.3f ms, thread %.3f ms (never early)\n", g_late * 1e3,
         t_late * 1e3);
  CHECK(g_late < 0.5 && t_late < 0.5); /* generous; typically well under 1 ms */
  for (int i = 0; i < 2 * PAIRS; i++) CHECK_OK(gr_fd_close(fds[i]));
  while (atomic_load(&closed_ok) < 2 * PAIRS) gr_sleep(MS);
  CHECK_OK(gr_shutdown(10000 * MS));
  return 0;
}
