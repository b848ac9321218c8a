/* Issue 11, defect 6: gr_shutdown keeps its timeout when goroutines hold their threads: a
 * goroutine and a bound goroutine inside blocking sections (gr_blocking_begin .. end around
 * a 3 s foreign call), and a bound goroutine parked forever on a channel. gr_shutdown(0)
 * and gr_shutdown(300 ms) return GR_ETIMEDOUT within their timeout (+100 ms). Today the
 * thread-join grace period makes them take 0.5 s and 0.8 s. Each case in a child process. */
#include "harness.h"
#include <sys/wait.h>
#include <unistd.h>

#define MS 1000000LL

static void in_blocking(void *a) {
  (void)a;
  gr_blocking_begin();
  usleep(3000000);
  gr_blocking_end();
}

static gr_chan *ch;
static void parked(void *a) { (void)a; long v; gr_chan_recv(ch, &v, GR_FOREVER); }

static int run(int64_t timeout) {
  init_workers(2);
  CHECK_OK(gr_chan_new(sizeof(long), 0, &ch));
  gr_spawn_opts bo; gr_spawn_opts_init(&bo); bo.flags = GR_SPAWN_BOUND;
  CHECK_OK(gr_spawn(in_blocking, NULL, NULL));
  CHECK_OK(gr_spawn_ex(in_blocking, NULL, &bo, NULL));
  CHECK_OK(gr_spawn_ex(parked, NULL, &bo, NULL));
  gr_sleep(50 * MS);
  shutdown_times_out(timeout, "goroutines holding 3 threads");
  return 0;
}

int main(void) {
  int64_t ts[] = {0, 300 * MS};
  int failed = 0;
  for (int i = 0; i < 2; i++) {
    pid_t pid = fork();
    if (pid == 0) _exit(run(ts[i]));
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) failed++;
  }
  return failed != 0;
}
