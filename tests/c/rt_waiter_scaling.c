/* Issue 11, defect 1: withdrawing a waiter (timed out, cancelled, or a select served through
 * another case) costs O(1), so many waiters on one object scale linearly.
 *
 * Shapes (each at 12,500 / 25,000 / 50,000 / 100,000 waiters; the WaitGroup one at twice that):
 *   worker   Go's worker idiom: N goroutines each select on a shared quit channel and their
 *            own channel; the driver sends one job to each, waits for the jobs to be done,
 *            then closes quit
 *   select   N one-case selects with a timeout on one channel (all time out)
 *   recv     N receives with a timeout on one channel (all time out)
 *   wg       N WaitGroup waits with a timeout (all time out; lateness measured)
 *   mutex    N locks with a timeout on a held mutex (all time out)
 *   cancel   N receives, each on its own channel, all with one shared cancel token; the driver
 *            serves each (each unregisters from the token), then they wait again and it fires
 *   join     N gr_wait with a timeout on one goroutine that outlives them
 * Waiters leave their queue in an order unrelated to the order they joined it, as they do in
 * real programs (a queue served in arrival order would hide a removal that scans): jobs go
 * out in a pseudo-random permutation, and waiter i's deadline is a common base (300 ms plus
 * 2 us per waiter after the driver starts, so that all have queued by then) plus a
 * pseudo-random 0-100 ms. bench/waiters/main.go uses the same permutation and deadlines.
 *
 * The cost of a run is the process's CPU time (user + system): the 200 ms of idle waiting is
 * not in it, and other processes on a loaded machine inflate it far less than wall time.
 * Linear scaling: the CPU time per waiter at the largest size is within SCALE_FACTOR of that
 * at the smallest (a quadratic removal makes it 8x); a pair that fails is measured once more
 * before the test fails, so one burst of load cannot fail it.
 *
 * Usage: rt_waiter_scaling            all shapes, all sizes, with the assertions (make test)
 *        rt_waiter_scaling SHAPE N    one run, printing "RESULT shape=... n=... wall_s=...
 *                                     cpu_s=... late_max_s=..." (bench/waiters/run.sh) */
#include "harness.h"
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>

#define MS 1000000LL
#define SCALE_FACTOR 3.0
#define LATE_BOUND_S 4.0

static gr_wg *all_done;          /* every waiter marks it done */
static gr_wg *jobs_done;         /* worker: every job marks it done */
static gr_chan *quit, *shared;   /* worker: quit; select/recv: the one channel */
static gr_chan **own;            /* worker, cancel: one channel per waiter */
static gr_wg *blocker_wg;        /* wg: never reaches zero during the run */
static gr_mutex *held;           /* mutex: held by the driver */
static gr_cancel *tok;           /* cancel: shared token */
static gr_handle *blocker;       /* join: the goroutine everyone waits for */
static gr_chan *blocker_gate;
static atomic_long bad, jobs, late_max_ns, started;

static int64_t mono_ns(void) {
  struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double cpu_s(void) {
  struct rusage ru; getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void expect(int rc, int want) { if (rc != want) atomic_fetch_add(&bad, 1); }

/* Waiter i's timeout: until the common base deadline plus a pseudo-random 0-100 ms
 * (Knuth's multiplicative hash), at least 1 ms. */
static int64_t base_deadline_ns;
static int64_t timeout_of(long i) {
  int64_t t = base_deadline_ns + (int64_t)((uint32_t)i * 2654435761u % 100000000u) - mono_ns();
  return t < MS ? MS : t;
}

/* A pseudo-random permutation of 0..n-1 (Fisher-Yates over xorshift64, fixed seed). */
static long *perm;
static void make_perm(long n) {
  perm = malloc(sizeof *perm * n);
  CHECK(perm);
  for (long i = 0; i < n; i++) perm[i] = i;
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (long i = n - 1; i > 0; i--) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    long j = (long)(x % (uint64_t)(i + 1));
    long t = perm[i]; perm[i] = perm[j]; perm[j] = t;
  }
}

static void worker(void *arg) {
  long i = (long)arg, v;
  atomic_fetch_add(&started, 1);
  for (;;) {
    gr_case cs[2] = {{quit, GR_RECV, NULL, 0}, {own[i], GR_RECV, &v, 0}};
    int r = gr_select(cs, 2, GR_FOREVER);
    if (r == 0 && cs[0].status == GR_ECLOSED) break;
    if (r != 1 || v != i) { atomic_fetch_add(&bad, 1); break; }
    atomic_fetch_add(&jobs, 1);
    gr_wg_done(jobs_done);
  }
  gr_wg_done(all_done);
}

static void select_waiter(void *arg) {
  long v;
  gr_case c = {shared, GR_RECV, &v, 0};
  expect(gr_select(&c, 1, timeout_of((long)arg)), GR_ETIMEDOUT);
  gr_wg_done(all_done);
}

static void recv_waiter(void *arg) {
  long v;
  expect(gr_chan_recv(shared, &v, timeout_of((long)arg)), GR_ETIMEDOUT);
  gr_wg_done(all_done);
}

static void wg_waiter(void *arg) {
  int64_t t = timeout_of((long)arg), deadline = mono_ns() + t;
  expect(gr_wg_wait(blocker_wg, t), GR_ETIMEDOUT);
  long late = (long)(mono_ns() - deadline);
  long m = atomic_load(&late_max_ns);
  while (late > m && !atomic_compare_exchange_weak(&late_max_ns, &m, late)) {}
  if (late < 0) atomic_fetch_add(&bad, 1); /* woken early */
  gr_wg_done(all_done);
}

static void mutex_waiter(void *arg) {
  expect(gr_mutex_lock(held, timeout_of((long)arg)), GR_ETIMEDOUT);
  gr_wg_done(all_done);
}

static void cancel_waiter(void *arg) {
  long i = (long)arg, v = -1;
  atomic_fetch_add(&started, 1);
  expect(gr_chan_recv_ex(own[i], &v, GR_FOREVER, tok), GR_OK);
  if (v != i) atomic_fetch_add(&bad, 1);
  gr_wg_done(all_done);
  expect(gr_chan_recv_ex(own[i], &v, GR_FOREVER, tok), GR_ECANCELED);
  gr_wg_done(all_done);
}

static void join_waiter(void *arg) {
  expect(gr_wait(blocker, timeout_of((long)arg)), GR_ETIMEDOUT);
  gr_wg_done(all_done);
}

static void blocker_fn(void *arg) {
  (void)arg; long v;
  expect(gr_chan_recv(blocker_gate, &v, GR_FOREVER), GR_ECLOSED);
}

static void spawn_n(gr_fn fn, long n) {
  for (long i = 0; i < n; i++) CHECK_OK(gr_spawn(fn, (void *)i, NULL));
}

/* Until every waiter has started and (a moment later) parked: the jobs then meet parked
 * waiters, as in a long-running worker pool. */
static void await_parked(long n) {
  while (atomic_load(&started) < n) gr_sleep(MS);
  gr_sleep(20 * MS);
}

static void new_chans(long n) {
  own = malloc(sizeof *own * n);
  CHECK(own);
  for (long i = 0; i < n; i++) CHECK_OK(gr_chan_new(sizeof(long), 0, &own[i]));
}

static void free_chans(long n) {
  for (long i = 0; i < n; i++) gr_chan_release(own[i]);
  free(own);
}

static const char *shape;
static long size;

/* One run of `shape` at `size`, inside a goroutine (the driver, as Go's main). */
static void drive(void *arg) {
  (void)arg;
  long n = size;
  make_perm(n);
  base_deadline_ns = mono_ns() + 300 * MS + n * 2000;
  CHECK_OK(gr_wg_add(all_done, n));
  if (!strcmp(shape, "worker")) {
    CHECK_OK(gr_chan_new(sizeof(long), 0, &quit));
    new_chans(n);
    spawn_n(worker, n);
    CHECK_OK(gr_wg_add(jobs_done, n));
    await_parked(n);
    for (long i = 0; i < n; i++) CHECK_OK(gr_chan_send(own[perm[i]], &perm[i], GR_FOREVER));
    CHECK_OK(gr_wg_wait(jobs_done, GR_FOREVER));
    CHECK_OK(gr_chan_close(quit));
    CHECK_OK(gr_wg_wait(all_done, GR_FOREVER));
    CHECK(atomic_load(&jobs) == n);
    free_chans(n);
    gr_chan_release(quit);
  } else if (!strcmp(shape, "select") || !strcmp(shape, "recv")) {
    CHECK_OK(gr_chan_new(sizeof(long), 0, &shared));
    spawn_n(!strcmp(shape, "select") ? select_waiter : recv_waiter, n);
    CHECK_OK(gr_wg_wait(all_done, GR_FOREVER));
    long v = 7; /* nothing was left behind in the queue: a poll finds no receiver */
    CHECK_RC(gr_chan_send(shared, &v, 0), GR_EAGAIN);
    gr_chan_release(shared);
  } else if (!strcmp(shape, "wg")) {
    CHECK_OK(gr_wg_new(&blocker_wg));
    CHECK_OK(gr_wg_add(blocker_wg, 1));
    spawn_n(wg_waiter, n);
    CHECK_OK(gr_wg_wait(all_done, GR_FOREVER));
    CHECK_OK(gr_wg_done(blocker_wg));
    CHECK_OK(gr_wg_wait(blocker_wg, 0));
    gr_wg_free(blocker_wg);
  } else if (!strcmp(shape, "mutex")) {
    CHECK_OK(gr_mutex_new(&held));
    CHECK_OK(gr_mutex_lock(held, GR_FOREVER));
    spawn_n(mutex_waiter, n);
    CHECK_OK(gr_wg_wait(all_done, GR_FOREVER));
    CHECK_OK(gr_mutex_unlock(held));
    CHECK_OK(gr_mutex_lock(held, 0)); /* no waiter left behind: the lock is free */
    CHECK_OK(gr_mutex_unlock(held));
    gr_mutex_free(held);
  } else if (!strcmp(shape, "cancel")) {
    CHECK_OK(gr_cancel_new(&tok));
    new_chans(n);
    spawn_n(cancel_waiter, n);
    await_parked(n);
    for (long i = 0; i < n; i++) CHECK_OK(gr_chan_send(own[perm[i]], &perm[i], GR_FOREVER));
    CHECK_OK(gr_wg_wait(all_done, GR_FOREVER));
    CHECK_OK(gr_wg_add(all_done, n));
    gr_sleep(50 * MS); /* let them park again */
    CHECK_OK(gr_cancel_fire(tok));
    CHECK_OK(gr_wg_wait(all_done, GR_FOREVER));
    free_chans(n);
    gr_cancel_free(tok);
  } else if (!strcmp(shape, "join")) {
    CHECK_OK(gr_chan_new(sizeof(long), 0, &blocker_gate));
    CHECK_OK(gr_spawn(blocker_fn, NULL, &blocker));
    spawn_n(join_waiter, n);
    CHECK_OK(gr_wg_wait(all_done, GR_FOREVER));
    CHECK_OK(gr_chan_close(blocker_gate));
    CHECK_OK(gr_wait(blocker, GR_FOREVER));
    gr_handle_release(blocker);
    gr_chan_release(blocker_gate);
  } else {
    fprintf(stderr, "unknown shape %s\n", shape);
    exit(2);
  }
  free(perm);
}

typedef struct { double wall, cpu, late; } result;

static result run(const char *s, long n) {
  shape = s; size = n;
  atomic_store(&jobs, 0);
  atomic_store(&started, 0);
  atomic_store(&late_max_ns, 0);
  double w0 = now_s(), c0 = cpu_s();
  gr_handle *h;
  CHECK_OK(gr_spawn(drive, NULL, &h));
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
  result r = {now_s() - w0, cpu_s() - c0, atomic_load(&late_max_ns) / 1e9};
  CHECK(atomic_load(&bad) == 0);
  return r;
}

static const char *shapes[] = {"worker", "select", "recv", "wg", "mutex", "cancel", "join"};
#define NSHAPES (sizeof shapes / sizeof *shapes)

int main(int argc, char **argv) {
  init_workers(2);
  CHECK_OK(gr_wg_new(&all_done));
  CHECK_OK(gr_wg_new(&jobs_done));
  if (argc == 3) {
    run(argv[1], 2000); /* warm-up, as the Go program's */
    result r = run(argv[1], atol(argv[2]));
    printf("RESULT shape=%s n=%ld wall_s=%.4f cpu_s=%.4f late_max_s=%.4f\n", argv[1], atol(argv[2]), r.wall, r.cpu, r.late);
    return 0;
  }
  run("worker", 2000); /* warm-up: threads, stack pools */
  const long base[4] = {12500, 25000, 50000, 100000};
  printf("%-7s %8s %9s %9s %12s %10s\n", "shape", "n", "wall_s", "cpu_s", "cpu_us/wait", "late_max_s");
  for (size_t s = 0; s < NSHAPES; s++) {
    long mult = !strcmp(shapes[s], "wg") ? 2 : 1;
    double per[4];
    for (int i = 0; i < 4; i++) {
      long n = base[i] * mult;
      result r = run(shapes[s], n);
      per[i] = r.cpu / n;
      printf("%-7s %8ld %9.3f %9.3f %12.2f %10.3f\n", shapes[s], n, r.wall, r.cpu, per[i] * 1e6, r.late);
      fflush(stdout);
      if (!strcmp(shapes[s], "wg")) CHECK(r.late < LATE_BOUND_S);
    }
    double ratio = per[3] / per[0];
    for (int again = 0; ratio > SCALE_FACTOR && again < 1; again++) {
      printf("%-7s: per-waiter cost ratio %.2f at %ldx the waiters; measuring the pair again\n", shapes[s], ratio, base[3] / base[0]);
      per[0] = run(shapes[s], base[0] * mult).cpu / (base[0] * mult);
      per[3] = run(shapes[s], base[3] * mult).cpu / (base[3] * mult);
      ratio = per[3] / per[0];
    }
    printf("%-7s: per-waiter cost at %ld / at %ld = %.2f (limit %.1f)\n", shapes[s], base[3] * mult, base[0] * mult, ratio, SCALE_FACTOR);
    CHECK(ratio <= SCALE_FACTOR);
  }
  gr_wg_free(all_done);
  gr_wg_free(jobs_done);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
