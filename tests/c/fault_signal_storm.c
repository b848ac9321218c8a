/* Issue 11, fault test: a storm of signals whose handler is installed without SA_RESTART,
 * sent to every thread of the process (workers, the monitor, plain threads), during every
 * kind of timed wait, from goroutines, bound goroutines and plain threads. Every wait must
 * end with exactly its documented code: a timeout no earlier than asked (no early wake-up),
 * a wait that a peer completes with GR_OK (no lost wake-up), and never an interrupted
 * system call leaking out as a code. */
#include "harness.h"
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MS 1000000LL
#define T (30 * MS)      /* the timeout of a wait that must time out */
#define ROUNDS 6

static atomic_long signals, bad, waits;
static atomic_int storm_on = 1;
static gr_chan *empty, *unbuf;
static gr_wg *never_wg;
static gr_mutex *held;
static gr_handle *blocker;
static gr_chan *blocker_gate;

static void on_signal(int s) { (void)s; atomic_fetch_add_explicit(&signals, 1, memory_order_relaxed); }

static void *storm(void *arg) {
  (void)arg;
  pid_t pid = getpid(), self = (pid_t)syscall(SYS_gettid);
  while (atomic_load(&storm_on)) {
    DIR *d = opendir("/proc/self/task");
    if (!d) continue;
    struct dirent *e;
    while ((e = readdir(d))) {
      pid_t tid = (pid_t)atol(e->d_name);
      if (tid > 0 && tid != self) syscall(SYS_tgkill, pid, tid, SIGUSR1);
    }
    closedir(d);
    usleep(50);
  }
  return NULL;
}

/* Checks one wait: its code, and that it lasted at least min_s (timed from t0). */
#define WAIT(what, call, want, min_s) do { double t0_ = now_s(); int rc_ = (call); report(what, rc_, want, t0_, min_s); } while (0)
static void report(const char *what, int rc, int want, double t0, double min_s) {
  double dt = now_s() - t0;
  atomic_fetch_add(&waits, 1);
  if (rc != want || dt < min_s) {
    fprintf(stderr, "%s: rc %d (%s), want %d; %.6f s, at least %.6f\n", what, rc, gr_strerror(rc), want, dt, min_s);
    atomic_fetch_add(&bad, 1);
  }
}

/* Every kind of timed wait that must time out, then the same waits completed by a peer. */
static void timed_waits(void) {
  long v = 0;
  WAIT("sleep", gr_sleep(T), GR_OK, T / 1e9);
  WAIT("recv", gr_chan_recv(empty, &v, T), GR_ETIMEDOUT, T / 1e9);
  WAIT("send", gr_chan_send(unbuf, &v, T), GR_ETIMEDOUT, T / 1e9);
  gr_case cs[3] = {{empty, GR_RECV, &v, 0}, {unbuf, GR_SEND, &v, 0}, {NULL, GR_RECV, NULL, 0}};
  WAIT("select", gr_select(cs, 3, T), GR_ETIMEDOUT, T / 1e9);
  WAIT("wg_wait", gr_wg_wait(never_wg, T), GR_ETIMEDOUT, T / 1e9);
  WAIT("mutex_lock", gr_mutex_lock(held, T), GR_ETIMEDOUT, T / 1e9);
  WAIT("join", gr_wait(blocker, T), GR_ETIMEDOUT, T / 1e9);
  gr_cancel *k; CHECK_OK(gr_cancel_new(&k));
  WAIT("sleep_ex", gr_sleep_ex(T, k), GR_OK, T / 1e9);
  WAIT("recv_ex", gr_chan_recv_ex(empty, &v, T, k), GR_ETIMEDOUT, T / 1e9);
  gr_cancel_free(k);
}

/* Peer-completed waits: a private channel pair; the peer answers after ~2 ms. A lost
 * wake-up would end in GR_ETIMEDOUT after 5 s. */
typedef struct { gr_chan *req, *rep; } pair;
static void echo(void *arg) {
  pair *p = arg;
  long v;
  while (gr_chan_recv(p->req, &v, GR_FOREVER) == GR_OK) {
    gr_sleep(2 * MS);
    if (gr_chan_send(p->rep, &v, GR_FOREVER) != GR_OK) break;
  }
}

static void woken_waits(void) {
  pair p;
  CHECK_OK(gr_chan_new(sizeof(long), 0, &p.req));
  CHECK_OK(gr_chan_new(sizeof(long), 0, &p.rep));
  gr_handle *h;
  CHECK_OK(gr_spawn(echo, &p, &h));
  for (long i = 0; i < 10; i++) {
    long v = -1;
    double t0 = now_s();
    WAIT("req", gr_chan_send(p.req, &i, 5000 * MS), GR_OK, 0);
    if (i % 2) {
      gr_case c = {p.rep, GR_RECV, &v, 0};
      int r = gr_select(&c, 1, 5000 * MS);
      report("woken select", r == 0 ? c.status : r, GR_OK, t0, 0);
    } else {
      WAIT("woken recv", gr_chan_recv(p.rep, &v, 5000 * MS), GR_OK, 0);
    }
    if (v != i) atomic_fetch_add(&bad, 1);
  }
  CHECK_OK(gr_chan_close(p.req));
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
  gr_chan_release(p.req);
  gr_chan_release(p.rep);
}

static void waiter(void *arg) {
  (void)arg;
  for (int r = 0; r < ROUNDS; r++) { timed_waits(); woken_waits(); }
}

static void *thread_waiter(void *arg) { waiter(arg); return NULL; }

static void blocker_fn(void *arg) { (void)arg; long v; gr_chan_recv(blocker_gate, &v, GR_FOREVER); }

int main(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sa.sa_flags = 0; /* no SA_RESTART: every blocking system call may fail with EINTR */
  sigemptyset(&sa.sa_mask);
  CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
  init_workers(2);
  CHECK_OK(gr_chan_new(sizeof(long), 0, &empty));
  CHECK_OK(gr_chan_new(sizeof(long), 0, &unbuf));
  CHECK_OK(gr_wg_new(&never_wg));
  CHECK_OK(gr_wg_add(never_wg, 1));
  CHECK_OK(gr_mutex_new(&held));
  CHECK_OK(gr_mutex_lock(held, GR_FOREVER));
  CHECK_OK(gr_chan_new(sizeof(long), 0, &blocker_gate));
  CHECK_OK(gr_spawn(blocker_fn, NULL, &blocker));

  pthread_t st, th[2];
  CHECK(pthread_create(&st, NULL, storm, NULL) == 0);
  gr_handle *g[4];
  gr_spawn_opts bo; gr_spawn_opts_init(&bo); bo.flags = GR_SPAWN_BOUND;
  CHECK_OK(gr_spawn(waiter, NULL, &g[0]));
  CHECK_OK(gr_spawn(waiter, NULL, &g[1]));
  CHECK_OK(gr_spawn_ex(waiter, NULL, &bo, &g[2]));
  CHECK_OK(gr_spawn_ex(waiter, NULL, &bo, &g[3]));
  for (int i = 0; i < 2; i++) CHECK(pthread_create(&th[i], NULL, thread_waiter, NULL) == 0);
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < 4; i++) { CHECK_OK(gr_wait(g[i], GR_FOREVER)); gr_handle_release(g[i]); }
  atomic_store(&storm_on, 0);
  pthread_join(st, NULL);

  CHECK_OK(gr_chan_close(blocker_gate));
  CHECK_OK(gr_wait(blocker, GR_FOREVER));
  gr_handle_release(blocker);
  CHECK_OK(gr_mutex_unlock(held));
  CHECK_OK(gr_wg_done(never_wg));
  printf("%ld waits under %ld signals (no SA_RESTART): %ld wrong\n", atomic_load(&waits), atomic_load(&signals), atomic_load(&bad));
  CHECK(atomic_load(&signals) > 1000);
  CHECK(atomic_load(&bad) == 0);
  CHECK_OK(gr_shutdown(5000 * MS));
  return 0;
}
