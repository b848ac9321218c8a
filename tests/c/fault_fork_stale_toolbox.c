/* Issue 11 (defect 7, fork safety) for the toolbox of issue 15 and the ports of issue 13:
 * handles of every new type made before fork() answer GR_ESTATE in the child, before and
 * after the child's gr_init (and are freed there); the child's own new handles work; the
 * parent's keep working. Meanwhile a plain thread and two goroutines make and free toolbox
 * handles without pause, so fork() often finds one of the pools' locks held (each is taken
 * around fork: ffi/src/fork.rs): a child that inherited a held lock would hang, and is
 * killed and counted after 20 s. */
#include "stale_toolbox.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#define FORKS 30
static atomic_int stop;
static atomic_long rounds;

static void churn_once(void) {
  tb_handles t;
  tb_make(&t);
  tb_free(&t);
  atomic_fetch_add(&rounds, 1);
}
static void churn_g(void *a) { (void)a; while (!atomic_load(&stop)) churn_once(); }
static void *churn_t(void *a) { (void)a; while (!atomic_load(&stop)) churn_once(); return NULL; }

static tb_handles inherited;

static void child(void) {
  int bad = tb_probe(&inherited, GR_ESTATE, "child before gr_init");
  gr_config cfg; gr_config_init(&cfg); cfg.workers = 2;
  if (gr_init(&cfg) != GR_OK) _exit(2);
  bad += tb_probe(&inherited, GR_ESTATE, "child after gr_init");
  tb_free(&inherited);
  for (int i = 0; i < 50; i++) churn_once(); /* every pool works in the child */
  tb_handles t;
  tb_make(&t);
  if (gr_timer_reset(t.timer, 1000000) != 1) bad++;
  int64_t at;
  if (gr_chan_recv(gr_timer_chan(t.timer), &at, 5000000000LL) != GR_OK) bad++;
  tb_free(&t);
  if (gr_shutdown(5000000000LL) != GR_OK) _exit(5);
  _exit(bad ? 1 : 0);
}

int main(void) {
  init_workers(2);
  tb_make(&inherited);
  gr_handle *gs[2];
  for (int i = 0; i < 2; i++) CHECK_OK(gr_spawn(churn_g, NULL, &gs[i]));
  pthread_t th;
  CHECK(pthread_create(&th, NULL, churn_t, NULL) == 0);
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
  pthread_join(th, NULL);
  for (int i = 0; i < 2; i++) { CHECK_OK(gr_wait(gs[i], GR_FOREVER)); gr_handle_release(gs[i]); }
  /* The parent's handles are untouched by the forks. */
  CHECK_RC(gr_timer_reset(inherited.timer, 1000000), 1);
  int64_t at;
  CHECK_OK(gr_chan_recv(gr_timer_chan(inherited.timer), &at, GR_FOREVER));
  CHECK_OK(gr_rwmutex_lock(inherited.rw, 0));
  CHECK_OK(gr_rwmutex_unlock(inherited.rw));
  CHECK_RC(gr_cancel_err(inherited.deadline), GR_OK);
  tb_free(&inherited);
  printf("%d forks while a thread and 2 goroutines made and freed %ld rounds of toolbox handles: %d children hung, %d failed\n",
         FORKS, atomic_load(&rounds), hung, bad);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return hung || bad;
}
