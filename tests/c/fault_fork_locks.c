/* Issue 11, fork safety: fork() while other threads hold the runtime's process-wide locks.
 * Two plain threads and four goroutines hammer everything that takes such a lock (the five
 * handle pools' free lists; the allocator's depot of goroutine records; the start/stop lock,
 * through gr_init calls that find the runtime running) while the main thread forks FORKS
 * times. Each child, whose only thread is the forking one, must gr_init, make and free every
 * kind of handle, spawn and join goroutines on fresh threads (their records come from the
 * depot), shut down and exit within 20 s: a lock left held by a parent thread, which does not
 * exist in the child, would hang it. */
#include "harness.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#define FORKS 60
static atomic_int stop;
static atomic_long rounds;

static void nop(void *a) { (void)a; }

static void churn_once(void) {
  gr_chan *c; gr_wg *w; gr_mutex *m; gr_cancel *k; gr_handle *h;
  CHECK_OK(gr_chan_new(8, 1, &c)); CHECK_OK(gr_wg_new(&w)); CHECK_OK(gr_mutex_new(&m));
  CHECK_OK(gr_cancel_new(&k));
  CHECK_OK(gr_spawn(nop, NULL, &h));
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
  gr_chan_release(c); gr_wg_free(w); gr_mutex_free(m); gr_cancel_free(k);
  CHECK_RC(gr_init(NULL), GR_ESTATE); /* takes the start/stop lock */
  atomic_fetch_add(&rounds, 1);
}

static void churn_g(void *a) { (void)a; while (!atomic_load(&stop)) churn_once(); }
static void *churn_t(void *a) { (void)a; while (!atomic_load(&stop)) churn_once(); return NULL; }

static void child(void) {
  gr_config cfg; gr_config_init(&cfg); cfg.workers = 2;
  if (gr_init(&cfg) != GR_OK) _exit(2);
  for (int i = 0; i < 300; i++) churn_once(); /* every pool, the depot, new threads */
  gr_handle *hs[64];
  for (int i = 0; i < 64; i++) if (gr_spawn(nop, NULL, &hs[i]) != GR_OK) _exit(3);
  for (int i = 0; i < 64; i++) { if (gr_wait(hs[i], GR_FOREVER) != GR_OK) _exit(4); gr_handle_release(hs[i]); }
  if (gr_shutdown(5000000000LL) != GR_OK) _exit(5);
  _exit(0);
}

int main(void) {
  init_workers(2);
  gr_handle *gs[4];
  for (int i = 0; i < 4; i++) CHECK_OK(gr_spawn(churn_g, NULL, &gs[i]));
  pthread_t ts[2];
  for (int i = 0; i < 2; i++) CHECK(pthread_create(&ts[i], NULL, churn_t, NULL) == 0);
  int hung = 0, bad = 0;
  for (int i = 0; i < FORKS; i++) {
    usleep(1000 + (i * 337) % 3000);
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) child();
    int st = 0, timed_out = 0;
    double t0 = now_s();
    while (waitpid(pid, &st, WNOHANG) == 0) {
      if (now_s() - t0 > 20) { kill(pid, SIGKILL); waitpid(pid, &st, 0); timed_out = 1; break; }
      usleep(500);
    }
    if (timed_out) {
      fprintf(stderr, "fork %d: child hung\n", i);
      hung++;
    } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      fprintf(stderr, "fork %d: child status %d (exit %d, signal %d)\n", i, st, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
              WIFSIGNALED(st) ? WTERMSIG(st) : 0);
      bad++;
    }
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 2; i++) pthread_join(ts[i], NULL);
  for (int i = 0; i < 4; i++) { CHECK_OK(gr_wait(gs[i], GR_FOREVER)); gr_handle_release(gs[i]); }
  printf("%d forks while 2 threads and 4 goroutines made and freed %ld rounds of handles: %d children hung, %d failed\n",
         FORKS, atomic_load(&rounds), hung, bad);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return hung || bad;
}
