/* Channel hand-offs between plain threads racing gr_shutdown. A plain thread that completes
 * a wait (hands a value to a parked peer, wakes a goroutine) pins the runtime for the
 * stretch (core/src/sched/grace.rs); the last of the stopped runtime's threads frees its
 * memory only once the pins taken before it was unpublished are dropped. Each round: 9
 * pairs of plain threads and 2 plain threads paired with goroutines ping-pong over
 * unbuffered channels (20 ms timeouts); once they are under way the main thread calls
 * gr_shutdown(0) and stops them 3 ms later, while the runtime's last threads end and free
 * it, and the threads go on waking the stopped runtime's goroutines (which are left parked,
 * never resumed). Every call returns GR_OK or a documented error, every echo is the value
 * sent plus one (or a late echo of an earlier one), and the program does not crash (make
 * test-c-san runs it under ASan and UBSan too). That the reclaimer waits for held pins is
 * the unit test `synchronize_waits_for_every_pin` in grace.rs: the window here (a pin held
 * across the unpublishing and the free, milliseconds apart) is too narrow to hit. */
#include "harness.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#define NPAIRS 9
#define NGPAIRS 2
#define ROUNDS 30
#define TIMEOUT (20 * 1000000LL)

typedef struct {
  gr_chan *a, *b; /* initiator -> echo, echo -> initiator */
} pair;

static pair pairs[NPAIRS + NGPAIRS];
static atomic_int stop;
static atomic_long handoffs, bad_rc, bad_echo;

/* Counts a code other than GR_OK and the documented ones; true if the loop is to end (the
   channel or the runtime is gone). */
static int ends(int rc) {
  if (rc != GR_OK && rc != GR_ETIMEDOUT && rc != GR_ESTATE && rc != GR_ECLOSED) atomic_fetch_add(&bad_rc, 1);
  return rc == GR_ESTATE || rc == GR_ECLOSED;
}

static void echo_loop(pair *p) {
  while (!atomic_load(&stop)) {
    int64_t v;
    int rc = gr_chan_recv(p->a, &v, TIMEOUT);
    if (ends(rc)) return;
    if (rc != GR_OK) continue;
    v += 1;
    if (ends(gr_chan_send(p->b, &v, TIMEOUT))) return;
  }
}

static void *echo_thread(void *arg) { echo_loop(arg); return NULL; }
static void echo_goroutine(void *arg) { echo_loop(arg); }

static void *initiator(void *arg) {
  pair *p = arg;
  int64_t v = 0;
  while (!atomic_load(&stop)) {
    v += 2;
    int rc = gr_chan_send(p->a, &v, TIMEOUT);
    if (ends(rc)) return NULL;
    if (rc != GR_OK) continue;
    int64_t w;
    rc = gr_chan_recv(p->b, &w, TIMEOUT);
    if (ends(rc)) return NULL;
    if (rc != GR_OK) continue;
    if (w == v + 1) {
      atomic_fetch_add(&handoffs, 1);
    } else if (!(w % 2 == 1 && w < v)) {
      /* A late echo of an earlier value whose receive timed out is fine: it is odd and
         smaller. Anything else is a lost or duplicated value. */
      atomic_fetch_add(&bad_echo, 1);
    }
  }
  return NULL;
}

int main(void) {
  long shutdown_ok = 0, shutdown_timedout = 0;
  for (int round = 0; round < ROUNDS; round++) {
    init_workers(2);
    atomic_store(&stop, 0);
    pthread_t t[2 * NPAIRS + NGPAIRS];
    int nt = 0;
    for (int i = 0; i < NPAIRS + NGPAIRS; i++) {
      CHECK_OK(gr_chan_new(sizeof(int64_t), 0, &pairs[i].a));
      CHECK_OK(gr_chan_new(sizeof(int64_t), 0, &pairs[i].b));
    }
    for (int i = 0; i < NPAIRS; i++) {
      CHECK(pthread_create(&t[nt++], NULL, echo_thread, &pairs[i]) == 0);
      CHECK(pthread_create(&t[nt++], NULL, initiator, &pairs[i]) == 0);
    }
    for (int i = NPAIRS; i < NPAIRS + NGPAIRS; i++) {
      CHECK_OK(gr_spawn(echo_goroutine, &pairs[i], NULL));
      CHECK(pthread_create(&t[nt++], NULL, initiator, &pairs[i]) == 0);
    }
    /* Every pair under way (or 2 s), then a little more, then the shutdown; the threads go
       on handing off (and waking the stopped runtime's goroutines) while its last threads
       end and free it. */
    long base = atomic_load(&handoffs);
    double t0 = now_s();
    while (atomic_load(&handoffs) < base + 4 * (NPAIRS + NGPAIRS) && now_s() - t0 < 2) usleep(100);
    usleep((round * 53) % 500);
    int rc = gr_shutdown(0);
    if (rc == GR_OK) shutdown_ok++;
    else if (rc == GR_ETIMEDOUT) shutdown_timedout++;
    else CHECK_RC(rc, GR_OK);
    usleep(3000);
    atomic_store(&stop, 1);
    for (int i = 0; i < nt; i++) pthread_join(t[i], NULL);
    /* The goroutine partners' channels stay: a goroutine of a stopped runtime may be left
       parked on one (never resumed; its entry borrows its stack). */
    for (int i = 0; i < NPAIRS; i++) {
      gr_chan_release(pairs[i].a);
      gr_chan_release(pairs[i].b);
    }
  }
  printf("%d rounds: %ld round trips completed, shutdown ok %ld / timed out %ld; %ld bad codes, %ld bad echoes\n",
         ROUNDS, atomic_load(&handoffs), shutdown_ok, shutdown_timedout, atomic_load(&bad_rc),
         atomic_load(&bad_echo));
  CHECK(atomic_load(&bad_rc) == 0);
  CHECK(atomic_load(&bad_echo) == 0);
  CHECK(atomic_load(&handoffs) > 0);
  return 0;
}
