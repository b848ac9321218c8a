/* Issue 11, fault test: gr_shutdown with goroutines parked forever (on a channel, a
 * WaitGroup, a mutex, a join, a select on nil channels, a sleep of an hour) returns
 * GR_ETIMEDOUT within its timeout, for a timeout of 0 and of 200 ms. Each case in a child
 * process (the parked goroutines are left as they are). Thread-bound goroutines parked
 * forever block their thread like a blocking section: fault_shutdown_blocking has them. */
#include "harness.h"
#include <sys/wait.h>
#include <unistd.h>

#define MS 1000000LL
static gr_chan *ch;
static gr_wg *wg;
static gr_mutex *mu;
static gr_handle *first;

static void on_chan(void *a) { (void)a; long v; gr_chan_recv(ch, &v, GR_FOREVER); }
static void on_wg(void *a) { (void)a; gr_wg_wait(wg, GR_FOREVER); }
static void on_mutex(void *a) { (void)a; gr_mutex_lock(mu, GR_FOREVER); }
static void on_join(void *a) { (void)a; gr_wait(first, GR_FOREVER); }
static void on_nil(void *a) { (void)a; gr_case c = {NULL, GR_RECV, NULL, 0}; gr_select(&c, 1, GR_FOREVER); }
static void on_sleep(void *a) { (void)a; gr_sleep(3600LL * 1000 * MS); }

static int run(int64_t timeout) {
  init_workers(2);
  CHECK_OK(gr_chan_new(8, 0, &ch));
  CHECK_OK(gr_wg_new(&wg)); CHECK_OK(gr_wg_add(wg, 1));
  CHECK_OK(gr_mutex_new(&mu)); CHECK_OK(gr_mutex_lock(mu, 0));
  CHECK_OK(gr_spawn(on_chan, NULL, &first));
  gr_fn fns[] = {on_chan, on_wg, on_mutex, on_join, on_nil, on_sleep};
  for (int i = 0; i < 600; i++) CHECK_OK(gr_spawn(fns[i % 6], NULL, NULL));
  gr_sleep(50 * MS);
  shutdown_times_out(timeout, "601 goroutines parked forever");
  CHECK_RC(gr_shutdown(0), GR_ESTATE);
  return 0;
}

int main(void) {
  int64_t ts[] = {0, 200 * MS};
  for (int i = 0; i < 2; i++) {
    pid_t pid = fork();
    if (pid == 0) _exit(run(ts[i]));
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  return 0;
}
