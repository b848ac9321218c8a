/* No goroutine is left queued with every processor idle (the fuzzer's stall, issue 11: seed
 * 12 under load stalled with goroutines in the global queue, every processor idle and every
 * M asleep or in a blocking call, or a processor HELD by nobody). The holes
 * (core/src/sched/README.md, section 3): an idle M unlisted by `startm` before its processor
 * was stored (it could list itself again and be handed a second processor over the first,
 * or take a spinning hand-off while waiting for a processor for its pinned goroutines and
 * leak `nmspinning`); a processor released by a path that does not look at the queues
 * afterwards (a bound goroutine's wait handing its processor off, a processor yielded to an
 * M that wants one); a `wakep` whose spinner found no idle processor after all (Go's
 * `needspinning`). Their windows are a few instructions wide: the loom models in
 * core/src/sched/idle.rs are the regression tests that fail on the old code; this program
 * runs the paths together on the real scheduler (pinned goroutines woken from other threads
 * while their M goes idle, bound goroutines handing processors off and taking them back,
 * plain threads spawning into the global queue) and fails on any kid left unrun.
 *
 * Rounds: the main thread starts every actor (bound goroutines and plain threads) through
 * its own channel, and each spawns a few kids (plain, bound, or sleeping ones, which the
 * monitor's timers wake) and joins them; then it reports back and waits for the next round.
 * Nothing else runs between rounds, so a kid stranded in a queue is never rescued by a later
 * wake: its join times out (10 s, far beyond any scheduling delay) and the test fails with a
 * dump. Bound actors wait on their channel and on their kids with their processor handed off
 * (`handoff_p`) and take one back (`acquire_p_wait`) every round: the releases and takes
 * race the plain threads' spawns into the global queue. */
#include "harness.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define NBOUND 3
#define NTHREAD 2
#define NPIN 2
#define NACT (NBOUND + NTHREAD + NPIN)
#define JOIN_NS 10000000000LL

static gr_chan *start[NACT], *done;
static atomic_long kids_run;

/* A kid that never runs is reported when its join times out, 10 s on, after the joiners took
 * processors back: that dump no longer shows the stall. This plain thread dumps the runtime
 * once while it is stalled: the global queue non-empty at every look for 1 s. (Diagnostics
 * only: the verdict stays the joins'. The stall it caught, 1 run in 40 or so on 2 CPUs:
 * every processor idle, every M idle or in a blocking call, goroutines in the global queue;
 * a spinner's step 3 that handed its processor to an M waiting for one slept on what its
 * re-check found: core/src/sched/README.md section 3, "Give up".) */
static void *stall_watch(void *arg) {
  (void)arg;
  int streak = 0, dumped = 0;
  for (;;) {
    struct gr_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    streak = gr_stats_get(&st) == GR_OK && st.runq_global > 0 ? streak + 1 : 0;
    if (streak == 20 && !dumped) {
      fprintf(stderr, "stall watch: the global queue was non-empty at every look for 1 s; the runtime now:\n");
      gr_dump(2, 0);
      dumped = 1;
    }
    usleep(50000);
  }
  return NULL;
}

static void kid(void *arg) {
  uintptr_t how = (uintptr_t)arg;
  if (how == 1) CHECK_OK(gr_sleep(1000 + (int64_t)(how * 7919 % 40000)));
  if (how == 2) gr_yield();
  atomic_fetch_add(&kids_run, 1);
}

static uint64_t rnd(uint64_t *s) {
  *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
  return *s;
}

static void actor(long id, int pinned) {
  uint64_t seed = 0x9E3779B97F4A7C15ull * (uint64_t)(id + 1);
  if (pinned) CHECK_OK(gr_pin());
  for (;;) {
    long round;
    CHECK_OK(gr_chan_recv(start[id], &round, GR_FOREVER));
    if (round < 0) break;
    if (pinned && rnd(&seed) % 2) CHECK_OK(gr_sleep(1000 + (int64_t)(rnd(&seed) % 50000)));
    gr_handle *h[3];
    int n = 1 + (int)(rnd(&seed) % 3);
    for (int i = 0; i < n; i++) {
      uint64_t r = rnd(&seed);
      gr_spawn_opts o;
      gr_spawn_opts_init(&o);
      if (r % 5 == 0) o.flags = GR_SPAWN_BOUND;
      CHECK_OK(gr_spawn_ex(kid, (void *)(uintptr_t)(r / 5 % 3), &o, &h[i]));
    }
    for (int i = 0; i < n; i++) {
      int rc = gr_wait(h[i], JOIN_NS);
      if (rc != GR_OK) {
        fprintf(stderr, "round %ld: actor %ld: a kid never ran (gr_wait: %s); the runtime:\n", round, id, gr_strerror(rc));
        gr_dump(2, 0);
        exit(1);
      }
      gr_handle_release(h[i]);
    }
    CHECK_OK(gr_chan_send(done, &id, GR_FOREVER));
  }
  if (pinned) CHECK_OK(gr_unpin());
}

static atomic_int bound_started;
static void bound_main(void *arg) { atomic_fetch_add(&bound_started, 1); actor((long)(intptr_t)arg, 0); }
static void pinned_main(void *arg) { actor((long)(intptr_t)arg, 1); }
static void *thread_main(void *arg) { actor((long)(intptr_t)arg, 0); return NULL; }

static long run(unsigned workers, double seconds) {
  init_workers(workers);
  atomic_store(&bound_started, 0);
  for (int i = 0; i < NACT; i++) CHECK_OK(gr_chan_new(sizeof(long), 1, &start[i]));
  CHECK_OK(gr_chan_new(sizeof(long), NACT, &done));
  gr_handle *bh[NBOUND + NPIN];
  pthread_t th[NTHREAD];
  for (int i = 0; i < NBOUND; i++) {
    gr_spawn_opts o;
    gr_spawn_opts_init(&o);
    o.flags = GR_SPAWN_BOUND;
    CHECK_OK(gr_spawn_ex(bound_main, (void *)(intptr_t)i, &o, &bh[i]));
  }
  /* A bound actor holds its thread for the whole run: a goroutine pinned to that thread
   * would never run again. Pinned actors start once every bound actor has a thread. */
  while (atomic_load(&bound_started) < NBOUND) usleep(1000);
  for (int i = 0; i < NPIN; i++) CHECK_OK(gr_spawn(pinned_main, (void *)(intptr_t)(NBOUND + NTHREAD + i), &bh[NBOUND + i]));
  for (int i = 0; i < NTHREAD; i++) CHECK(pthread_create(&th[i], NULL, thread_main, (void *)(intptr_t)(NBOUND + i)) == 0);
  long rounds = 0;
  double t0 = now_s();
  while (now_s() - t0 < seconds) {
    for (int i = 0; i < NACT; i++) CHECK_OK(gr_chan_send(start[i], &rounds, GR_FOREVER));
    for (int i = 0; i < NACT; i++) {
      long id;
      CHECK_OK(gr_chan_recv(done, &id, GR_FOREVER));
    }
    rounds++;
  }
  long stop = -1;
  for (int i = 0; i < NACT; i++) CHECK_OK(gr_chan_send(start[i], &stop, GR_FOREVER));
  for (int i = 0; i < NBOUND + NPIN; i++) { CHECK_OK(gr_wait(bh[i], GR_FOREVER)); gr_handle_release(bh[i]); }
  for (int i = 0; i < NTHREAD; i++) CHECK(pthread_join(th[i], NULL) == 0);
  for (int i = 0; i < NACT; i++) gr_chan_release(start[i]);
  gr_chan_release(done);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return rounds;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 0.6;
  pthread_t watch;
  CHECK(pthread_create(&watch, NULL, stall_watch, NULL) == 0);
  CHECK(pthread_detach(watch) == 0);
  for (unsigned w = 1; w <= 4; w++) {
    long before = atomic_load(&kids_run);
    long rounds = run(w, seconds);
    printf("workers %u: %ld rounds, %ld kids ran\n", w, rounds, atomic_load(&kids_run) - before);
    CHECK(rounds > 0);
  }
  return 0;
}
