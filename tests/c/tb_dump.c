/* The toolbox's waits in dumps and gr_stats (wait reasons 10-14, docs/ABI.md): goroutines
   parked in gr_rwmutex_rlock, gr_rwmutex_lock, gr_cond_wait, gr_sem_acquire, gr_once_do (while
   another caller runs the function), gr_group_go (no free slot: a semaphore acquire),
   gr_group_wait (a WaitGroup wait on the group) and a receive on a context's done channel;
   plain threads in gr_rwmutex_rlock and gr_sem_acquire. Each goroutine is listed once with
   its wait name and object (the same object on every line that waits on it), the text dump
   has Go's header lines, gr_stats.waiting counts them by code; then everyone is let go. */
#include "toolbox.h"
#include "dump_util.h"
#include <stdatomic.h>
#include <unistd.h>

static gr_rwmutex *rw_w, *rw_r; /* held for writing / for reading by main */
static gr_mutex *mu;
static gr_cond *cv;
static int cond_ready;
static gr_sem *sem;
static gr_once *once;
static gr_chan *once_gate;
static gr_group *grp, *lim;
static gr_cancel *ctx;
static atomic_int started;

enum { G_RLOCK, G_LOCK, G_COND, G_SEM, G_ONCE_RUN, G_ONCE, G_LIM_GO, G_GRP_WAIT, G_DONE, NG };
static uint64_t ids[NG];
static const char *fn_names[NG] = {"park_rlock", "park_lock", "park_cond", "park_sem", "park_once_run",
                                   "park_once", "park_lim_go", "park_grp_wait", "park_done"};
static atomic_int once_running;

#define NOINLINE __attribute__((noinline))
#define ENTER(i) do { ids[i] = gr_self(); atomic_fetch_add(&started, 1); } while (0)

NOINLINE static void park_rlock(void *a) { (void)a; ENTER(G_RLOCK); CHECK_OK(gr_rwmutex_rlock(rw_w, GR_FOREVER)); CHECK_OK(gr_rwmutex_runlock(rw_w)); }
NOINLINE static void park_lock(void *a) { (void)a; ENTER(G_LOCK); CHECK_OK(gr_rwmutex_lock(rw_r, GR_FOREVER)); CHECK_OK(gr_rwmutex_unlock(rw_r)); }
NOINLINE static void park_cond(void *a) {
  (void)a;
  CHECK_OK(gr_mutex_lock(mu, GR_FOREVER));
  ENTER(G_COND);
  while (!cond_ready) CHECK_OK(gr_cond_wait(cv, GR_FOREVER));
  CHECK_OK(gr_mutex_unlock(mu));
}
NOINLINE static void park_sem(void *a) { (void)a; ENTER(G_SEM); CHECK_OK(gr_sem_acquire(sem, 2, GR_FOREVER)); CHECK_OK(gr_sem_release(sem, 2)); }
static int once_fn(void *a) {
  (void)a; long v;
  atomic_store(&once_running, 1);
  return gr_chan_recv(once_gate, &v, GR_FOREVER) == GR_OK ? 0 : 1;
}
NOINLINE static void park_once_run(void *a) { (void)a; ENTER(G_ONCE_RUN); CHECK_OK(gr_once_do(once, once_fn, NULL, GR_FOREVER)); }
NOINLINE static void park_once(void *a) { (void)a; ENTER(G_ONCE); CHECK_OK(gr_once_do(once, once_fn, NULL, GR_FOREVER)); }
static int task_until_cancelled(void *a, gr_cancel *c) {
  (void)a; long v;
  CHECK_RC(gr_chan_recv(gr_cancel_done(c), &v, GR_FOREVER), GR_ECLOSED);
  return 0;
}
NOINLINE static void park_lim_go(void *a) {
  (void)a; ENTER(G_LIM_GO);
  CHECK_OK(gr_group_go(lim, task_until_cancelled, NULL, GR_FOREVER)); /* the slot frees at the cancel */
}
NOINLINE static void park_grp_wait(void *a) { (void)a; ENTER(G_GRP_WAIT); CHECK_OK(gr_group_wait(grp, GR_FOREVER)); }
NOINLINE static void park_done(void *a) {
  (void)a; long v; ENTER(G_DONE);
  CHECK_RC(gr_chan_recv(gr_cancel_done(ctx), &v, GR_FOREVER), GR_ECLOSED);
}

/* Plain threads. */
static atomic_int threads_in;
static void *thread_rlock(void *a) { (void)a; atomic_fetch_add(&threads_in, 1); CHECK_OK(gr_rwmutex_rlock(rw_w, GR_FOREVER)); CHECK_OK(gr_rwmutex_runlock(rw_w)); return NULL; }
static void *thread_sem(void *a) { (void)a; atomic_fetch_add(&threads_in, 1); CHECK_OK(gr_sem_acquire(sem, 1, GR_FOREVER)); CHECK_OK(gr_sem_release(sem, 1)); return NULL; }

static void redump(int flags) { outlen = 0; if (out) out[0] = 0; CHECK_OK(gr_dump_to(collect, NULL, NULL, flags)); }

/* The value of member `key` ("rwmutex", ...) of line `l`, as a string of at most 31 bytes. */
static void member(const char *l, const char *key, char *val) {
  char k[40]; snprintf(k, sizeof k, "\"%s\":\"", key);
  const char *p = strstr(l, k);
  if (!p) { fprintf(stderr, "no %s in\n%s\n", k, l); exit(1); }
  p += strlen(k);
  size_t n = strcspn(p, "\"");
  CHECK(n < 32);
  memcpy(val, p, n); val[n] = 0;
}

static void expect(int i, const char *wait, const char *key, char *obj) {
  char *l = line_of(ids[i]);
  if (!l) { fprintf(stderr, "goroutine %llu missing from the dump:\n%s\n", (unsigned long long)ids[i], out); exit(1); }
  char want[96];
  snprintf(want, sizeof want, "\"wait\":\"%s\"", wait);
  if (!strstr(l, want) || !strstr(l, "\"state\":\"parked\"")) {
    fprintf(stderr, "goroutine %s: want parked, %s in\n%s\n", fn_names[i], want, l); exit(1);
  }
  snprintf(want, sizeof want, "\"fn\":\"%s\"", fn_names[i]);
  CHECK(strstr(l, want));
  if (key) member(l, key, obj);
  free(l);
}

/* Every goroutine parked in its wait and both threads waiting (dumps retaken until so). */
static void wait_parked(void) {
  static const char *waits[NG] = {"rwmutex rlock", "rwmutex lock", "cond wait", "semaphore acquire", "chan receive",
                                  "once", "semaphore acquire", "WaitGroup wait", "chan receive"};
  for (int tries = 0;; tries++) {
    redump(GR_DUMP_JSON);
    int ok = 1;
    for (int i = 0; i < NG && ok; i++) {
      char *l = line_of(ids[i]), want[64];
      snprintf(want, sizeof want, "\"wait\":\"%s\"", waits[i]);
      ok = l && strstr(l, "\"state\":\"parked\"") && strstr(l, want);
      free(l);
    }
    int th = 0;
    for (const char *p = out; (p = strstr(p, "{\"type\":\"thread\"")); p++) {
      const char *e = strchr(p, '\n');
      const char *w1 = strstr(p, "\"wait\":\"rwmutex rlock\""), *w2 = strstr(p, "\"wait\":\"semaphore acquire\"");
      th += (w1 && w1 < e) || (w2 && w2 < e);
    }
    if (ok && th == 2) return;
    CHECK(tries < 500);
    gr_sleep(ms_ns(10));
  }
}

static void run(void *arg) {
  (void)arg;
  CHECK_OK(gr_rwmutex_new(&rw_w)); CHECK_OK(gr_rwmutex_lock(rw_w, GR_FOREVER));
  CHECK_OK(gr_rwmutex_new(&rw_r)); CHECK_OK(gr_rwmutex_rlock(rw_r, GR_FOREVER));
  CHECK_OK(gr_mutex_new(&mu)); CHECK_OK(gr_cond_new(mu, &cv));
  CHECK_OK(gr_sem_new(2, &sem)); CHECK_OK(gr_sem_acquire(sem, 2, GR_FOREVER));
  CHECK_OK(gr_once_new(&once)); CHECK_OK(gr_chan_new(8, 0, &once_gate));
  CHECK_OK(gr_group_new(NULL, 0, &grp)); CHECK_OK(gr_group_go(grp, task_until_cancelled, NULL, GR_FOREVER));
  CHECK_OK(gr_group_new(NULL, 1, &lim)); CHECK_OK(gr_group_go(lim, task_until_cancelled, NULL, GR_FOREVER));
  CHECK_OK(gr_cancel_new(&ctx));

  gr_fn fns[NG] = {park_rlock, park_lock, park_cond, park_sem, park_once_run, park_once, park_lim_go, park_grp_wait,
                   park_done};
  gr_handle *hs[NG];
  for (int i = 0; i < NG; i++) {
    CHECK_OK(gr_spawn(fns[i], NULL, &hs[i]));
    if (i == G_ONCE_RUN) /* the second caller must find the function running */
      while (!atomic_load(&once_running)) gr_sleep(ms_ns(1));
  }
  pthread_t t1, t2;
  CHECK(pthread_create(&t1, NULL, thread_rlock, NULL) == 0);
  CHECK(pthread_create(&t2, NULL, thread_sem, NULL) == 0);
  while (atomic_load(&started) < NG || atomic_load(&threads_in) < 2) gr_sleep(ms_ns(1));
  wait_parked();

  /* Names and objects; one object per lock, whoever waits on it. */
  char a[32], b[32], c[32], d[32], e[32], f[32], g[32], h[32];
  expect(G_RLOCK, "rwmutex rlock", "rwmutex", a);
  expect(G_LOCK, "rwmutex lock", "rwmutex", b);
  CHECK(strcmp(a, b) != 0);
  expect(G_COND, "cond wait", "cond", c);
  expect(G_SEM, "semaphore acquire", "semaphore", d);
  expect(G_ONCE_RUN, "chan receive", "chan", e);
  expect(G_ONCE, "once", "once", f);
  expect(G_LIM_GO, "semaphore acquire", "semaphore", g);
  CHECK(strcmp(d, g) != 0);
  expect(G_GRP_WAIT, "WaitGroup wait", "waitgroup", h);
  expect(G_DONE, "chan receive", "chan", b);
  CHECK(strcmp(b, e) != 0);
  int th_rw = 0, th_sem = 0;
  for (const char *p = out; (p = strstr(p, "{\"type\":\"thread\"")); p++) {
    char *l = strndup(p, (size_t)(strchr(p, '\n') - p)), v[32];
    if (strstr(l, "\"wait\":\"rwmutex rlock\"")) { member(l, "rwmutex", v); CHECK(strcmp(v, a) == 0); th_rw++; }
    if (strstr(l, "\"wait\":\"semaphore acquire\"")) { member(l, "semaphore", v); CHECK(strcmp(v, d) == 0); th_sem++; }
    free(l);
  }
  CHECK(th_rw == 1 && th_sem == 1);

  /* Text: Go's header line per goroutine; gr_stats by code (goroutines only). */
  redump(GR_DUMP_TEXT);
  static const char *heads[] = {"rwmutex rlock", "rwmutex lock", "cond wait", "semaphore acquire", "once"};
  static const int of[] = {G_RLOCK, G_LOCK, G_COND, G_SEM, G_ONCE};
  for (int i = 0; i < 5; i++) {
    char want[96]; snprintf(want, sizeof want, "goroutine %llu [%s, ", (unsigned long long)ids[of[i]], heads[i]);
    if (!strstr(out, want)) { fprintf(stderr, "no '%s' in\n%s\n", want, out); exit(1); }
  }
  gr_stats st; memset(&st, 0, sizeof st); st.size = sizeof st;
  CHECK_OK(gr_stats_get(&st));
  CHECK(st.waiting[GR_WAIT_RWMUTEX_READ] == 1 && st.waiting[GR_WAIT_RWMUTEX_WRITE] == 1);
  CHECK(st.waiting[GR_WAIT_COND] == 1 && st.waiting[GR_WAIT_SEMAPHORE] == 2 && st.waiting[GR_WAIT_ONCE] == 1);
  CHECK(st.waiting[GR_WAIT_WAITGROUP] == 1 && st.plain_waiting >= 2);

  /* Let everyone go. */
  CHECK_OK(gr_rwmutex_unlock(rw_w));
  CHECK_OK(gr_rwmutex_runlock(rw_r));
  CHECK_OK(gr_mutex_lock(mu, GR_FOREVER)); cond_ready = 1; CHECK_OK(gr_cond_broadcast(cv)); CHECK_OK(gr_mutex_unlock(mu));
  CHECK_OK(gr_sem_release(sem, 2));
  long one = 1; CHECK_OK(gr_chan_send(once_gate, &one, GR_FOREVER));
  CHECK_OK(gr_cancel_fire(ctx));
  CHECK_OK(gr_group_cancel(grp));
  CHECK_OK(gr_group_cancel(lim));
  for (int i = 0; i < NG; i++) { CHECK_OK(gr_wait(hs[i], ms_ns(10000))); gr_handle_release(hs[i]); }
  CHECK(pthread_join(t1, NULL) == 0 && pthread_join(t2, NULL) == 0);
  CHECK_OK(gr_group_wait(lim, ms_ns(10000)));
  CHECK_OK(gr_once_do(once, once_fn, NULL, 0));
  gr_group_free(grp); gr_group_free(lim); gr_cancel_free(ctx);
  gr_once_free(once); gr_chan_release(once_gate); gr_sem_free(sem);
  gr_cond_free(cv); gr_mutex_free(mu); gr_rwmutex_free(rw_w); gr_rwmutex_free(rw_r);
  free(out);
}

int main(void) {
  init_workers(2);
  in_goroutine(run, NULL);
  CHECK_OK(gr_shutdown(ms_ns(5000)));
  printf("toolbox waits in dumps and stats: ok\n");
  return 0;
}
