/* Issue 11, fault test: fork() from a plain thread while goroutines, bound goroutines and
 * threads pass values around a ring and allocate handles. Each child: every call refuses with
 * GR_ESTATE (whose text names fork), gr_init starts a fresh runtime that works (spawn, join,
 * channels, select, sync), and gr_shutdown ends it. The parent is unaffected: the ring loses
 * no value and every goroutine ends. */
#include "harness.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define RING 8
#define FORKS 20
static gr_chan *ring[RING];
static atomic_int stop;
static atomic_long hops, allocs;
static gr_handle *parked;
static gr_chan *park_ch;

/* Ring member i: receive from ring[i], send to ring[i+1]; the token counts its hops. */
static void member(void *arg) {
  long i = (long)arg, v;
  for (;;) {
    int rc = gr_chan_recv(ring[i], &v, GR_FOREVER);
    if (rc == GR_ECLOSED) return;
    CHECK_OK(rc);
    atomic_fetch_add(&hops, 1);
    rc = gr_chan_send(ring[(i + 1) % RING], &v, GR_FOREVER);
    if (rc == GR_ECLOSED) { fprintf(stderr, "ring closed under a token\n"); exit(1); }
    CHECK_OK(rc);
  }
}

/* Handle churn in the parent while it forks: channels, WaitGroups, mutexes, cancel tokens. */
static void churn(void *arg) {
  (void)arg;
  while (!atomic_load(&stop)) {
    gr_chan *c; gr_wg *w; gr_mutex *m; gr_cancel *k;
    CHECK_OK(gr_chan_new(8, 1, &c)); CHECK_OK(gr_wg_new(&w)); CHECK_OK(gr_mutex_new(&m));
    CHECK_OK(gr_cancel_new(&k));
    long v = 1;
    CHECK_OK(gr_chan_send(c, &v, 0));
    CHECK_OK(gr_sleep_ex(10000, k));
    gr_chan_release(c); gr_wg_free(w); gr_mutex_free(m); gr_cancel_free(k);
    atomic_fetch_add(&allocs, 1);
  }
}

static void nop(void *arg) { (void)arg; }
static void park_forever(void *arg) { (void)arg; long v; CHECK_RC(gr_chan_recv(park_ch, &v, GR_FOREVER), GR_ECLOSED); }

#define CHILD_CHECK(cond, code) do { if (!(cond)) { fprintf(stderr, "child: %s failed\n", #cond); _exit(code); } } while (0)

static void child(void) {
  gr_handle *h = NULL;
  gr_chan *c = NULL;
  long v = 5;
  /* The inherited runtime is gone: everything refuses until gr_init. */
  CHILD_CHECK(gr_spawn(nop, NULL, &h) == GR_ESTATE, 10);
  CHILD_CHECK(gr_sleep(1000) == GR_ESTATE, 11);
  CHILD_CHECK(gr_chan_new(8, 0, &c) == GR_ESTATE && c == NULL, 12);
  CHILD_CHECK(gr_chan_send(ring[0], &v, 0) == GR_ESTATE, 13);
  gr_stats st = {.size = sizeof st};
  CHILD_CHECK(gr_stats_get(&st) == GR_ESTATE, 15);
  CHILD_CHECK(gr_shutdown(0) == GR_ESTATE, 16);
  CHILD_CHECK(strstr(gr_strerror(GR_ESTATE), "fork") != NULL, 17);
  /* A fresh runtime works. */
  gr_config cfg; gr_config_init(&cfg); cfg.workers = 2;
  CHILD_CHECK(gr_init(&cfg) == GR_OK, 20);
  CHILD_CHECK(gr_spawn(nop, NULL, &h) == GR_OK, 21);
  CHILD_CHECK(gr_wait(h, 1000000000LL) == GR_OK, 22);
  gr_handle_release(h);
  CHILD_CHECK(gr_chan_new(8, 1, &c) == GR_OK, 23);
  CHILD_CHECK(gr_chan_send(c, &v, 0) == GR_OK, 24);
  long got = 0;
  gr_case cs[2] = {{NULL, GR_RECV, NULL, 0}, {c, GR_RECV, &got, 0}};
  CHILD_CHECK(gr_select(cs, 2, 1000000000LL) == 1 && got == 5, 25);
  gr_chan_release(c);
  gr_wg *w;
  CHILD_CHECK(gr_wg_new(&w) == GR_OK && gr_wg_add(w, 1) == GR_OK && gr_wg_done(w) == GR_OK, 26);
  CHILD_CHECK(gr_wg_wait(w, 0) == GR_OK, 27);
  gr_wg_free(w);
  CHILD_CHECK(gr_shutdown(1000000000LL) == GR_OK, 28);
  _exit(0);
}

static void *forker(void *arg) {
  (void)arg;
  for (int i = 0; i < FORKS; i++) {
    gr_sleep(5000000); /* let the load run between forks */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) child();
    /* The child must finish within 20 s (a lock held across fork would hang it). */
    int status = 0;
    double t0 = now_s();
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (now_s() - t0 > 20) { kill(pid, SIGKILL); waitpid(pid, &status, 0); fprintf(stderr, "fork %d: child hung\n", i); exit(1); }
      usleep(1000);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "fork %d: child status %d (exit %d, signal %d)\n", i, status,
              WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
      exit(1);
    }
  }
  return NULL;
}

static void bound_member(void *arg) { member(arg); }

int main(void) {
  init_workers(2);
  gr_handle *hs[RING], *ch[2];
  for (int i = 0; i < RING; i++) CHECK_OK(gr_chan_new(sizeof(long), i % 2, &ring[i]));
  gr_spawn_opts bo; gr_spawn_opts_init(&bo); bo.flags = GR_SPAWN_BOUND;
  for (long i = 0; i < RING; i++) {
    if (i == 3) CHECK_OK(gr_spawn_ex(bound_member, (void *)i, &bo, &hs[i]));
    else CHECK_OK(gr_spawn(member, (void *)i, &hs[i]));
  }
  CHECK_OK(gr_chan_new(sizeof(long), 0, &park_ch));
  CHECK_OK(gr_spawn(park_forever, NULL, &parked));
  for (int i = 0; i < 2; i++) CHECK_OK(gr_spawn(churn, NULL, &ch[i]));
  /* Three tokens travel the ring. */
  for (long t = 100; t < 103; t++) CHECK_OK(gr_chan_send(ring[0], &t, GR_FOREVER));

  pthread_t f;
  CHECK(pthread_create(&f, NULL, forker, NULL) == 0);
  pthread_join(f, NULL);

  /* The parent's ring still carries its three tokens: take them out and check them. */
  atomic_store(&stop, 1);
  long h0 = atomic_load(&hops);
  gr_sleep(20000000);
  CHECK(atomic_load(&hops) > h0); /* still moving */
  long seen[3] = {0};
  for (int k = 0; k < 3; k++) {
    long v;
    gr_case cs[RING];
    for (int i = 0; i < RING; i++) cs[i] = (gr_case){ring[i], GR_RECV, &v, 0};
    int r = gr_select(cs, RING, 5000000000LL);
    CHECK(r >= 0 && cs[r].status == GR_OK);
    CHECK(v >= 100 && v < 103 && !seen[v - 100]);
    seen[v - 100] = 1;
  }
  for (int i = 0; i < RING; i++) CHECK_OK(gr_chan_close(ring[i]));
  for (int i = 0; i < RING; i++) { CHECK_OK(gr_wait(hs[i], GR_FOREVER)); gr_handle_release(hs[i]); }
  for (int i = 0; i < 2; i++) { CHECK_OK(gr_wait(ch[i], GR_FOREVER)); gr_handle_release(ch[i]); }
  CHECK_OK(gr_chan_close(park_ch));
  CHECK_OK(gr_wait(parked, GR_FOREVER));
  gr_handle_release(parked);
  printf("%d forks under load: children refused, re-initialised and shut down; parent ring made %ld hops, %ld handle rounds\n",
         FORKS, atomic_load(&hops), atomic_load(&allocs));
  for (int i = 0; i < RING; i++) gr_chan_release(ring[i]);
  gr_chan_release(park_ch);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
